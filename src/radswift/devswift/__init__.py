"""radswift.devswift."""
