"""`radswift` loads a command's module only when that command runs.

A transfer's client CPU decides how fast it goes next to a Swift on the same cores, and
importing every command group (FastAPI for the services, httpx for the pfioh client,
the Kubernetes client, rich) used to cost half a second before argv was parsed. So
`radswift cp` and `radswift --help` must not import them at all: checked here in a fresh
interpreter through `sys.modules`, not by timing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from typer.core import TyperGroup

from radswift.cli.main import COMMANDS, load_command
from radswift.dev.swift import LocalSwift

HEAVY = ("fastapi", "httpx", "kubernetes", "rich", "keystoneauth1", "pydicom", "uvicorn")
COMMAND_MODULES = {spec.target.partition(":")[0] for spec in COMMANDS.values()}

DRIVER = """
import atexit, json, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv[0] = "radswift"
from radswift.cli.main import main
main()
"""


def imported_by(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules a `radswift ARGS...` process had imported when it exited (it must succeed)."""
    out = tmp_path / f"modules-{uuid.uuid4().hex[:8]}.json"
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, str(out), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(out.read_text()))


def heavy_in(modules: set[str]) -> set[str]:
    return {name for name in modules if name.split(".")[0] in HEAVY}


def test_help_lists_every_command_without_importing_any(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, str(tmp_path / "m.json"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    listed = proc.stdout.split("Commands:", 1)[1]
    for name in [*COMMANDS, "version"]:
        assert f"\n  {name} " in listed
    modules = set(json.loads((tmp_path / "m.json").read_text()))
    assert not modules & COMMAND_MODULES
    assert not heavy_in(modules)


def test_cp_help_imports_only_the_transfer_commands(tmp_path: Path) -> None:
    modules = imported_by(tmp_path, "cp", "--help")
    assert "radswift.cli.transfer" in modules
    assert not (modules & COMMAND_MODULES) - {"radswift.cli.transfer"}
    assert not heavy_in(modules)


@pytest.mark.swift
def test_a_cp_round_trip_through_swift_imports_nothing_heavy(
    local_swift: LocalSwift, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ST_", "OS_"))}
    env.update(local_swift.environ())  # tempauth: no Keystone library needed
    study = tmp_path / "study"
    study.mkdir()
    (study / "slice.dcm").write_bytes(b"DICM" * 1000)
    url = f"swift://startup-{uuid.uuid4().hex[:8]}/input/"
    up = imported_by(tmp_path, "cp", str(study), url, env=env)
    down = imported_by(tmp_path, "cp", url, str(tmp_path / "back"), env=env)
    assert (tmp_path / "back" / "slice.dcm").read_bytes() == b"DICM" * 1000
    assert not heavy_in(up) and not heavy_in(down)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_lazy_command_resolves_to_its_command(name: str) -> None:
    command = load_command(name, COMMANDS[name])
    if isinstance(command, TyperGroup):
        assert command.commands  # a group such as `dev`, with its subcommands
    else:
        assert command.name == name and command.callback is not None
