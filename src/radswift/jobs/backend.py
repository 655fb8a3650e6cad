"""What every job backend does: run a JobSpec, wait for it, read its logs, clean up.

Two backends satisfy `JobBackend` today: `radswift.jobs.podman.PodmanBackend` (the
Job's pod played by podman) and `radswift.jobs.local.LocalBackend` (the same three
steps as host processes, no containers). Callers that only run a job and read its
outcome (`radswift dev demo`) take a `JobBackend` and do not care which one they got.

The handle `run` returns is the backend's own type (it knows where its pods or
processes are); callers only pass it back and read its `name`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from radswift.jobs.spec import JobSpec

STEPS = ("get", "processor", "publish")
"""The job's steps, as the pod names its containers."""


@dataclass(frozen=True)
class JobResult:
    """Exit codes per pod and step; None where a step never ran (or never existed)."""

    exit_codes: Mapping[str, Mapping[str, int | None]]
    play_error: str | None = None  # podman: what `podman kube play` said when it failed

    @property
    def succeeded(self) -> bool:
        return self.play_error is None and all(
            code == 0 for codes in self.exit_codes.values() for code in codes.values()
        )

    def failures(self) -> list[str]:
        """`pod/step exited N` (or `never ran`) for every step that did not exit 0."""
        found = [
            f"{pod}/{step} " + ("never ran" if code is None else f"exited {code}")
            for pod, codes in self.exit_codes.items()
            for step, code in codes.items()
            if code != 0
        ]
        return found + ([self.play_error] if self.play_error else [])


class JobHandle(Protocol):
    """A started job, as a backend's `run` returns it."""

    @property
    def name(self) -> str: ...


H = TypeVar("H", bound=JobHandle)


class JobBackend(Protocol[H]):
    """Runs jobs somewhere; `H` is the backend's handle type."""

    def run(self, spec: JobSpec, credentials: bytes | None = None) -> H:
        """Start the job (get first, then processor and publish); return at once."""
        ...

    def wait(self, job: H, timeout: float) -> JobResult:
        """Wait until every step that started has ended; JobError after `timeout` s."""
        ...

    def logs(self, job: H, container: str, index: int = 0) -> str:
        """One step's output (stdout then stderr); empty if it never ran."""
        ...

    def cleanup(self, job: H) -> None:
        """Stop whatever still runs and remove the job's files, credentials included."""
        ...
