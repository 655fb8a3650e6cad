"""pman's core, free of HTTP: the job registry, the queue and the manager over a backend.

request.py   JobRequest: the strict submit document, its hash, its JobSpec
registry.py  Registry (SQLite, WAL): records, the one state gate, the FIFO queue
manager.py   JobManager: submit/get/list/logs/cancel/remove, dispatch, reconcile
status.py    the status object's summary kept with a finished job
"""

from radswift.jobmanager.manager import JobManager, ManagerConfig, Submitted
from radswift.jobmanager.registry import JobQuery, JobRecord, Registry
from radswift.jobmanager.request import JobRequest

__all__ = [
    "JobManager",
    "JobQuery",
    "JobRecord",
    "JobRequest",
    "ManagerConfig",
    "Registry",
    "Submitted",
]
