"""radswift: move radiology data between people, OpenStack Swift and image-processing jobs."""

__version__ = "0.1.0"
