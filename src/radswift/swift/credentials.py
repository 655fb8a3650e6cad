"""Swift credentials: one frozen value, read from the environment or the ChRIS file.

Four kinds, as deployments actually have them:

- `V1`: tempauth / swauth (`ST_AUTH`, `ST_USER`, `ST_KEY`, or a credentials file whose
  `osAuthUrl` ends in `/auth/v1.0`);
- `PASSWORD`: Keystone v3 user + password scoped to a project (`OS_*`, or the historical
  ChRIS file with `[AUTHORIZATION]` + `[PROJECT]`);
- `APPLICATION_CREDENTIAL`: Keystone v3 application credential (`OS_APPLICATION_CREDENTIAL_*`,
  or the later ChRIS file with `[SECRET] applicationId, applicationSecret`);
- `PREAUTHENTICATED`: a storage URL and a token someone else obtained
  (`OS_STORAGE_URL` + `OS_AUTH_TOKEN`).

Secrets (password, key, application secret, token) are excluded from `repr`/`str`, and no
error raised here ever quotes a value read from a file or the environment: errors name the
missing field only.
"""

from __future__ import annotations

import configparser
import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from radswift.errors import CredentialsError

DEFAULT_CREDENTIALS_FILE = Path("/etc/swift/swift-credentials.cfg")
DEFAULT_DOMAIN = "Default"
"""Keystone's default domain, used when neither a domain name nor id is given."""
DEFAULT_INTERFACE = "public"


class AuthKind(enum.StrEnum):
    V1 = "v1"
    PASSWORD = "v3password"  # noqa: S105 (a kind name, not a secret)
    APPLICATION_CREDENTIAL = "v3applicationcredential"
    PREAUTHENTICATED = "preauthenticated"


@dataclass(frozen=True, slots=True, kw_only=True)
class SwiftCredentials:
    """Everything needed to obtain a storage URL and a token. Secrets never show in repr."""

    kind: AuthKind
    auth_url: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    """The v1 key or the Keystone password."""
    project_name: str = ""
    project_id: str = ""
    project_domain_name: str = ""
    project_domain_id: str = ""
    user_domain_name: str = ""
    user_domain_id: str = ""
    region_name: str = ""
    interface: str = DEFAULT_INTERFACE
    application_credential_id: str = ""
    application_credential_secret: str = field(default="", repr=False)
    storage_url: str = ""
    token: str = field(default="", repr=False)
    source: str = ""
    """Where these came from (an environment prefix or a file path), for messages."""

    def describe(self) -> str:
        """A one-line, secret-free description for messages and logs."""
        if self.kind is AuthKind.PREAUTHENTICATED:
            return f"pre-authenticated storage URL {self.storage_url}"
        who = self.application_credential_id or self.username
        where = f" from {self.source}" if self.source else ""
        return f"{self.kind.value} auth as {who!r} at {self.auth_url}{where}"


def resolve_credentials(
    environ: Mapping[str, str], credentials_file: Path | None
) -> SwiftCredentials:
    """The credentials to use: an explicit file, else the environment, else the default file."""
    if credentials_file is not None:
        return credentials_from_file(credentials_file)
    found = credentials_from_environ(environ)
    if found is not None:
        return found
    if DEFAULT_CREDENTIALS_FILE.is_file():
        return credentials_from_file(DEFAULT_CREDENTIALS_FILE)
    raise CredentialsError(
        "no Swift credentials: set ST_AUTH/ST_USER/ST_KEY, or OS_AUTH_URL with OS_USERNAME/"
        "OS_PASSWORD or OS_APPLICATION_CREDENTIAL_ID/OS_APPLICATION_CREDENTIAL_SECRET, or "
        f"OS_STORAGE_URL/OS_AUTH_TOKEN, or provide {DEFAULT_CREDENTIALS_FILE}"
    )


def credentials_from_environ(environ: Mapping[str, str]) -> SwiftCredentials | None:
    """Credentials from the swift CLI's ST_* or OpenStack's OS_* variables; None if neither."""

    def get(name: str) -> str:
        return environ.get(name, "").strip()

    if get("ST_AUTH"):
        _require({"ST_USER": get("ST_USER"), "ST_KEY": get("ST_KEY")}, "the environment")
        return SwiftCredentials(
            kind=AuthKind.V1,
            auth_url=get("ST_AUTH"),
            username=get("ST_USER"),
            password=get("ST_KEY"),
            source="ST_* environment",
        )
    if get("OS_STORAGE_URL") and get("OS_AUTH_TOKEN"):
        return SwiftCredentials(
            kind=AuthKind.PREAUTHENTICATED,
            storage_url=get("OS_STORAGE_URL").rstrip("/"),
            token=get("OS_AUTH_TOKEN"),
            source="OS_* environment",
        )
    if not get("OS_AUTH_URL"):
        return None
    return _keystone_from_environ(get)


def _keystone_from_environ(get: Callable[[str], str]) -> SwiftCredentials:
    common = {
        "auth_url": get("OS_AUTH_URL"),
        "region_name": get("OS_REGION_NAME"),
        "interface": normalize_interface(get("OS_INTERFACE")),
        "source": "OS_* environment",
    }
    if get("OS_APPLICATION_CREDENTIAL_ID"):
        _require(
            {"OS_APPLICATION_CREDENTIAL_SECRET": get("OS_APPLICATION_CREDENTIAL_SECRET")},
            "the environment",
        )
        return SwiftCredentials(
            kind=AuthKind.APPLICATION_CREDENTIAL,
            application_credential_id=get("OS_APPLICATION_CREDENTIAL_ID"),
            application_credential_secret=get("OS_APPLICATION_CREDENTIAL_SECRET"),
            **common,
        )
    _require(
        {"OS_USERNAME": get("OS_USERNAME"), "OS_PASSWORD": get("OS_PASSWORD")}, "the environment"
    )
    if is_v1_auth_url(get("OS_AUTH_URL")):
        return SwiftCredentials(
            kind=AuthKind.V1,
            auth_url=get("OS_AUTH_URL"),
            username=get("OS_USERNAME"),
            password=get("OS_PASSWORD"),
            source="OS_* environment",
        )
    if not (get("OS_PROJECT_NAME") or get("OS_PROJECT_ID")):
        raise CredentialsError("the environment lacks OS_PROJECT_NAME (or OS_PROJECT_ID)")
    return SwiftCredentials(
        kind=AuthKind.PASSWORD,
        username=get("OS_USERNAME"),
        password=get("OS_PASSWORD"),
        project_name=get("OS_PROJECT_NAME"),
        project_id=get("OS_PROJECT_ID"),
        **_domains(
            get("OS_PROJECT_DOMAIN_NAME"),
            get("OS_PROJECT_DOMAIN_ID"),
            get("OS_USER_DOMAIN_NAME"),
            get("OS_USER_DOMAIN_ID"),
        ),
        **common,
    )


def credentials_from_file(path: Path) -> SwiftCredentials:
    """Credentials from the ChRIS INI file, in any of its historical formats.

    Section and key names are matched case-insensitively, ignoring `_`, `-` and spaces
    (`osAuthUrl`, `os_auth_url` and `OSAUTHURL` are the same key)."""
    sections = _read_ini(path)
    auth = sections.get("AUTHORIZATION", {})
    secret = sections.get("SECRET", {})
    project = sections.get("PROJECT", {})
    source = str(path)
    auth_url = auth.get("osauthurl", "") or auth.get("authurl", "")
    if not auth_url:
        raise CredentialsError(f"{source}: [AUTHORIZATION] lacks osAuthUrl")
    optional = {
        "region_name": _first(auth, project, key="osregionname", alt="region"),
        "interface": normalize_interface(_first(auth, project, key="osinterface", alt="interface")),
    }
    if secret or "applicationid" in auth:
        return _application_credential_from_file(auth_url, secret or auth, source, optional)
    user = {"username": auth.get("username", ""), "password": auth.get("password", "")}
    _require(user, f"{source} [AUTHORIZATION]")
    if is_v1_auth_url(auth_url):
        return SwiftCredentials(kind=AuthKind.V1, auth_url=auth_url, source=source, **user)
    project_name = project.get("osprojectname", "") or project.get("projectname", "")
    if not project_name:
        raise CredentialsError(f"{source}: [PROJECT] lacks osProjectName")
    domain = project.get("osprojectdomain", "") or project.get("projectdomain", "")
    user_domain = auth.get("osuserdomain", "") or auth.get("userdomain", "")
    return SwiftCredentials(
        kind=AuthKind.PASSWORD,
        auth_url=auth_url,
        project_name=project_name,
        source=source,
        **user,
        **_domains(domain, "", user_domain, ""),
        **optional,
    )


def _application_credential_from_file(
    auth_url: str, values: Mapping[str, str], source: str, optional: Mapping[str, str]
) -> SwiftCredentials:
    """The later ChRIS format: `[SECRET] applicationId, applicationSecret`."""
    fields = {
        "applicationId": values.get("applicationid", ""),
        "applicationSecret": values.get("applicationsecret", ""),
    }
    _require(fields, f"{source} [SECRET]")
    return SwiftCredentials(
        kind=AuthKind.APPLICATION_CREDENTIAL,
        auth_url=auth_url,
        application_credential_id=fields["applicationId"],
        application_credential_secret=fields["applicationSecret"],
        source=source,
        **optional,
    )


def is_v1_auth_url(url: str) -> bool:
    """True for a tempauth/swauth URL (`.../auth/v1.0`), which takes a user and a key."""
    return re.search(r"/(auth/)?v1\.0/?$", url) is not None


def normalize_interface(value: str) -> str:
    """`public`, `internal` or `admin`; accepts the v2 spellings `publicURL` etc."""
    value = value.strip()
    if value.lower().endswith("url"):
        value = value[:-3]
    value = value.lower() or DEFAULT_INTERFACE
    if value not in ("public", "internal", "admin"):
        raise CredentialsError(
            f"unknown endpoint interface {value!r}: use public, internal or admin"
        )
    return value


def _domains(project_name: str, project_id: str, user_name: str, user_id: str) -> dict[str, str]:
    """Keystone needs a domain for a project or user given by name: default to 'Default'."""
    if not (project_name or project_id):
        project_name = DEFAULT_DOMAIN
    if not (user_name or user_id):
        user_name = DEFAULT_DOMAIN
    return {
        "project_domain_name": project_name,
        "project_domain_id": project_id,
        "user_domain_name": user_name,
        "user_domain_id": user_id,
    }


def _first(*sections: Mapping[str, str], key: str, alt: str) -> str:
    for section in sections:
        value = section.get(key) or section.get(alt)
        if value:
            return value
    return ""


def _require(fields: Mapping[str, str], where: str) -> None:
    missing = [name for name, value in fields.items() if not value]
    if missing:
        raise CredentialsError(f"{where} lacks {', '.join(missing)}")


def _normalize_key(key: str) -> str:
    return re.sub(r"[\s_\-]", "", key).lower()


def _read_ini(path: Path) -> dict[str, dict[str, str]]:
    """Sections (upper-case names) of normalized keys to unquoted values.

    configparser's own error messages quote the offending line, which may hold a
    password, so they are replaced by messages with line numbers only."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CredentialsError(f"the Swift credentials file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = type(exc).__name__
        raise CredentialsError(
            f"cannot read the Swift credentials file {path} ({reason})"
        ) from None
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text, source=str(path))
    except configparser.MissingSectionHeaderError as exc:
        raise CredentialsError(
            f"{path}: line {exc.lineno} comes before any [SECTION] header"
        ) from None
    except configparser.ParsingError as exc:
        lines = ", ".join(str(lineno) for lineno, _ in exc.errors)
        raise CredentialsError(f"{path}: line(s) {lines} are not 'key = value'") from None
    except configparser.Error as exc:
        raise CredentialsError(f"{path}: not a valid INI file ({type(exc).__name__})") from None
    sections: dict[str, dict[str, str]] = {}
    for name in parser.sections():
        target = sections.setdefault(name.strip().upper(), {})
        for key, value in parser.items(name, raw=True):
            target[_normalize_key(key)] = _unquote(value)
    return sections


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value
