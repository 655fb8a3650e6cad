"""The shared-volume contract now lives in radswift.podcontract.share (jobs/ and publisher/
both depend on it, neither on the other); this path is kept for code importing it."""

from radswift.podcontract.share import (
    CONTROL,
    DEFAULT_SHARE,
    EMISSARY_NAME,
    EXITCODE,
    GET_DONE,
    GET_FAILED,
    INCOMING,
    MAX_CONTROL_FILE_BYTES,
    OUTGOING,
    PUT_DONE,
    SHARED_DIR_MODE,
    STATUS_OBJECT,
    ShareLayout,
    make_shared_dir,
    read_control_file,
    read_marker,
    utc_now,
    write_marker,
)

__all__ = [
    "CONTROL",
    "DEFAULT_SHARE",
    "EMISSARY_NAME",
    "EXITCODE",
    "GET_DONE",
    "GET_FAILED",
    "INCOMING",
    "MAX_CONTROL_FILE_BYTES",
    "OUTGOING",
    "PUT_DONE",
    "SHARED_DIR_MODE",
    "STATUS_OBJECT",
    "ShareLayout",
    "make_shared_dir",
    "read_control_file",
    "read_marker",
    "utc_now",
    "write_marker",
]
