"""radswift.services.ioh."""
