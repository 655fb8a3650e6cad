"""What one `radswift job run` did: the summary it prints (for people or as JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from radswift.jobrun.carriers import Moved

SUCCEEDED = "finishedSuccessfully"


@dataclass(frozen=True, kw_only=True)
class StepTime:
    """One step of the job: its final state, exit code and duration (None if unknown)."""

    name: str
    state: str
    exit_code: int | None = None
    seconds: float | None = None


@dataclass(kw_only=True)
class RunSummary:
    """The run from push to pull. `verified`: every file the job published arrived (the
    pull's counts match the publisher's, each object's MD5 checked as it was read)."""

    key: str
    status: str = "notsubmitted"
    via: str = ""
    pushed: Moved | None = None
    pulled: Moved | None = None
    steps: list[StepTime] = field(default_factory=list)
    results: str | None = None
    verified: bool = False
    failed_step: str | None = None
    reason: str | None = None
    log_tail: str | None = None
    key_removed: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED and self.verified and not self.problems

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["succeeded"] = self.succeeded
        return doc
