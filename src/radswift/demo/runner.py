"""The steps of `radswift dev demo` once a local Swift runs: the main job, end to end.

    study     a synthetic CT series (radswift.samples.write_ct_series)
    push      into KEY/input/ (an earlier run's output/ and status removed first)
    job       get -> the demo plugin -> publish, on the chosen backend
    pull      KEY/output/ into <workdir>/results
    check     summary.json describes every slice, and the status object says succeeded

Each step prints what it does and how long it took, so a newcomer sees the whole path
the data takes. Any failure raises a RadswiftError (the CLI turns it into an exit code).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radswift.demo.backends import DemoBackend, forget_job
from radswift.demo.plugin import SUMMARY_NAME
from radswift.errors import IntegrityError, JobError
from radswift.jobs.backend import JobResult
from radswift.jobs.spec import DEFAULT_RADSWIFT_IMAGE, JobSpec, WaitStrategy
from radswift.names import INPUT_PREFIX, OUTPUT_PREFIX
from radswift.podcontract.share import CONTROL
from radswift.publisher.status import read_status
from radswift.samples import write_ct_series
from radswift.store.base import ObjectStore
from radswift.transfer import TransferOptions, download_tree, upload_tree
from radswift.transfer.remove import delete_all

DEFAULT_JOB_TIMEOUT = 900.0
PLUGIN = "radswift.demo.plugin"
LOG_TAIL = 2000


@dataclass(frozen=True, kw_only=True)
class DemoPlan:
    """What to run: the key, the study's size, where files go, how long the job may take."""

    key: str
    slices: int
    root: Path
    job_timeout: float = DEFAULT_JOB_TIMEOUT

    @property
    def study(self) -> Path:
        return self.root / "study"

    @property
    def results(self) -> Path:
        return self.root / "results"


class Steps:
    """Prints `==> step` and then what it did with its duration, through `echo`."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo

    def start(self, text: str) -> float:
        self.echo(f"==> {text}")
        return time.perf_counter()

    def done(self, started: float, text: str) -> None:
        self.echo(f"    {text} ({time.perf_counter() - started:.1f} s)")

    def rate(self, seconds: float, nbytes: int, files: int) -> None:
        mib = nbytes / 1048576
        self.echo(
            f"    {files} files, {mib:.1f} MiB in {seconds:.1f} s "
            f"({mib / max(seconds, 1e-9):.1f} MiB/s)"
        )


def run_demo(
    store: ObjectStore, demo: DemoBackend, plan: DemoPlan, credentials: bytes, steps: Steps
) -> dict[str, Any]:
    """Every step after Swift started; returns the plugin's summary."""
    started = steps.start(f"writing a synthetic CT study of {plan.slices} slices to {plan.study}")
    shutil.rmtree(plan.study, ignore_errors=True)
    write_ct_series(plan.study, slices=plan.slices)
    steps.done(started, f"{plan.slices} DICOM files")
    push(store, plan, steps)
    run_job(demo, plan, credentials, steps)
    pull(store, plan, steps)
    return check(store, plan, steps)


def push(store: ObjectStore, plan: DemoPlan, steps: Steps) -> None:
    steps.start(f"pushing it to swift://{plan.key}/{INPUT_PREFIX}")
    store.ensure_container(plan.key)
    for prefix in (INPUT_PREFIX, OUTPUT_PREFIX, f"{CONTROL}/"):  # an earlier run's objects
        names = [info.name for info in store.list_objects(plan.key, prefix)]
        delete_all(store, plan.key, names, TransferOptions().workers)
    up = upload_tree(store, plan.study, plan.key, INPUT_PREFIX, options=TransferOptions())
    up.raise_for_failures()
    steps.rate(up.seconds, up.bytes, up.files)


def job_spec(demo: DemoBackend, plan: DemoPlan) -> JobSpec:
    """The demo job: the plugin between get and publish, as a pod would run it."""
    return JobSpec(
        jid=plan.key,
        image=demo.processor_image,
        command=[demo.python, "-m", PLUGIN, "/share/incoming", "/share/outgoing"],
        wait=WaitStrategy.EXITFILE,
        radswift_image=demo.radswift_image or DEFAULT_RADSWIFT_IMAGE,
        cpu="1",
        memory="1Gi",
        active_deadline_seconds=int(plan.job_timeout),
    )


def run_job(demo: DemoBackend, plan: DemoPlan, credentials: bytes, steps: Steps) -> None:
    spec = job_spec(demo, plan)
    forget_job(demo, spec.name)
    started = steps.start(
        f"running job {spec.name} on the {demo.name} backend: "
        f"publish get -> python -m {PLUGIN} -> publish put"
    )
    job = demo.backend.run(spec, credentials)
    try:
        result = demo.backend.wait(job, plan.job_timeout)
        steps.done(started, _codes(result))
        if not result.succeeded:
            for step in ("get", "processor", "publish"):
                log = demo.backend.logs(job, step).strip()
                steps.echo(f"    --- {step}:\n{log[-LOG_TAIL:]}" if log else f"    --- {step}: -")
            raise JobError("the job failed: " + "; ".join(result.failures()))
        plugin_says = demo.backend.logs(job, "processor").strip().splitlines()
        steps.echo(f"    the plugin said: {plugin_says[-1] if plugin_says else '(nothing)'}")
    finally:
        demo.backend.cleanup(job)


def _codes(result: JobResult) -> str:
    codes = next(iter(result.exit_codes.values()), {})
    shown = ", ".join(f"{step} {'-' if code is None else code}" for step, code in codes.items())
    return f"exit codes: {shown}"


def pull(store: ObjectStore, plan: DemoPlan, steps: Steps) -> None:
    steps.start(f"pulling swift://{plan.key}/{OUTPUT_PREFIX} to {plan.results}")
    shutil.rmtree(plan.results, ignore_errors=True)
    down = download_tree(store, plan.key, OUTPUT_PREFIX, plan.results, options=TransferOptions())
    down.raise_for_failures()
    steps.rate(down.seconds, down.bytes, down.files)


def check(store: ObjectStore, plan: DemoPlan, steps: Steps) -> dict[str, Any]:
    """The summary covers every slice pushed and the status object says succeeded."""
    started = steps.start("checking the results and the job's status object")
    try:
        summary: dict[str, Any] = json.loads((plan.results / SUMMARY_NAME).read_text())
    except FileNotFoundError:
        raise IntegrityError(f"the job published no {SUMMARY_NAME}") from None
    if summary.get("slices") != plan.slices:
        raise IntegrityError(f"the summary has {summary.get('slices')} slices, not {plan.slices}")
    status = read_status(store, plan.key)
    state = status.get("state")
    if state != "succeeded":
        tail = status.get("log_tail")
        said = f"; the processor printed last:\n{tail.rstrip()}" if tail else ""
        raise JobError(f"the status object of {plan.key} says {state!r}, not 'succeeded'{said}")
    steps.done(started, f"status {state}, {SUMMARY_NAME} covers all {plan.slices} slices")
    return summary


def describe(summary: Mapping[str, Any]) -> list[str]:
    """The summary in a few lines, for people."""
    volume_ml = summary.get("volume_ml")
    return [
        f"series      {summary['series_instance_uid']}",
        f"slices      {summary['slices']} of {summary['rows']} x {summary['columns']}",
        f"HU          min {summary['min_hu']:g}, max {summary['max_hu']:g}, "
        f"mean {summary['mean_hu']:g}",
        f"volume      {summary['volume_voxels']} voxels above {summary['threshold_hu']:g} HU"
        + (f" ({volume_ml:g} mL)" if volume_ml is not None else ""),
    ]
