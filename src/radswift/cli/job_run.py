"""`radswift job run --input DIR --output DIR [...] -- CMD ARGS...`: a user's whole task.

The composition root of radswift.jobrun: reads the flags and the environment, picks the
services (pman and pfioh at --pman/--ioh, or both embedded in this process on loopback),
the carrier (pfioh, or the store straight), and prints what the run tells as it goes on
stderr and its summary on stdout (JSON with --json). The exit code is 0 only when the job
succeeded and every file it published arrived verified.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from radswift.bundle import Layout
from radswift.bundle.area_transfer import parse_layout
from radswift.cli.progress import transfer_progress
from radswift.cli.summary import human_size
from radswift.errors import ConfigError, InvalidInput
from radswift.jobrun import (
    Carrier,
    EmbeddedConfig,
    EmbeddedServices,
    IohCarrier,
    JobRun,
    Moved,
    RunRequest,
    RunSummary,
    StoreCarrier,
)
from radswift.service_clients.pfioh import IohClient
from radswift.service_clients.pman import ManClient
from radswift.transfer.progress import Progress

BACKENDS = ("local", "podman", "kubernetes", "openshift")
JOB_FAILED_EXIT = 1
LOG_PREFIX = "  | "


class CliEvents:
    """A run's events on stderr: phases in bold, steps as they change, the processor's lines."""

    def __init__(self, *, bars: bool | None) -> None:
        self.bars = bars

    def say(self, text: str) -> None:
        typer.secho(f"==> {text}", err=True, bold=True)

    def step(self, name: str, state: str) -> None:
        typer.echo(f"    step {name}: {state}", err=True)

    def log(self, line: str) -> None:
        typer.echo(f"{LOG_PREFIX}{line}", err=True)

    def transfer(self, description: str) -> AbstractContextManager[Progress]:
        return transfer_progress(description, enabled=self.bars)


def run(
    command: Annotated[
        list[str], typer.Argument(help="After --: the plugin's command and its arguments.")
    ],
    input_dir: Annotated[Path, typer.Option("--input", help="The study to process.")],
    output_dir: Annotated[Path, typer.Option("--output", help="Where the results go.")],
    image: Annotated[
        str | None, typer.Option(help="The plugin's image (podman, clusters).", show_default=False)
    ] = None,
    backend: Annotated[
        str,
        typer.Option(
            help="The embedded pman's backend: local | podman (for kubernetes or openshift,"
            " run pman there and pass --pman and --ioh)."
        ),
    ] = "local",
    pman: Annotated[
        str | None, typer.Option("--pman", help="A running pman's URL.", show_default=False)
    ] = None,
    ioh: Annotated[
        str | None, typer.Option("--ioh", help="A running pfioh's URL.", show_default=False)
    ] = None,
    layout: Annotated[str, typer.Option(help="objects | bundle, for input/ and output/.")] = (
        "objects"
    ),
    keep: Annotated[bool, typer.Option("--keep", help="Keep the key and its objects.")] = False,
    radswift_image: Annotated[
        str | None,
        typer.Option(
            help="Embedded podman: the get/publish image (default: built here).", show_default=False
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The summary as JSON.")] = False,
) -> None:
    """Push a study, run a plugin on it through pman, pull the results: one command.

    The study goes into a new key's input/ (through pfioh with --ioh, else straight to
    the store: Swift from ST_*/OS_*, else a local store); the job runs between get and
    publish; its steps and the processor's lines are shown as they come; output/ is pulled
    into --output and checked against what the job published. The key is removed after a
    verified pull unless --keep. Without --pman, pfioh and pman run inside this command
    (loopback, free ports) and stop with it. Ctrl-C cancels the job. pman appends
    /share/incoming /share/outgoing to the command unless it names them itself.
    """
    if backend not in BACKENDS:
        raise InvalidInput(f"--backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if ioh and not pman:
        raise InvalidInput("--ioh needs --pman too (or neither: both run embedded)")
    chosen: Layout = parse_layout(layout)
    request = RunRequest(
        input=input_dir, output=output_dir, command=list(command), layout=chosen, keep=keep,
        image=image or _default_image(backend),
    )  # fmt: skip
    events = CliEvents(bars=False if as_json else None)
    with ExitStack() as stack:
        stack.enter_context(_terminate_as_interrupt())
        if pman is None:
            services = stack.enter_context(_embedded(backend, radswift_image, events))
            pman, ioh = services.man_url, services.ioh_url
        man = stack.enter_context(ManClient(pman))
        carrier = stack.enter_context(_carrier(ioh))
        summary = JobRun(man=man, carrier=carrier, events=events).run(request)
    if as_json:
        typer.echo(json.dumps(summary.to_json()))
    else:
        for line in describe(summary):
            typer.echo(line)
    if not summary.succeeded:
        raise typer.Exit(JOB_FAILED_EXIT)


def describe(summary: RunSummary) -> list[str]:
    """The summary for people, one fact per line."""
    out = [f"key       {summary.key}  (through {summary.via})", f"job       {summary.status}"]
    if summary.pushed is not None:
        out.append(f"pushed    {_moved(summary.pushed)}")
    for step in summary.steps:
        took = "" if step.seconds is None else f"  {step.seconds:.1f} s"
        code = "" if step.exit_code is None else f", exit {step.exit_code}"
        out.append(f"  {step.name:<9} {step.state}{code}{took}")
    if summary.pulled is not None:
        verified = ", verified" if summary.verified else ""
        out.append(f"pulled    {_moved(summary.pulled)}{verified}")
    if summary.failed_step or summary.reason:
        out.append(f"failed    {summary.failed_step or '-'}: {summary.reason or 'unknown'}")
    if summary.log_tail:
        out.append("log tail  " + summary.log_tail.rstrip().replace("\n", "\n          "))
    out.extend(f"problem   {problem}" for problem in summary.problems)
    if summary.results:
        out.append(f"results   {summary.results}")
    if summary.key_removed:
        out.append(f"removed   the key {summary.key} and its objects (--keep keeps them)")
    else:
        out.append(f"kept      the key {summary.key} and its objects")
    return out


def _moved(moved: Moved) -> str:
    return f"{moved.files} file(s), {human_size(moved.bytes)} in {moved.seconds:.1f} s"


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM as Ctrl-C while a run is on: the job is cancelled and what this command
    started is stopped either way (a plain SIGTERM would leave the job's processes)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _default_image(backend: str) -> str:
    if backend == "local":
        return "host"  # the local backend runs the command on this machine
    raise InvalidInput(f"--backend {backend} runs the plugin from an image: pass --image IMAGE")


@contextmanager
def _carrier(ioh: str | None) -> Iterator[Carrier]:
    if ioh is not None:
        with IohClient(ioh) as client:
            yield IohCarrier(client)
        return
    from radswift.podcontract.env import retries_from
    from radswift.store.factory import open_store
    from radswift.store.local import LocalStore
    from radswift.swift.credentials import credentials_from_environ

    if credentials_from_environ(os.environ) is not None:
        store = open_store(None, environ=os.environ, workers=16, retries=retries_from(os.environ))
        description = "Swift (ST_*/OS_* credentials)"
    else:
        from radswift.cli.man import DEFAULT_STORE_BASE

        store, description = LocalStore(DEFAULT_STORE_BASE), f"the local store {DEFAULT_STORE_BASE}"
    try:
        yield StoreCarrier(store, description)
    finally:
        store.close()


@contextmanager
def _embedded(
    backend: str, radswift_image: str | None, events: CliEvents
) -> Iterator[EmbeddedServices]:
    """pfioh and pman in this process, on embedded defaults."""
    with tempfile.TemporaryDirectory(prefix="radswift-run-") as state:
        config = embedded_config(Path(state), backend, radswift_image, os.environ, events.say)
        events.say(f"starting pfioh and pman in this process ({config.storage} storage, "
                   f"{backend} backend)")  # fmt: skip
        with EmbeddedServices.start(config) as services:
            yield services


def embedded_config(
    state: Path,
    backend: str,
    radswift_image: str | None,
    environ: Mapping[str, str],
    say: Callable[[str], None],
) -> EmbeddedConfig:
    """The embedded services' defaults: Swift when ST_*/OS_* say where, else a local store
    in the cache; the local backend with the cached emissary, or podman with the radswift
    image (built here when not given)."""
    from radswift.cli.demo import cache_dir, emissary_cache
    from radswift.cli.man import _job_credentials
    from radswift.podcontract.env import retries_from
    from radswift.swift.credentials import credentials_from_environ

    swift = credentials_from_environ(environ) is not None
    options: dict[str, Any] = {"emissary": emissary_cache()}
    env = dict(environ)
    if backend == "podman":
        from radswift.dev.demo.backends import ensure_image, podman_environ

        env = podman_environ(environ)
        options = {"radswift_image": radswift_image or ensure_image(env, say)}
    elif backend != "local":
        raise ConfigError(
            f"the embedded pman runs local or podman jobs; for {backend}, start pman where "
            "the cluster is and pass --pman URL --ioh URL"
        )
    return EmbeddedConfig(
        state=state,
        store_base=cache_dir() / "jobrun" / "store",
        swift_environ=dict(environ) if swift else None,
        job_credentials=_job_credentials(None) if swift else None,
        swift_retries=retries_from(environ) if swift else None,
        backend=backend,
        backend_options=options,
        environ=env,
    )
