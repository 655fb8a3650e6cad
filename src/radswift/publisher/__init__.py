"""radswift.publisher."""
