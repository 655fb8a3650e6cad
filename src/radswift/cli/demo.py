"""`radswift dev demo`: the main job end to end on embedded defaults.

It starts a real local Swift, writes a synthetic CT study, pushes it into `KEY/input/`,
runs the demo plugin on it as a job (`radswift publish get` -> plugin -> `radswift
publish put`), pulls `KEY/output/` into `<workdir>/results`, prints the plugin's summary
and checks the job's status object says succeeded. The steps live in
radswift.demo.runner; this module reads the options and the environment.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from radswift.demo.backends import CHOICES, DemoBackend, choose, local_backend, podman_backend
from radswift.demo.runner import DemoPlan, Steps, describe, run_demo
from radswift.devswift import DEFAULT_CACHE_DIR, LocalSwift, default_venv_dir
from radswift.errors import ConfigError
from radswift.jobs.local import LocalBackend
from radswift.publisher.emissary import source_path
from radswift.store.factory import open_store


def demo(
    backend: Annotated[
        str, typer.Option(help=f"where the job runs: {' | '.join(CHOICES)}")
    ] = "auto",
    slices: Annotated[
        int, typer.Option(min=1, help="CT slices in the sample study (512 KiB each)")
    ] = 200,
    key: Annotated[str, typer.Option(help="the job key (Swift container)")] = "radswift-demo",
    workdir: Annotated[
        Path | None, typer.Option(help="where Swift and the data live (default: a temporary dir)")
    ] = None,
) -> None:
    """Run the demo plugin on a sample CT study as a job, through a real local Swift."""
    steps = Steps(lambda text: typer.secho(text, err=True, bold=text.startswith("==>")))
    with _workdir(workdir) as root:
        plan = DemoPlan(key=key, slices=slices, root=root)
        chosen = _backend(backend, root, steps)
        started = steps.start(f"starting a local OpenStack Swift in {root / 'swift'}")
        swift = LocalSwift.start(root / "swift", venv_dir=_swift_venv())
        steps.done(started, f"Swift at {swift.url}")
        try:
            store = open_store(None, environ=swift.environ())
            try:
                summary = run_demo(store, chosen, plan, _credentials(swift), steps)
            finally:
                store.close()
        finally:
            swift.stop()
        for line in describe(summary):
            typer.echo(line)
        kept = "" if workdir else " (temporary: pass --workdir DIR to keep the results)"
        typer.echo(f"results     {plan.results}{kept}")
    typer.secho("demo finished: the job ran on the sample study and succeeded", fg="green")


def _backend(choice: str, root: Path, steps: Steps) -> DemoBackend:
    started = steps.start("choosing the job backend")
    name, why = choose(choice, os.environ)
    steps.done(started, f"{name} ({why})")
    if name == "podman":
        started = steps.start("preparing the radswift image the job's containers run")
        chosen = podman_backend(root / "jobs", os.environ, steps.echo)
        steps.done(started, f"{chosen.radswift_image}")
        return chosen
    backend = LocalBackend(root / "jobs", environ=os.environ, emissary=emissary_cache())
    started = steps.start("preparing the emissary, the processor's exit-code recorder")
    try:
        path = backend.ensure_emissary()
    except ConfigError as err:
        raise ConfigError(f"{err.message} (Debian: apt-get install gcc libc6-dev)") from None
    steps.done(started, str(path))
    return local_backend(backend)


def emissary_cache() -> Path:
    """The emissary built once per version of its source, kept in the cache directory."""
    digest = hashlib.sha256(source_path().read_bytes()).hexdigest()[:12]
    return cache_dir() / "emissary" / f"radswift-emissary-{digest}"


def _credentials(swift: LocalSwift) -> bytes:
    """The ChRIS-style credentials file a job's Secret holds (tempauth, v1)."""
    return (
        "[AUTHORIZATION]\n"
        f"osAuthUrl = {swift.auth_url}\n"
        f"username = {swift.user}\n"
        f"password = {swift.key}\n"
    ).encode()


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
