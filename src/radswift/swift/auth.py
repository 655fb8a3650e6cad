"""Authenticators: from credentials to a (storage URL, token), renewed before it expires.

- v1 tempauth: one GET of the auth URL over our own pool; the token's lifetime comes
  from `X-Auth-Token-Expires` and the token is renewed a margin before it ends.
- Keystone v3 (password or application credential): keystoneauth1 sessions, which
  renew tokens before expiry themselves; the object-store endpoint is picked from the
  catalog by region and interface.
- Pre-authenticated: a fixed URL and token; nothing to renew.

All are thread-safe. `invalidate(token)` is called after a 401: only the first caller
holding that token forces a renewal, so concurrent workers do not stampede the auth
server. Errors are radswift's: AuthenticationError (rejected), StorageUnavailable
(unreachable or failing: the caller may retry), CredentialsError (the catalog has no
matching endpoint). No keystoneauth1/urllib3 exception escapes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import urllib3

from radswift.errors import AuthenticationError, CredentialsError, StorageUnavailable
from radswift.swift.credentials import AuthKind, SwiftCredentials
from radswift.swift.http import ConnectionProblem, Unreachable, diagnose, origin_of

RENEW_MARGIN_SECONDS = 60.0
"""Renew a v1 token this long before it expires (or at half its life if shorter)."""
OBJECT_STORE = "object-store"


@dataclass(frozen=True, slots=True)
class Endpoint:
    storage_url: str
    token: str = field(repr=False)
    hint: str = ""
    """Where the storage URL came from, said when it cannot be reached."""


class Authenticator(Protocol):
    def endpoint(self) -> Endpoint:
        """A storage URL and a token valid for a while."""
        ...

    def invalidate(self, token: str) -> bool:
        """Forget `token` after Swift refused it; False if no other token can be obtained."""
        ...

    def describe(self) -> str: ...


def make_authenticator(
    creds: SwiftCredentials, http: urllib3.PoolManager, *, timeout: float
) -> Authenticator:
    """The authenticator for the kind of credentials."""
    if creds.kind is AuthKind.V1:
        return V1Authenticator(creds, http)
    if creds.kind is AuthKind.PREAUTHENTICATED:
        return StaticAuthenticator(creds)
    return KeystoneAuthenticator(creds, timeout=timeout)


class StaticAuthenticator:
    """A storage URL and token obtained elsewhere (OS_STORAGE_URL + OS_AUTH_TOKEN)."""

    def __init__(self, creds: SwiftCredentials) -> None:
        self._endpoint = Endpoint(creds.storage_url, creds.token, storage_url_hint(creds))
        self._creds = creds

    def endpoint(self) -> Endpoint:
        return self._endpoint

    def invalidate(self, token: str) -> bool:
        return False

    def describe(self) -> str:
        return self._creds.describe()


class V1Authenticator:
    """tempauth/swauth: `GET auth_url` with X-Auth-User/X-Auth-Key."""

    def __init__(
        self,
        creds: SwiftCredentials,
        http: urllib3.PoolManager,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._creds = creds
        self._http = http
        self._clock = clock
        self._lock = threading.Lock()
        self._current: Endpoint | None = None
        self._renew_at = 0.0

    def describe(self) -> str:
        return self._creds.describe()

    def endpoint(self) -> Endpoint:
        with self._lock:
            if self._current is None or self._clock() >= self._renew_at:
                self._current = self._fetch()
            return self._current

    def invalidate(self, token: str) -> bool:
        with self._lock:
            if self._current is not None and self._current.token == token:
                self._current = None
        return True

    def _fetch(self) -> Endpoint:
        creds = self._creds
        headers = {"X-Auth-User": creds.username, "X-Auth-Key": creds.password}
        try:
            resp = self._http.request("GET", creds.auth_url, headers=headers, redirect=False)
        except urllib3.exceptions.HTTPError as exc:
            raise Unreachable(
                "Swift auth", origin_of(creds.auth_url), diagnose(exc), auth_url_hint(creds)
            ) from None
        trans_id = resp.headers.get("X-Trans-Id")
        if resp.status in (401, 403):
            raise AuthenticationError(
                f"Swift auth at {creds.auth_url} rejected the credentials of user "
                f"{creds.username!r} (HTTP {resp.status}); {credentials_hint(creds)}",
                status=resp.status,
                trans_id=trans_id,
            )
        if resp.status >= 300 or not resp.headers.get("X-Auth-Token"):
            raise StorageUnavailable(
                f"Swift auth at {creds.auth_url} answered HTTP {resp.status}",
                status=resp.status,
                trans_id=trans_id,
            )
        url = resp.headers.get("X-Storage-Url") or resp.headers.get("X-Server-Management-Url")
        if not url:
            raise AuthenticationError(f"Swift auth at {creds.auth_url} returned no storage URL")
        self._renew_at = self._clock() + renew_after(resp.headers.get("X-Auth-Token-Expires"))
        token = resp.headers["X-Auth-Token"]
        return Endpoint(url.rstrip("/"), token, storage_url_hint(creds))


def renew_after(expires_header: str | None) -> float:
    """Seconds until a v1 token should be renewed, from `X-Auth-Token-Expires`.

    Without the header (or if unreadable) assume a day, like tempauth's default; a 401
    renews anyway."""
    try:
        lifetime = float(expires_header) if expires_header else 86400.0
    except ValueError:
        lifetime = 86400.0
    return max(0.0, lifetime - min(RENEW_MARGIN_SECONDS, lifetime / 2))


class KeystoneAuthenticator:
    """Keystone v3 via keystoneauth1: password or application credential."""

    def __init__(self, creds: SwiftCredentials, *, timeout: float) -> None:
        from keystoneauth1 import session

        self._creds = creds
        self._session = session.Session(auth=keystone_plugin(creds), timeout=timeout)
        self._lock = threading.Lock()
        self._current: Endpoint | None = None

    def describe(self) -> str:
        return self._creds.describe()

    def endpoint(self) -> Endpoint:
        with self._lock:
            try:
                token = self._session.get_token()  # renewed by keystoneauth1 when due
                if self._current is not None and self._current.token == token:
                    return self._current  # the catalog lookup only once per token
                url = self._session.get_endpoint(
                    service_type=OBJECT_STORE,
                    interface=self._creds.interface,
                    region_name=self._creds.region_name or None,
                )
            except Exception as exc:  # keystoneauth1's tree; translated, never leaked
                raise translate_keystone_error(exc, self._creds) from None
            if not url:
                raise CredentialsError(no_endpoint_message(self._creds))
            if not token:
                raise AuthenticationError(f"Keystone at {self._creds.auth_url} issued no token")
            self._current = Endpoint(url.rstrip("/"), token, storage_url_hint(self._creds))
            return self._current

    def invalidate(self, token: str) -> bool:
        with self._lock:
            if self._current is not None and self._current.token == token:
                self._session.invalidate()
                self._current = None
        return True


def keystone_plugin(creds: SwiftCredentials) -> Any:
    """The keystoneauth1 v3 plugin for the credentials (only the fields that are set)."""
    from keystoneauth1.identity import v3

    auth_url = versioned_auth_url(creds.auth_url)
    if creds.kind is AuthKind.APPLICATION_CREDENTIAL:
        return v3.ApplicationCredential(
            auth_url=auth_url,
            application_credential_id=creds.application_credential_id,
            application_credential_secret=creds.application_credential_secret,
        )
    return v3.Password(
        auth_url=auth_url,
        username=creds.username,
        password=creds.password,
        project_name=creds.project_name or None,
        project_id=creds.project_id or None,
        project_domain_name=creds.project_domain_name or None,
        project_domain_id=creds.project_domain_id or None,
        user_domain_name=creds.user_domain_name or None,
        user_domain_id=creds.user_domain_id or None,
    )


def versioned_auth_url(url: str) -> str:
    """keystoneauth1's v3 plugins post to `<auth_url>/auth/tokens`: make sure it ends in /v3."""
    url = url.rstrip("/")
    if url.endswith("/v3"):
        return url
    if url.endswith("/v2.0"):
        return url[: -len("/v2.0")] + "/v3"
    return url + "/v3"


def no_endpoint_message(creds: SwiftCredentials) -> str:
    region = f" in region {creds.region_name!r}" if creds.region_name else ""
    return (
        f"the Keystone catalog at {creds.auth_url} has no {OBJECT_STORE} endpoint "
        f"with interface {creds.interface!r}{region}"
    )


def translate_keystone_error(exc: Exception, creds: SwiftCredentials) -> Exception:
    """A radswift error for a keystoneauth1 exception (messages carry no secret)."""
    from keystoneauth1 import exceptions as ks

    where = f"Keystone at {creds.auth_url}"
    if isinstance(exc, ks.Unauthorized):
        who = creds.application_credential_id or creds.username
        return AuthenticationError(
            f"{where} rejected the credentials of {who!r}; {credentials_hint(creds)}", status=401
        )
    if isinstance(exc, ks.EndpointNotFound):
        return CredentialsError(no_endpoint_message(creds))
    if isinstance(exc, ks.NotFound) and creds.kind is AuthKind.APPLICATION_CREDENTIAL:
        # Keystone answers 404, not 401, for an application credential that was deleted.
        return AuthenticationError(
            f"{where} rejected the credentials of {creds.application_credential_id!r}: "
            "no such application credential (deleted or revoked?)",
            status=404,
        )
    if isinstance(exc, ks.HttpError):
        status = exc.http_status or 0
        if status >= 500 or status in (429, 498):
            return StorageUnavailable(f"{where} answered HTTP {status}", status=status)
        return AuthenticationError(
            f"{where} refused to authenticate (HTTP {status})", status=status
        )
    if isinstance(exc, ks.ConnectionError):
        problem = diagnose(exc)
        if problem.words == type(exc).__name__:  # no socket error underneath to tell more
            timed_out = isinstance(exc, ks.ConnectTimeout)
            problem = ConnectionProblem("connection timed out" if timed_out else "no connection")
        origin = origin_of(creds.auth_url)
        return Unreachable("Keystone", origin, problem, auth_url_hint(creds))
    if isinstance(exc, ks.ClientException):
        return AuthenticationError(f"{where}: authentication failed ({type(exc).__name__})")
    return exc


def auth_url_hint(creds: SwiftCredentials) -> str:
    """Which setting to check when the auth URL cannot be reached."""
    if creds.source == "ST_* environment":
        return "check ST_AUTH"
    if creds.source == "OS_* environment":
        return "check OS_AUTH_URL"
    return f"check osAuthUrl in {creds.source}" if creds.source else "check the auth URL"


def credentials_hint(creds: SwiftCredentials) -> str:
    """Which settings to check when the credentials are rejected (names, never values)."""
    if creds.source == "ST_* environment":
        return "check ST_USER and ST_KEY"
    if creds.source == "OS_* environment":
        if creds.kind is AuthKind.APPLICATION_CREDENTIAL:
            return "check OS_APPLICATION_CREDENTIAL_ID and OS_APPLICATION_CREDENTIAL_SECRET"
        return "check OS_USERNAME and OS_PASSWORD (and the project and domain names)"
    where = f" in {creds.source}" if creds.source else ""
    return f"check the user name and password{where}"


def storage_url_hint(creds: SwiftCredentials) -> str:
    """Where the storage URL came from, to say when it cannot be reached.

    Only a pre-authenticated URL is the user's own; the others are handed out by the auth
    service, and a catalog's `internal` endpoint is often unreachable from outside."""
    if creds.kind is AuthKind.PREAUTHENTICATED:
        return "check OS_STORAGE_URL"
    if creds.kind is AuthKind.V1:
        return f"Swift auth at {origin_of(creds.auth_url)} handed out this storage URL"
    return (
        f"it is the {creds.interface} object-store endpoint of the Keystone catalog at "
        f"{origin_of(creds.auth_url)}; another OS_INTERFACE or OS_REGION_NAME may work"
    )
