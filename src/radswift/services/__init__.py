"""radswift.services."""
