"""placeplan.publish."""
