"""radswift.transfer."""
