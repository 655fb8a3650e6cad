"""radswift.archive."""
