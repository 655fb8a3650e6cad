"""Every error radswift raises on purpose, in one tree.

Callers catch the branch they can act on; the library's own dependencies
(urllib3, keystoneauth1, swiftclient, kubernetes) never leak out of the layer
that uses them: that layer translates them into one of these.

    RadswiftError                      base: a message fit to show a user, plus `reason`
    ├── ConfigError                    configuration missing, unreadable or inconsistent
    │   └── CredentialsError           Swift credentials missing or malformed
    ├── InvalidInput                   a request or argument is wrong (HTTP 400/413/422)
    │   ├── InvalidName                key / object name breaks Swift's rules
    │   ├── Unsupported                valid, but not something this backend can do (HTTP 422)
    │   └── UnsafeArchive              entry escapes its target, a link, a bomb (HTTP 400/413)
    ├── StorageError                   the object store failed
    │   ├── AuthenticationError        credentials rejected (HTTP 401 from auth)
    │   ├── StorageUnavailable         cannot reach the store, or it keeps failing (HTTP 503)
    │   ├── NotFound                   container or object does not exist (HTTP 404)
    │   │   └── NoInput                a job key has no input/ (publisher get: exit 3)
    │   ├── Conflict                   e.g. deleting a non-empty container (HTTP 409)
    │   └── IntegrityError             bytes received differ from what the store vouches for
    ├── TransferError                  one or more files of a tree transfer failed
    ├── AuthorizationError             a service request without a valid token (HTTP 401)
    ├── Overloaded                     a service refuses more work now; retry later (HTTP 429)
    └── JobError                       a job could not be run, or its processor failed
        ├── ProcessorFailed            the processor exited non-zero (publisher put)
        └── WaitFailed                 waiting for the processor failed (API refused, signal)
            └── DeadlineExceeded       ... because the deadline passed (exit 124, as timeout(1))

`http_status` says which HTTP status a service maps the error to and
`exit_code` which exit code the CLI returns; both are decided here, once.
"""

from __future__ import annotations

from collections.abc import Sequence


class RadswiftError(Exception):
    """Base of radswift's errors. `str(err)` is a message fit to show a user."""

    http_status: int = 500
    exit_code: int = 1

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or type(self).__name__


class ConfigError(RadswiftError):
    """Configuration is missing, unreadable or inconsistent."""

    http_status = 500
    exit_code = 78  # EX_CONFIG


class CredentialsError(ConfigError):
    """Swift credentials are missing or malformed (never carries a secret)."""


class InvalidInput(RadswiftError):
    """A request or an argument is wrong; the caller must change it. `too_large`: it
    breaks a size limit (HTTP 413)."""

    http_status = 400
    exit_code = 2

    def __init__(self, message: str, *, reason: str | None = None, too_large: bool = False):
        super().__init__(message, reason=reason)
        if too_large:
            self.http_status = 413


class InvalidName(InvalidInput):
    """A key (container) or object name breaks Swift's naming rules."""


class Unsupported(InvalidInput):
    """A well-formed request that the chosen backend cannot honour (e.g. GPUs on a backend
    without any): the message names the backend."""

    http_status = 422


class UnsafeArchive(InvalidInput):
    """An archive entry would escape its target, is a link, or the archive is a bomb."""


class StorageError(RadswiftError):
    """The object store failed. `trans_id` is Swift's X-Trans-Id when there was one."""

    http_status = 502
    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        status: int | None = None,
        trans_id: str | None = None,
    ) -> None:
        if trans_id:
            message = f"{message} (transaction {trans_id})"
        super().__init__(message, reason=reason)
        self.status = status
        self.trans_id = trans_id


class AuthenticationError(StorageError):
    """The store rejected our credentials."""

    http_status = 502
    exit_code = 77  # EX_NOPERM


class StorageUnavailable(StorageError):
    """The store cannot be reached, or kept failing after retries."""

    http_status = 503
    exit_code = 69  # EX_UNAVAILABLE


class NotFound(StorageError):
    """The container or object does not exist."""

    http_status = 404
    exit_code = 1


class NoInput(NotFound):
    """A job key has no `input/` objects (or no container): the publisher's get exits 3."""

    exit_code = 3


class Conflict(StorageError):
    """The request conflicts with the current state (e.g. container not empty)."""

    http_status = 409


class IntegrityError(StorageError):
    """Bytes received differ from what the store vouches for (MD5/ETag or length)."""


class TransferError(RadswiftError):
    """Some files of a tree transfer failed; `failures` names them with their reasons."""

    def __init__(
        self, message: str, failures: Sequence[tuple[str, str]], *, reason: str | None = None
    ) -> None:
        super().__init__(message, reason=reason)
        self.failures = list(failures)


class AuthorizationError(RadswiftError):
    """A service request lacks a valid token."""

    http_status = 401
    exit_code = 77


class Overloaded(RadswiftError):
    """A service is at one of its caps (pushes in flight, per client, per key): the
    request is refused at once rather than queued, and may be retried later."""

    http_status = 429
    exit_code = 75  # EX_TEMPFAIL


class JobError(RadswiftError):
    """A job could not be run, or its processor failed."""


class ProcessorFailed(JobError):
    """The processor exited non-zero or was killed; its outputs were still published."""


class WaitFailed(JobError):
    """Waiting for the processor failed (the API refused us, or we were told to stop)."""

    exit_code = 75  # EX_TEMPFAIL


class DeadlineExceeded(WaitFailed):
    """The processor did not finish before the deadline."""

    exit_code = 124  # as timeout(1)
