"""placeplan.compute."""
