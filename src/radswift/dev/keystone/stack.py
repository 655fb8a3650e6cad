"""A local Swift behind a local Keystone: what production Swift clusters look like.

`KeystoneSwift.start(workdir)` starts Keystone, makes the identities the tests need
(a domain other than `Default` with a project, a user and an application credential; a
user of the `Default` domain in that same project, as the legacy ChRIS credentials file
assumes; Swift's own service user), starts a LocalSwift whose proxy authenticates with
keystonemiddleware's `authtoken` + Swift's `keystoneauth`, and registers the Swift proxy
as the `object-store` endpoint (public, internal and admin) of the region.

Helpers write the credentials in every form radswift reads: the ChRIS file formats and
the `OS_*` environment.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from radswift.dev.keystone.config import KeystoneSettings
from radswift.dev.keystone.identity import ApplicationCredential, KeystoneAdmin, KeystoneUser
from radswift.dev.keystone.server import LocalKeystone
from radswift.dev.swift import (
    LocalSwift,
    PipelineFilter,
    ProxyAuth,
    default_venv_dir,
    ensure_swift_venv,
    install_extras,
)
from radswift.errors import RadswiftError

KEYSTONEMIDDLEWARE = "keystonemiddleware>=10"
DOMAIN = "radiology"
PROJECT = "chris-radiology"
USER = "radiologist"
LEGACY_USER = "chris-legacy"  # in Default: the legacy file names only the project's domain
SERVICE_USER = "swift"
SERVICE_PROJECT = "service"
OPERATOR_ROLES = ("admin", "member")


@dataclass(frozen=True, kw_only=True)
class Identities:
    """Who exists in the test Keystone (passwords and secrets stay out of repr)."""

    user: KeystoneUser
    """In domain `radiology`, member of project `chris-radiology` (also in `radiology`)."""
    legacy_user: KeystoneUser
    """In domain `Default`, member of the same project."""
    app_credential: ApplicationCredential
    """An application credential of `user`, scoped to the project."""
    service_user: KeystoneUser
    """Swift's authtoken user (project `service`, roles `service` and `admin`)."""


def keystone_proxy_auth(keystone: LocalKeystone, service: KeystoneUser) -> ProxyAuth:
    """The Swift proxy's auth filters for Keystone: authtoken, then keystoneauth."""
    authtoken = {
        "paste.filter_factory": "keystonemiddleware.auth_token:filter_factory",
        "www_authenticate_uri": keystone.auth_url,
        "auth_url": keystone.url,
        "auth_type": "password",
        "username": service.name,
        "password": service.password,
        "user_domain_name": service.domain_name,
        "project_name": service.project_name,
        "project_domain_name": service.project_domain_name,
        "delay_auth_decision": "true",
        "service_token_roles_required": "true",
        "include_service_catalog": "false",
        "http_request_max_retries": "3",
        # Re-validate a token after 5 s (default 300): voided tokens are refused soon.
        "token_cache_time": "5",
    }
    keystoneauth = {
        "use": "egg:swift#keystoneauth",
        "operator_roles": ", ".join(OPERATOR_ROLES),
        "reseller_admin_role": "ResellerAdmin",
    }
    return ProxyAuth(
        filters=(
            PipelineFilter(name="authtoken", options=authtoken),
            PipelineFilter(name="keystoneauth", options=keystoneauth),
        )
    )


class KeystoneSwift:
    """A running Keystone, the Swift behind it, an admin client and the test identities."""

    def __init__(
        self,
        keystone: LocalKeystone,
        swift: LocalSwift,
        admin: KeystoneAdmin,
        identities: Identities,
    ) -> None:
        self.keystone = keystone
        self.swift = swift
        self.admin = admin
        self.identities = identities

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        settings: KeystoneSettings | None = None,
        keystone_venv: Path | None = None,
        swift_venv: Path | None = None,
        environ: Mapping[str, str],
    ) -> KeystoneSwift:
        """Start both, make the identities, register Swift in the catalog (~30-60 s).
        `environ`: what Keystone's tools start from (LocalKeystone.start)."""
        keystone_dir, swift_dir = cls.workdirs(workdir.expanduser().resolve())
        keystone = LocalKeystone.start(
            keystone_dir, settings=settings, venv_dir=keystone_venv, environ=environ
        )
        swift: LocalSwift | None = None
        try:
            admin = KeystoneAdmin(keystone.auth_url, keystone.admin_password)
            identities = _make_identities(admin)
            venv = swift_venv or default_venv_dir()
            ensure_swift_venv(venv)
            install_extras(venv, [KEYSTONEMIDDLEWARE])
            swift = LocalSwift.start(
                swift_dir,
                proxy_pipeline=keystone_proxy_auth(keystone, identities.service_user),
                venv_dir=venv,
            )
            stack = cls(keystone, swift, admin, identities)
            for interface in ("public", "internal", "admin"):
                stack.add_object_store_endpoint(stack.object_store_url, interface=interface)
            return stack
        except BaseException:
            with contextlib.suppress(RadswiftError):
                if swift is not None:
                    swift.stop()
                keystone.stop()
            raise

    def stop(self) -> None:
        try:
            self.swift.stop()
        finally:
            self.keystone.stop()

    @staticmethod
    def workdirs(workdir: Path) -> tuple[Path, Path]:
        """(Keystone's, Swift's) work directories inside `workdir`."""
        return workdir / "keystone", workdir / "swift"

    def __repr__(self) -> str:
        return f"KeystoneSwift(keystone={self.keystone!r}, swift={self.swift!r})"

    # -- catalog ---------------------------------------------------------------------------

    @property
    def region(self) -> str:
        return self.keystone.settings.region

    @property
    def object_store_url(self) -> str:
        """The catalog URL template of the Swift proxy: `.../v1/AUTH_$(project_id)s`."""
        return f"{self.swift.url}/v1/AUTH_$(project_id)s"

    def storage_url(self, project_id: str | None = None) -> str:
        """The storage URL of a project (default: the test project)."""
        return f"{self.swift.url}/v1/AUTH_{project_id or self.identities.user.project_id}"

    def add_object_store_endpoint(
        self, url: str, *, interface: str, region: str | None = None
    ) -> str:
        """Register one more object-store endpoint (e.g. a bogus one); returns its id."""
        service_id = self.admin.ensure_service("object-store", "swift")
        return self.admin.add_endpoint(
            service_id, url, interface=interface, region=region or self.region
        )

    # -- credentials in every form radswift reads ---------------------------------------------

    def password_environ(self, user: KeystoneUser | None = None) -> dict[str, str]:
        """OS_* for password auth of `user` (default: the non-default-domain user)."""
        user = user or self.identities.user
        return {
            "OS_AUTH_URL": self.keystone.auth_url,
            "OS_USERNAME": user.name,
            "OS_PASSWORD": user.password,
            "OS_USER_DOMAIN_NAME": user.domain_name,
            "OS_PROJECT_NAME": user.project_name,
            "OS_PROJECT_DOMAIN_NAME": user.project_domain_name,
            "OS_REGION_NAME": self.region,
            "OS_INTERFACE": "public",
        }

    def app_credential_environ(
        self, credential: ApplicationCredential | None = None
    ) -> dict[str, str]:
        """OS_* for application-credential auth (default: the test user's credential)."""
        credential = credential or self.identities.app_credential
        return {
            "OS_AUTH_TYPE": "v3applicationcredential",
            "OS_AUTH_URL": self.keystone.auth_url,
            "OS_APPLICATION_CREDENTIAL_ID": credential.id,
            "OS_APPLICATION_CREDENTIAL_SECRET": credential.secret,
            "OS_REGION_NAME": self.region,
            "OS_INTERFACE": "public",
        }

    def write_password_file(
        self, path: Path, user: KeystoneUser | None = None, *, user_domain_key: bool = False
    ) -> Path:
        """The ChRIS file `[AUTHORIZATION] osAuthUrl/username/password` + `[PROJECT]`.

        Default user: `legacy_user` (Default domain, project in `radiology`), which the
        legacy format reaches as is. `user_domain_key` adds `osUserDomain` for a user of
        another domain (a radswift extension of the format)."""
        user = user or self.identities.legacy_user
        lines = [
            "[AUTHORIZATION]",
            f"osAuthUrl = {self.keystone.auth_url}",
            f"username = {user.name}",
            f"password = {user.password}",
        ]
        if user_domain_key:
            lines.append(f"osUserDomain = {user.domain_name}")
        lines += [
            "[PROJECT]",
            f"osProjectDomain = {user.project_domain_name}",
            f"osProjectName = {user.project_name}",
        ]
        return _write_secret(path, lines)

    def write_app_credential_file(
        self, path: Path, credential: ApplicationCredential | None = None
    ) -> Path:
        """The ChRIS file `[AUTHORIZATION] osAuthUrl` + `[SECRET] applicationId/Secret`."""
        credential = credential or self.identities.app_credential
        lines = [
            "[AUTHORIZATION]",
            f"osAuthUrl = {self.keystone.auth_url}",
            "[SECRET]",
            f"applicationId = {credential.id}",
            f"applicationSecret = {credential.secret}",
        ]
        return _write_secret(path, lines)


def stop_keystone_swift(workdir: Path) -> None:
    """Stop the Swift and the Keystone that `KeystoneSwift.start(workdir)` started."""
    keystone_dir, swift_dir = KeystoneSwift.workdirs(workdir.expanduser().resolve())
    try:
        LocalSwift.attach(swift_dir).stop()
    finally:
        LocalKeystone.attach(keystone_dir).stop()


def _make_identities(admin: KeystoneAdmin) -> Identities:
    service = admin.create_user(
        SERVICE_USER,
        secrets.token_urlsafe(18),
        domain="Default",
        project=SERVICE_PROJECT,
        project_domain="Default",
    )
    for role in ("service", "admin"):
        admin.grant(admin.ensure_role(role), service.id, service.project_id)
    user = admin.create_user(
        USER, secrets.token_urlsafe(18), domain=DOMAIN, project=PROJECT, project_domain=DOMAIN
    )
    legacy = admin.create_user(
        LEGACY_USER,
        secrets.token_urlsafe(18),
        domain="Default",
        project=PROJECT,
        project_domain=DOMAIN,
    )
    credential = admin.create_application_credential(user, "radswift-tests")
    return Identities(
        user=user, legacy_user=legacy, app_credential=credential, service_user=service
    )


def _write_secret(path: Path, lines: list[str]) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("\n".join(lines) + "\n")
    return path
