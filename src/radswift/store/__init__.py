"""Object stores: the ObjectStore interface and its backends (Swift, a local directory)."""

from radswift.store.base import (
    DIRECTORY_CONTENT_TYPE,
    ObjectInfo,
    ObjectReader,
    ObjectStore,
    SegmentRef,
)
from radswift.store.factory import open_store
from radswift.store.local import LocalStore

__all__ = [
    "DIRECTORY_CONTENT_TYPE",
    "LocalStore",
    "ObjectInfo",
    "ObjectReader",
    "ObjectStore",
    "SegmentRef",
    "open_store",
]
