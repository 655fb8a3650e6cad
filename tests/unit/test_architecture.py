"""The layering of docs/architecture.md, enforced: which package may import which.

Every `import` under src/radswift is parsed (ast, no execution) and checked against
ALLOWED; a new package must be added to ALLOWED and to docs/architecture.md together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "radswift"

ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "objectinfo": set(),
    "names": {"errors"},
    "dev": set(),
    "dev.samples": set(),
    "generation": {"errors", "names", "store"},
    "swift": {"errors"},
    "store": {"errors", "names", "swift"},
    "transfer": {"errors", "names", "store"},
    "archive": {"errors", "names"},
    "bundle": {"errors", "names", "archive", "store", "transfer", "generation"},
    "dicom": {"errors", "store", "bundle", "transfer"},
    "podcontract": {"errors", "bundle"},
    "publisher": {"errors", "names", "store", "transfer", "bundle", "podcontract", "generation"},
    "jobs": {"errors", "names", "bundle", "podcontract"},
    "jobs.kube": {"errors", "names", "bundle", "podcontract", "jobs", "store", "publisher"},
    "jobmanager": {"errors", "names", "jobs", "store", "transfer", "publisher"},
    "services": {
        "errors",
        "names",
        "archive",
        "bundle",
        "store",
        "transfer",
        "generation",
        "jobmanager",
        "jobs",
    },
    "service_clients": {"errors", "names", "archive", "bundle", "transfer"},
    "dev.swift": {"errors"},
    "dev.keystone": {"errors", "dev.swift"},
    "jobrun": {
        "errors",
        "names",
        "bundle",
        "store",
        "transfer",
        "service_clients",
        "services",
        "jobmanager",
        "jobs",
    },
    "dev.demo": {
        "errors",
        "names",
        "dev.samples",
        "store",
        "transfer",
        "jobs",
        "podcontract",
        "publisher",
        "service_clients",
        "dev.swift",
        "jobrun",
    },
    "cli": {"*"},
}
"""package -> the radswift packages it may import (itself and `radswift` always)."""
SUBLAYERS = {
    "jobs/kube": "jobs.kube",
    "dev/swift": "dev.swift",
    "dev/keystone": "dev.keystone",
    "dev/demo": "dev.demo",
    "dev/samples.py": "dev.samples",
}
"""Sub-packages that are a layer of their own: pman's Kubernetes backend sits above the
publisher (it reads the status object and shares the publisher's API configuration); the
developer tools under `dev/` are each their own layer (the demo sits on top of everything,
the local Swift below almost everything)."""
FILE_EXCEPTIONS: dict[str, set[str]] = {
    "jobs/local_inproc.py": {"publisher", "store"},
}
"""Single modules allowed one more layer, each for a reason: without isolation the local
backend runs get and publish inside pman's own process (no interpreter start per step:
a no-op job's latency), so that one module calls the publisher's functions directly."""
LEAVES = {"objectinfo"}
"""Values every layer may use: the ObjectStore contract's ObjectInfo and SegmentRef."""

SWIFT_WIRE = {"urllib3", "http.client"}
"""Only swift/ speaks HTTP to Swift. Exceptions: the dev servers (dev.swift, dev.keystone
probe their own processes) and the publisher's Kubernetes watch (the kubernetes client's
own transport errors are urllib3's)."""
WIRE_EXCEPTIONS = {"swift", "dev.swift", "dev.keystone", "jobs.kube"}
WIRE_FILES = {"publisher/wait/kubernetes.py"}
TEST_ONLY = {"swiftclient"}
"""python-swiftclient is a test/benchmark dependency (the test extra), never imported here."""
ENV_ACCESS = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}
"""What reads or writes the process environment (`os.environ`, `os.getenv`, ...)."""
ENV_PACKAGES = {"cli"}
"""Only the composition roots touch the environment; everything below is given values, or
a Mapping the CLI passed (the pod contract's `PodEnv.from_env`, Swift credentials)."""
ENV_FILES: set[str] = set()
"""Single modules allowed to touch the environment anyway, each for a reason in
docs/architecture.md (none today)."""


def imports_of(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def environment_uses(path: Path) -> list[str]:
    """Every `os.environ`/`os.getenv`-like use and `from os import environ`-like import."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in ENV_ACCESS:
            if isinstance(node.value, ast.Name) and node.value.id == "os":
                found.append(f"os.{node.attr} (line {node.lineno})")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [f"from os import {a.name}" for a in node.names if a.name in ENV_ACCESS]
    return found


def package_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    for prefix, layer in SUBLAYERS.items():
        if rel.as_posix() == prefix or rel.as_posix().startswith(prefix + "/"):
            return layer
    return rel.parts[0].removesuffix(".py")


def layer_imported(name: str) -> str:
    """The layer a `radswift.X...` import reaches: a sub-layer (`dev.swift`) when it names
    one, else its top-level package."""
    parts = name.split(".")[1:]
    sub = ".".join(parts[:2])
    return sub if sub in ALLOWED else parts[0]


SOURCES = sorted(p for p in SRC.rglob("*.py") if package_of(p) != "__init__")


def test_every_package_has_a_rule() -> None:
    assert {package_of(p) for p in SOURCES} <= set(ALLOWED)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_a_module_imports_only_what_its_layer_may(path: Path) -> None:
    package = package_of(path)
    rel = path.relative_to(SRC).as_posix()
    own = {package, package.split(".")[0], *LEAVES}
    allowed = ALLOWED[package] | own | FILE_EXCEPTIONS.get(rel, set())
    for name in imports_of(path):
        parts = name.split(".")
        if parts[0] == "radswift" and len(parts) > 1 and "*" not in allowed:
            assert layer_imported(name) in allowed, f"{package} may not import {name}"
        wire = name if name in SWIFT_WIRE else parts[0]
        if wire in SWIFT_WIRE:
            rel = str(path.relative_to(SRC))
            assert package in WIRE_EXCEPTIONS or rel in WIRE_FILES, f"{rel} imports {name}"
        assert parts[0] not in TEST_ONLY, f"{path.relative_to(SRC)} imports {name}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_only_cli_reads_the_environment(path: Path) -> None:
    rel = path.relative_to(SRC).as_posix()
    if package_of(path) in ENV_PACKAGES or rel in ENV_FILES:
        return
    assert environment_uses(path) == [], f"{rel} touches the environment outside cli/"


def test_the_environment_rule_sees_every_spelling(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import os\nfrom os import getenv\n"
        "a = os.environ['A']\nb = os.getenv('B')\nos.environ.setdefault('C', '1')\n"
    )
    assert len(environment_uses(module)) == 4
    module.write_text("def f(environ: dict[str, str]) -> str:\n    return environ['A']\n")
    assert environment_uses(module) == []
