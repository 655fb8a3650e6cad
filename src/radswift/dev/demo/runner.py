"""The steps of `radswift dev demo` (`./run demo`): a user's whole task on real data.

    storage   a real local Swift on loopback (radswift.dev.swift); when it cannot start,
              the demo says why and goes on with a local store
    study     the sample study: a synthetic CT series and the DICOM files that ship in
              the pydicom wheel (radswift.dev.samples.build_sample_study; offline)
    services  pfioh and pman in this process, on loopback (radswift.jobrun.EmbeddedServices)
    job       `radswift job run`'s core (radswift.jobrun.JobRun): the study pushed through
              pfioh, the example plugin (examples/pl-dicom-summary) run as a job through
              pman, output/ pulled and verified, the key removed

Everything it starts is stopped when it returns or raises (services before Swift). The
CLI (radswift.cli.demo) chooses the backend and prints; this module reads no flags.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from radswift.dev.samples import build_sample_study
from radswift.dev.swift import LocalSwift
from radswift.errors import RadswiftError
from radswift.jobrun import (
    EmbeddedConfig,
    EmbeddedServices,
    IohCarrier,
    JobRun,
    RunEvents,
    RunRequest,
    RunSummary,
)
from radswift.service_clients.pfioh import IohClient
from radswift.service_clients.pman import ManClient


@dataclass(frozen=True, kw_only=True)
class DemoPlan:
    """What to run where. `command`: the plugin's command without the share directories
    (pman appends them); `backend_options`: the embedded pman's backend options."""

    root: Path
    slices: int
    backend: str
    image: str
    command: tuple[str, ...]
    swift_venv: Path
    backend_options: Mapping[str, Any] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def study(self) -> Path:
        return self.root / "study"

    @property
    def results(self) -> Path:
        return self.root / "results"


@dataclass(frozen=True)
class Storage:
    """Where keys live for the demo: Swift's environment and the jobs' credentials, or
    (both None) the local store."""

    environ: Mapping[str, str] | None
    credentials: bytes | None
    description: str


def run_demo(plan: DemoPlan, events: RunEvents) -> RunSummary:
    """Every step, with everything started stopped at the end."""
    with ExitStack() as stack:
        storage = stack.enter_context(demo_storage(plan.root, plan.swift_venv, events.say))
        started = time.monotonic()
        sample = build_sample_study(plan.study, slices=plan.slices)
        events.say(
            f"wrote the sample study to {plan.study}: {sample.dicom_files} DICOM files "
            f"in {time.monotonic() - started:.1f} s (a synthetic CT series of "
            f"{plan.slices} slices and pydicom's sample files)"
        )
        config = EmbeddedConfig(
            state=plan.root / "pman",
            store_base=plan.root / "store",
            swift_environ=storage.environ,
            job_credentials=storage.credentials,
            backend=plan.backend,
            backend_options=plan.backend_options,
            environ=plan.environ,
        )
        services = stack.enter_context(EmbeddedServices.start(config))
        events.say(
            f"pfioh at {services.ioh_url} and pman at {services.man_url} ({plan.backend} "
            f"backend) on {storage.description}"
        )
        man = stack.enter_context(ManClient(services.man_url))
        ioh = stack.enter_context(IohClient(services.ioh_url))
        request = RunRequest(
            input=plan.study, output=plan.results, command=list(plan.command), image=plan.image
        )
        return JobRun(man=man, carrier=IohCarrier(ioh), events=events).run(request)


@contextmanager
def demo_storage(root: Path, swift_venv: Path, say: Callable[[str], None]) -> Iterator[Storage]:
    """A local Swift for the demo's duration, or the local store when it cannot start."""
    say(f"starting a local OpenStack Swift in {root / 'swift'}")
    try:
        swift = LocalSwift.start(root / "swift", venv_dir=swift_venv)
    except (RadswiftError, OSError, subprocess.SubprocessError) as err:
        say(f"Swift cannot start here ({err}); the demo goes on with a local store")
        yield Storage(None, None, f"the local store {root / 'store'}")
        return
    try:
        yield Storage(swift.environ(), job_credentials(swift), f"Swift at {swift.url}")
    finally:
        swift.stop()


def job_credentials(swift: LocalSwift) -> bytes:
    """The ChRIS-style credentials file a job's Secret holds (tempauth, v1)."""
    return (
        "[AUTHORIZATION]\n"
        f"osAuthUrl = {swift.auth_url}\n"
        f"username = {swift.user}\n"
        f"password = {swift.key}\n"
    ).encode()
