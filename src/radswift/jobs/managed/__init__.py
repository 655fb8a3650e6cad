"""Managed backends (radswift.jobs.lifecycle.ManagedBackend): what pman drives, by name.

A lazy table, so that a backend's heavy imports (the kubernetes client) load only when
that backend is chosen. A new backend is one entry: its name and "module:factory",
where the factory takes a `BackendConfig` and returns a ManagedBackend.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from radswift.errors import ConfigError
from radswift.jobs.lifecycle import ManagedBackend

BACKENDS: dict[str, str] = {
    "local": "radswift.jobs.managed.local:from_config",
    "podman": "radswift.jobs.managed.podman:from_config",
}


@dataclass(frozen=True, kw_only=True)
class BackendConfig:
    """What every backend factory is given (the CLI builds it; backends read nothing else).

    root: a directory the backend owns for its jobs' files (per pman instance).
    environ: the environment the service started with (e.g. PATH, CONTAINERS_CONF).
    options: backend-specific settings by name (e.g. {"isolation": "none"}).
    """

    root: Path
    environ: Mapping[str, str]
    options: Mapping[str, Any] = field(default_factory=dict)


def open_backend(name: str, config: BackendConfig) -> ManagedBackend:
    """The backend called `name`, built from `config`; ConfigError for an unknown name."""
    target = BACKENDS.get(name)
    if target is None:
        known = ", ".join(sorted(BACKENDS))
        raise ConfigError(f"unknown backend {name!r}: choose one of {known}")
    module, _, factory = target.partition(":")
    return cast(ManagedBackend, getattr(importlib.import_module(module), factory)(config))
