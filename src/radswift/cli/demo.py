"""`radswift dev demo` (`./run demo`): a user's whole task, end to end, on embedded defaults.

It starts a real local Swift (or says why it cannot and uses a local store), builds the
sample study, starts pfioh and pman in this process on loopback, and runs the example
plugin (examples/pl-dicom-summary) on the study as a job through them with `radswift job
run`'s core: push, the job's steps and the plugin's lines as they come, pull, verify.
Then it says where index.html is and stops everything it started. The steps live in
radswift.dev.demo.runner; this module reads the options and the environment and prints.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from radswift.cli.job_run import CliEvents, describe
from radswift.dev.demo.backends import CHOICES, choose, ensure_image, podman_environ
from radswift.dev.demo.example_plugin import (
    PLUGIN_COMMAND,
    ensure_plugin_image,
    local_plugin_command,
)
from radswift.dev.demo.runner import DemoPlan, run_demo
from radswift.dev.swift import DEFAULT_CACHE_DIR, default_venv_dir
from radswift.errors import ConfigError
from radswift.jobs.local import LocalBackend
from radswift.podcontract.emissary import source_path


def demo(
    backend: Annotated[
        str, typer.Option(help=f"where the job runs: {' | '.join(CHOICES)}")
    ] = "auto",
    slices: Annotated[
        int, typer.Option(min=1, help="CT slices in the sample study's synthetic series")
    ] = 48,
    workdir: Annotated[
        Path | None, typer.Option(help="where Swift and the data live (default: a temporary dir)")
    ] = None,
) -> None:
    """Run the example DICOM plugin on a sample study as a job through pfioh and pman."""
    events = CliEvents(bars=None)
    started = time.monotonic()
    with _workdir(workdir) as root:
        for stale in ("study", "results", "pman"):  # a reused --workdir: start clean
            shutil.rmtree(root / stale, ignore_errors=True)
        plan = _plan(backend, root, slices, events)
        summary = run_demo(plan, events)
        for line in describe(summary):
            typer.echo(line)
        if not summary.succeeded:
            typer.secho("demo failed: see the job's failing step above", fg="red", err=True)
            raise typer.Exit(1)
        kept = "" if workdir else " (a temporary directory: pass --workdir DIR to keep it)"
        typer.echo(f"open      {plan.results / 'index.html'}{kept}")
        seconds = time.monotonic() - started
        typer.secho(f"demo finished in {seconds:.0f} s: the plugin ran as a job and its "
                    f"results arrived verified", fg="green")  # fmt: skip


def _plan(choice: str, root: Path, slices: int, events: CliEvents) -> DemoPlan:
    """The backend (podman when it works here, else local, saying which) and its plugin."""
    name, why = choose(choice, os.environ)
    events.say(f"job backend: {name} ({why})")
    common: dict[str, Any] = {"root": root, "slices": slices, "swift_venv": _swift_venv()}
    if name == "podman":
        env = podman_environ(os.environ)
        radswift_image = ensure_image(env, events.say)
        image = ensure_plugin_image(env, radswift_image, events.say)
        return DemoPlan(**common, backend="podman", image=image,
                        command=PLUGIN_COMMAND[:1], environ=env,
                        backend_options={"radswift_image": radswift_image})  # fmt: skip
    emissary = _emissary(events)
    return DemoPlan(**common, backend="local", image="host",
                    command=tuple(local_plugin_command()[:-2]), environ=dict(os.environ),
                    backend_options={"emissary": emissary})  # fmt: skip


def _emissary(events: CliEvents) -> Path:
    """The emissary (the processor's exit-code recorder), built once with gcc."""
    backend = LocalBackend(cache_dir() / "emissary", environ=os.environ, emissary=emissary_cache())
    try:
        return backend.ensure_emissary()
    except ConfigError as err:
        raise ConfigError(f"{err.message} (Debian: apt-get install gcc libc6-dev)") from None


def emissary_cache() -> Path:
    """The emissary built once per version of its source, kept in the cache directory."""
    digest = hashlib.sha256(source_path().read_bytes()).hexdigest()[:12]
    return cache_dir() / "emissary" / f"radswift-emissary-{digest}"


@contextmanager
def _workdir(path: Path | None) -> Iterator[Path]:
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="radswift-demo-") as tmp:
        yield Path(tmp)


def cache_dir() -> Path:
    cache = os.environ.get("RADSWIFT_CACHE_DIR")
    return (Path(cache) if cache else DEFAULT_CACHE_DIR).expanduser()


def _swift_venv() -> Path:
    return default_venv_dir(cache_dir())
