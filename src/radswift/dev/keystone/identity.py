"""Identities in a test Keystone, made through its real v3 API as `admin`.

`KeystoneAdmin` is a thin typed wrapper over the handful of v3 calls the tests need:
domains, projects, users, role grants, services, regions and endpoints, application
credentials. Application credentials are made by their owner (Keystone's policy lets a
user create them only for themselves), so those calls authenticate as that user.

Errors become ConfigError with Keystone's own message, which never holds a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from radswift.errors import ConfigError

DEFAULT_DOMAIN_ID = "default"
_TIMEOUT_S = 30.0


@dataclass(frozen=True, kw_only=True)
class KeystoneUser:
    """A user with a password, and the project (and its domain) it works in."""

    id: str
    name: str
    domain_name: str
    password: str = field(repr=False)
    project_id: str
    project_name: str
    project_domain_name: str


@dataclass(frozen=True, kw_only=True)
class ApplicationCredential:
    """An application credential; `secret` is shown once by Keystone, kept here only."""

    id: str
    name: str
    user_id: str
    project_id: str
    secret: str = field(repr=False)


def _session(auth: Any) -> Any:
    from keystoneauth1 import session

    return session.Session(auth=auth, timeout=_TIMEOUT_S)


def user_session(auth_url: str, user: KeystoneUser) -> Any:
    """A keystoneauth1 session of `user`, scoped to their project (by names and domains)."""
    from keystoneauth1.identity import v3

    return _session(
        v3.Password(
            auth_url=auth_url,
            username=user.name,
            password=user.password,
            user_domain_name=user.domain_name,
            project_name=user.project_name,
            project_domain_name=user.project_domain_name,
        )
    )


class KeystoneAdmin:
    """v3 calls as the bootstrap admin (project `admin` in domain `default`)."""

    def __init__(self, auth_url: str, admin_password: str) -> None:
        from keystoneauth1.identity import v3

        self.auth_url = auth_url.rstrip("/")
        self._session = _session(
            v3.Password(
                auth_url=self.auth_url,
                username="admin",
                password=admin_password,
                user_domain_id=DEFAULT_DOMAIN_ID,
                project_name="admin",
                project_domain_id=DEFAULT_DOMAIN_ID,
            )
        )

    def __repr__(self) -> str:
        return f"KeystoneAdmin(auth_url={self.auth_url!r})"

    # -- generic ---------------------------------------------------------------------------

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One v3 API call as admin; the decoded JSON body (None for 204)."""
        return call(self._session, method, f"{self.auth_url}{path}", body)

    def _find(self, collection: str, name: str, **filters: str) -> str | None:
        query = "&".join(f"{k}={v}" for k, v in {"name": name, **filters}.items())
        found = self.call("GET", f"/{collection}?{query}")[collection]
        return str(found[0]["id"]) if found else None

    def _ensure(self, collection: str, name: str, body: dict[str, Any], **filters: str) -> str:
        existing = self._find(collection, name, **filters)
        if existing is not None:
            return existing
        singular = collection[:-1]
        created = self.call("POST", f"/{collection}", {singular: {"name": name, **body}})
        return str(created[singular]["id"])

    # -- identities ------------------------------------------------------------------------

    def ensure_domain(self, name: str) -> str:
        return self._ensure("domains", name, {"enabled": True})

    def ensure_project(self, name: str, domain_id: str) -> str:
        return self._ensure("projects", name, {"domain_id": domain_id}, domain_id=domain_id)

    def ensure_role(self, name: str) -> str:
        return self._ensure("roles", name, {})

    def grant(self, role_id: str, user_id: str, project_id: str) -> None:
        self.call("PUT", f"/projects/{project_id}/users/{user_id}/roles/{role_id}")

    def create_user(
        self, name: str, password: str, *, domain: str, project: str, project_domain: str
    ) -> KeystoneUser:
        """A user in `domain` with role `member` on `project` (in `project_domain`)."""
        domain_id = self.ensure_domain(domain)
        project_domain_id = self.ensure_project_domain(project_domain)
        project_id = self.ensure_project(project, project_domain_id)
        user_id = self._find("users", name, domain_id=domain_id)
        if user_id is None:
            body = {"name": name, "domain_id": domain_id, "password": password, "enabled": True}
            user_id = str(self.call("POST", "/users", {"user": body})["user"]["id"])
        else:
            # Revokes the user's tokens, including any issued within this same second
            # (revocation has a one-second granularity): only done for an existing user.
            self.call("PATCH", f"/users/{user_id}", {"user": {"password": password}})
        self.grant(self.ensure_role("member"), user_id, project_id)
        return KeystoneUser(
            id=user_id,
            name=name,
            domain_name=domain,
            password=password,
            project_id=project_id,
            project_name=project,
            project_domain_name=project_domain,
        )

    def ensure_project_domain(self, name: str) -> str:
        return DEFAULT_DOMAIN_ID if name.lower() == DEFAULT_DOMAIN_ID else self.ensure_domain(name)

    # -- catalog ---------------------------------------------------------------------------

    def ensure_service(self, service_type: str, name: str) -> str:
        found = self.call("GET", f"/services?type={service_type}")["services"]
        if found:
            return str(found[0]["id"])
        body = {"service": {"type": service_type, "name": name, "enabled": True}}
        return str(self.call("POST", "/services", body)["service"]["id"])

    def ensure_region(self, region: str) -> None:
        regions = {r["id"] for r in self.call("GET", "/regions")["regions"]}
        if region not in regions:
            self.call("POST", "/regions", {"region": {"id": region}})

    def add_endpoint(self, service_id: str, url: str, *, interface: str, region: str) -> str:
        """Register an endpoint; `url` may hold `$(project_id)s`. Returns its id."""
        self.ensure_region(region)
        body = {
            "endpoint": {
                "service_id": service_id,
                "url": url,
                "interface": interface,
                "region_id": region,
                "enabled": True,
            }
        }
        return str(self.call("POST", "/endpoints", body)["endpoint"]["id"])

    def delete_endpoint(self, endpoint_id: str) -> None:
        self.call("DELETE", f"/endpoints/{endpoint_id}")

    # -- application credentials -------------------------------------------------------------

    def create_application_credential(
        self, owner: KeystoneUser, name: str
    ) -> ApplicationCredential:
        """An application credential of `owner` on their project (made as `owner`)."""
        session = user_session(self.auth_url, owner)
        created = call(
            session,
            "POST",
            f"{self.auth_url}/users/{owner.id}/application_credentials",
            {"application_credential": {"name": name}},
        )["application_credential"]
        return ApplicationCredential(
            id=created["id"],
            name=created["name"],
            user_id=owner.id,
            project_id=created["project_id"],
            secret=created["secret"],
        )

    def delete_application_credential(self, credential: ApplicationCredential) -> None:
        """Revoke: Keystone forgets it, and the tokens it issued stop validating."""
        self.call("DELETE", f"/users/{credential.user_id}/application_credentials/{credential.id}")


def call(session: Any, method: str, url: str, body: dict[str, Any] | None) -> Any:
    """One request through a keystoneauth1 session; ConfigError on failure."""
    from keystoneauth1 import exceptions as ks

    try:
        resp = session.request(url, method, json=body, raise_exc=True)
    except ks.HttpError as exc:
        raise ConfigError(
            f"Keystone {method} {url} failed: HTTP {exc.http_status} {exc.message}"
        ) from None
    except ks.ClientException as exc:
        raise ConfigError(f"Keystone {method} {url} failed: {type(exc).__name__}") from None
    return resp.json() if resp.content else None
