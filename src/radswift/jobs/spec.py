"""What a job is, independent of where it runs: one frozen, validated `JobSpec`.

A job runs a user's processor image between radswift's two steps: an init
container `get` (the key's `input/` into `/share/incoming`) and a `publish`
container (`/share/outgoing` into the key's `output/` once the processor has
finished). The same spec renders as a Kubernetes/OpenShift Job
(`radswift.jobs.manifests`) and as podman kube-play Pods (`radswift.jobs.podplay`).

Names: Kubernetes object names must be DNS-1123 labels, a Swift key need not be.
`job_name(jid)` uses the jid as it is when it already is a short label, otherwise
a readable slug plus a hash, so two different jids never share a job name.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from radswift import __version__
from radswift.bundle import Layout
from radswift.errors import InvalidInput
from radswift.names import validate_key
from radswift.podcontract.env import WaitStrategy as WaitStrategy  # (re-exported)

DEFAULT_RADSWIFT_IMAGE = f"localhost/radswift:{__version__}"
DEFAULT_CREDENTIALS_SECRET = "swift-credentials"  # noqa: S105 (a Secret's name)
DEFAULT_SERVICE_ACCOUNT = "radswift-publisher"
DEFAULT_NAMESPACE = "default"
DEFAULT_ACTIVE_DEADLINE_SECONDS = 6 * 3600
DEFAULT_TTL_SECONDS_AFTER_FINISHED = 3600
DEFAULT_SHARE_SIZE = "10Gi"
DEFAULT_RUN_AS_USER = 1001
# Jobs of N pods are named <job>-<index>-<5 random> by the Job controller; 52 leaves room.
MAX_JOB_NAME = 52

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_HASHED = re.compile(r"-[0-9a-f]{10}$")
"""How a hashed job name ends (see job_name)."""
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Secrets reach a job only through the credentials Secret volume, never through env.
_SECRET_LOOKING = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|PRIVATE", re.IGNORECASE)


class Platform(StrEnum):
    """Where the manifests go: OpenShift differs in who picks the UID and fsGroup."""

    KUBERNETES = "kubernetes"
    OPENSHIFT = "openshift"


OutputLayout = Layout
"""How `publish` stores /share/outgoing under output/ (radswift.bundle.Layout, the one type
for a layout; this name is kept for code written against it)."""


@dataclass(frozen=True, kw_only=True)
class JobSpec:
    """Everything needed to render or run one job. Values are validated on creation."""

    jid: str
    image: str
    command: Sequence[str] = ()
    cpu: str | None = None
    memory: str | None = None
    gpu: int = 0
    workers: int = 1
    namespace: str = DEFAULT_NAMESPACE
    env: Mapping[str, str] = field(default_factory=dict)
    wait: WaitStrategy = WaitStrategy.KUBERNETES
    radswift_image: str = DEFAULT_RADSWIFT_IMAGE
    credentials_secret: str = DEFAULT_CREDENTIALS_SECRET
    active_deadline_seconds: int = DEFAULT_ACTIVE_DEADLINE_SECONDS
    ttl_seconds_after_finished: int = DEFAULT_TTL_SECONDS_AFTER_FINISHED
    service_account: str = DEFAULT_SERVICE_ACCOUNT
    platform: Platform = Platform.KUBERNETES
    run_as_user: int = DEFAULT_RUN_AS_USER  # ignored on OpenShift, whose SCC picks the UID
    share_size: str = DEFAULT_SHARE_SIZE  # the ReadWriteMany claim of multi-worker jobs
    storage_class: str | None = None
    store: str | None = None  # RADSWIFT_STORE, e.g. file:///path, for runs without Swift
    output_layout: OutputLayout = OutputLayout.OBJECTS  # RADSWIFT_OUTPUT_LAYOUT of publish
    key: str | None = None  # the Swift key holding input/ and output/; None: the jid
    allow_empty_input: bool = False  # RADSWIFT_ALLOW_EMPTY_INPUT: no input/ is an empty incoming/

    def __post_init__(self) -> None:
        validate_key(self.jid)
        if self.key is not None:
            validate_key(self.key)
        object.__setattr__(self, "command", tuple(self.command))
        object.__setattr__(self, "env", MappingProxyType(dict(self.env)))
        object.__setattr__(self, "wait", WaitStrategy(self.wait))
        object.__setattr__(self, "platform", Platform(self.platform))
        object.__setattr__(self, "output_layout", OutputLayout(self.output_layout))
        self._check()

    def _check(self) -> None:
        if not self.image:
            raise InvalidInput("the processor image is empty")
        if self.wait is WaitStrategy.EXITFILE and not self.command:
            raise InvalidInput("the exitfile wait strategy needs the processor's command")
        quantities = (("cpu", self.cpu), ("memory", self.memory), ("share size", self.share_size))
        for what, value in quantities:
            if value is not None and not _QUANTITY.fullmatch(value):
                raise InvalidInput(f"the {what} {value!r} is not a Kubernetes quantity")
        if self.gpu < 0 or self.workers < 1:
            raise InvalidInput("gpu must be >= 0 and workers >= 1")
        if self.active_deadline_seconds < 1 or self.ttl_seconds_after_finished < 0:
            raise InvalidInput("the active deadline must be positive and the ttl not negative")
        if self.run_as_user < 1:
            raise InvalidInput("jobs never run as root: run_as_user must be >= 1")
        for name in (self.namespace, self.service_account, self.credentials_secret):
            _check_label(name)
        for key in self.env:
            _check_env_name(key)

    @property
    def storage_key(self) -> str:
        """The key get reads input/ from and publish writes output/ to."""
        return self.key if self.key is not None else self.jid

    @property
    def name(self) -> str:
        """The Job's (and ServiceAccount-independent objects') name."""
        return job_name(self.jid)

    @property
    def share_claim(self) -> str:
        """The PersistentVolumeClaim that multi-worker pods share as /share."""
        return f"{self.name}-share"


def job_name(jid: str) -> str:
    """A DNS-1123 label for the jid: the jid itself if it is one, else slug + hash.

    One name per jid (a job's directory, Job and pods are found by it): a jid that already
    ends like a hashed name (`-` and 10 hex digits) is hashed too, so that no jid can stand
    as itself for another jid's slug + hash ("victim-d72cee2eb1" for "Victim")."""
    if len(jid) <= MAX_JOB_NAME and _LABEL.fullmatch(jid) and not _HASHED.search(jid):
        return jid
    digest = hashlib.sha256(jid.encode("utf-8")).hexdigest()[:10]
    slug = re.sub(r"[^a-z0-9]+", "-", jid.lower()).strip("-")[: MAX_JOB_NAME - 11].strip("-")
    return f"{slug}-{digest}" if slug else f"job-{digest}"


def label_value(jid: str) -> str:
    """The jid as a label value where it is one (63 chars of [-_.A-Za-z0-9]), else its job name."""
    if len(jid) <= 63 and re.fullmatch(r"^[A-Za-z0-9]([-_.A-Za-z0-9]*[A-Za-z0-9])?$", jid):
        return jid
    return job_name(jid)


def _check_label(name: str) -> None:
    if len(name) > 63 or not _LABEL.fullmatch(name):
        raise InvalidInput(f"{name!r} is not a valid Kubernetes name (DNS-1123 label)")


def _check_env_name(key: str) -> None:
    if not _ENV_NAME.fullmatch(key):
        raise InvalidInput(f"{key!r} is not a valid environment variable name")
    if key.startswith("RADSWIFT_"):
        raise InvalidInput(f"{key!r}: RADSWIFT_* variables are set by radswift itself")
    if _SECRET_LOOKING.search(key):
        raise InvalidInput(
            f"{key!r} looks like a secret; jobs get secrets only from the credentials Secret"
        )
