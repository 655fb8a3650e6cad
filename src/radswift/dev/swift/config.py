"""The configuration files of a single-node Swift, generated from typed settings.

The proxy pipeline is fixed except for its authentication part, which a `ProxyAuth`
describes: the filters that authenticate and authorize, in pipeline order, with their
config sections. `tempauth()` builds the default one (users defined in the config file,
fernet tokens so that auth works without memcached); a Keystone variant would be
`ProxyAuth(filters=(authtoken, keystoneauth))` with `keystonemiddleware` in the Swift venv.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEVICE = "d1"  # the one device of the rings, a directory under `devices`
BACKENDS = ("account", "container", "object")

# Swift's own recommended order (proxy-server.conf-sample); AUTH marks where the auth
# filters go and CACHE is dropped when there is no memcached.
_PIPELINE = (
    "catch_errors gatekeeper healthcheck proxy-logging CACHE listing_formats bulk tempurl"
    " AUTH copy container-quotas account-quotas slo dlo versioned_writes symlink"
    " proxy-logging proxy-server"
)
_SIMPLE_FILTERS = {
    "catch_errors": "catch_errors",
    "gatekeeper": "gatekeeper",
    "healthcheck": "healthcheck",
    "proxy-logging": "proxy_logging",
    "listing_formats": "listing_formats",
    "bulk": "bulk",
    "tempurl": "tempurl",
    "copy": "copy",
    "container-quotas": "container_quotas",
    "account-quotas": "account_quotas",
    "slo": "slo",
    "dlo": "dlo",
    "versioned_writes": "versioned_writes",
    "symlink": "symlink",
}


@dataclass(frozen=True, kw_only=True)
class PipelineFilter:
    """One `[filter:NAME]` section of the proxy config, named `name` in the pipeline."""

    name: str
    options: Mapping[str, str] = field(repr=False)  # may hold passwords and keys


@dataclass(frozen=True, kw_only=True)
class ProxyAuth:
    """The authentication part of the proxy pipeline, pluggable.

    `filters` go, in this order, where Swift's sample config puts auth (after tempurl,
    before copy/slo/dlo). `proxy_options` are added to `[app:proxy-server]`.
    """

    filters: tuple[PipelineFilter, ...]
    proxy_options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class TempauthUser:
    """A tempauth user `account:name` with password `key`; `admin` owns the account."""

    account: str
    name: str
    key: str
    admin: bool = False

    @property
    def user(self) -> str:
        return f"{self.account}:{self.name}"


DEFAULT_USERS = (
    TempauthUser(account="test", name="tester", key="testing", admin=True),
    TempauthUser(account="test2", name="tester2", key="testing2", admin=False),
)


def tempauth(users: tuple[TempauthUser, ...] = DEFAULT_USERS) -> ProxyAuth:
    """Tempauth with fernet tokens: tokens are self-contained, no memcached needed."""
    fernet_key = base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")
    options = {
        "use": "egg:swift#tempauth",
        "fernet_key_1": fernet_key,
        "active_fernet_key_id": "1",
        "token_life": "86400",
    }
    for user in users:
        groups = " .admin" if user.admin else ""
        options[f"user_{user.account}_{user.name}"] = f"{user.key}{groups}"
    return ProxyAuth(filters=(PipelineFilter(name="tempauth", options=options),))


@dataclass(frozen=True, kw_only=True)
class NodeLayout:
    """Where everything lives and listens; enough to write every config file."""

    swift_dir: Path
    devices: Path
    host: str
    ports: Mapping[str, int]  # account, container, object, proxy
    run_user: str
    memcached: str | None = None  # "host:port" of memcached, or None to run without
    proxy_workers: int = 0  # 0: one process that serves itself (simplest to stop)


def _ini(sections: Mapping[str, Mapping[str, str]]) -> str:
    lines: list[str] = []
    for section, options in sections.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {value}" for key, value in options.items())
        lines.append("")
    return "\n".join(lines)


def _defaults(layout: NodeLayout, server: str, workers: int = 0) -> dict[str, str]:
    return {
        "bind_ip": layout.host,
        "bind_port": str(layout.ports[server]),
        "workers": str(workers),
        "user": layout.run_user,
        "swift_dir": str(layout.swift_dir),
        "devices": str(layout.devices),
        "mount_check": "false",
        "log_name": f"{server}-server",
        "log_level": "INFO",
        "bind_timeout": "5",
        "recon_cache_path": str(layout.swift_dir.parent / "cache"),
    }


def swift_conf() -> str:
    """swift.conf: a random hash path prefix/suffix and one storage policy."""
    return _ini(
        {
            "swift-hash": {
                "swift_hash_path_prefix": secrets.token_hex(8),
                "swift_hash_path_suffix": secrets.token_hex(8),
            },
            "storage-policy:0": {"name": "Policy-0", "default": "yes"},
        }
    )


def backend_conf(layout: NodeLayout, server: str) -> str:
    """account-, container- or object-server.conf (the container one has its updater)."""
    sections: dict[str, Mapping[str, str]] = {
        "DEFAULT": _defaults(layout, server),
        "pipeline:main": {"pipeline": f"{server}-server"},
        f"app:{server}-server": {"use": f"egg:swift#{server}"},
    }
    if server == "container":
        # Pushes container totals to the account every second, so account stats lag little.
        sections["container-updater"] = {"interval": "1", "concurrency": "1"}
    return _ini(sections)


def proxy_conf(layout: NodeLayout, auth: ProxyAuth) -> str:
    """proxy-server.conf with Swift's recommended pipeline around `auth`'s filters."""
    cache = "cache" if layout.memcached else ""
    auth_names = " ".join(f.name for f in auth.filters)
    pipeline = " ".join(_PIPELINE.replace("CACHE", cache).replace("AUTH", auth_names).split())
    sections: dict[str, Mapping[str, str]] = {
        "DEFAULT": _defaults(layout, "proxy", layout.proxy_workers),
        "pipeline:main": {"pipeline": pipeline},
        "app:proxy-server": {
            "use": "egg:swift#proxy",
            "account_autocreate": "true",
            **auth.proxy_options,
        },
    }
    for name, egg in _SIMPLE_FILTERS.items():
        sections[f"filter:{name}"] = {"use": f"egg:swift#{egg}"}
    # sha1 is deprecated; without this Swift warns on every start.
    sections["filter:tempurl"] = {**sections["filter:tempurl"], "allowed_digests": "sha256 sha512"}
    if layout.memcached:
        sections["filter:cache"] = {
            "use": "egg:swift#memcache",
            "memcache_servers": layout.memcached,
        }
    for auth_filter in auth.filters:
        sections[f"filter:{auth_filter.name}"] = auth_filter.options
    return _ini(sections)


def write_configs(layout: NodeLayout, auth: ProxyAuth) -> dict[str, Path]:
    """Write every config file into `layout.swift_dir`; returns the path of each server's."""
    layout.swift_dir.mkdir(parents=True, exist_ok=True)
    conf = layout.swift_dir / "swift.conf"
    if not conf.exists():  # a restart keeps its hash prefix/suffix, or old data is lost
        conf.write_text(swift_conf())
    paths: dict[str, Path] = {}
    for server in BACKENDS:
        paths[server] = layout.swift_dir / f"{server}-server.conf"
        paths[server].write_text(backend_conf(layout, server))
    paths["proxy"] = layout.swift_dir / "proxy-server.conf"
    paths["proxy"].write_text(proxy_conf(layout, auth))
    paths["proxy"].chmod(0o600)  # holds the fernet key and the tempauth passwords
    return paths
