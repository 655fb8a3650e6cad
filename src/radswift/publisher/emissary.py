"""The emissary now lives in radswift.podcontract.emissary (the job backends build it,
the publisher installs it: both sides of the pod contract); kept for code importing it."""

from radswift.podcontract.emissary import (
    CFLAGS,
    SOURCE_NAME,
    build_emissary,
    install_emissary,
    source_path,
)

__all__ = ["CFLAGS", "SOURCE_NAME", "build_emissary", "install_emissary", "source_path"]
