"""The transfer engine: local trees to and from an ObjectStore, concurrent and verified.

    upload_tree(store, source, container, prefix, options=..., progress=...) -> TransferResult
    download_tree(store, container, prefix, dest, options=..., progress=...) -> TransferResult
    upload_file / download_object: one file or object

Memory does not depend on data size (everything streams); every object is checked
against the store's MD5s; per-file failures are collected in the TransferResult
(`raise_for_failures()` turns them into a TransferError), while errors no file could
escape (credentials rejected, store unreachable) stop the transfer and are raised.
"""

from radswift.transfer.download import download_object, download_tree
from radswift.transfer.options import TransferOptions
from radswift.transfer.progress import NullProgress, Progress
from radswift.transfer.results import TransferResult
from radswift.transfer.upload import upload_file, upload_tree

__all__ = [
    "NullProgress",
    "Progress",
    "TransferOptions",
    "TransferResult",
    "download_object",
    "download_tree",
    "upload_file",
    "upload_tree",
]
