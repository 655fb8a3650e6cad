"""radswift.store."""
