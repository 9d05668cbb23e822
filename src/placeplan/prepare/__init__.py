"""placeplan.prepare."""
