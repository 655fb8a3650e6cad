"""radswift.jobs."""
