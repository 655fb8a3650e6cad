"""Which errors fail one file and which end the whole transfer, and how to word them."""

from __future__ import annotations

from radswift.errors import AuthenticationError, RadswiftError, StorageUnavailable


def is_fatal(exc: BaseException) -> bool:
    """Errors that every following file would hit too: stop instead of failing them all."""
    return isinstance(exc, AuthenticationError | StorageUnavailable)


def reason_of(exc: BaseException) -> str:
    """A short reason for the failure list (OSError's strerror, our errors' message)."""
    if isinstance(exc, RadswiftError):
        return exc.message
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}"
