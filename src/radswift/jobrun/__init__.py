"""`radswift job run`'s core: one user task (push, run a plugin through pman, pull) as
one call over pman's and pfioh's clients, and pfioh + pman embedded in this process for
a user who runs neither. The CLI (radswift.cli.job_run) and the demo compose it."""

from radswift.jobrun.carriers import Carrier, IohCarrier, Moved, StoreCarrier
from radswift.jobrun.embedded import EmbeddedConfig, EmbeddedServices
from radswift.jobrun.run import JobRun, RunEvents, RunRequest
from radswift.jobrun.summary import RunSummary, StepTime

__all__ = [
    "Carrier",
    "EmbeddedConfig",
    "EmbeddedServices",
    "IohCarrier",
    "JobRun",
    "Moved",
    "RunEvents",
    "RunRequest",
    "RunSummary",
    "StepTime",
    "StoreCarrier",
]
