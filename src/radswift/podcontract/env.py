"""The publisher's environment in a job pod: one typed contract, written and read here.

The job backends (jobs/podtemplate.py for Kubernetes, jobs/local.py for host processes;
pman's backends too) describe a run as a `PodEnv` and write it with `to_env`; the
publisher (`radswift publish get|put`, publisher/config.py) reads it back with
`PodEnv.from_env`. Neither side spells a variable name or a default of its own.

    RADSWIFT_KEY / SWIFT_KEY        the job key (container); SWIFT_KEY is the original's name
    RADSWIFT_SHARE                  the shared volume (default /share; podcontract.share)
    RADSWIFT_CREDENTIALS_FILE       Swift credentials file; unset: the ST_*/OS_* environment if
                                    set, else /etc/swift/swift-credentials.cfg (the Secret)
    RADSWIFT_STORE                  optional `file:///path`: a local-directory store, not Swift
    RADSWIFT_WAIT                   kubernetes | exitfile | none (WaitStrategy; unset: the
                                    publisher picks kubernetes inside a cluster)
    RADSWIFT_POD_NAME, RADSWIFT_NAMESPACE   this pod (downward API)
    RADSWIFT_PROCESSOR_CONTAINER    the processor container's name (default "processor")
    RADSWIFT_JOB_NAME               the Job; its pods carry the label job-name=<job>
    RADSWIFT_WORKERS                N processors sharing /share (default 1)
    JOB_COMPLETION_INDEX            this pod's index in an Indexed Job (set by Kubernetes)
    RADSWIFT_DEADLINE_SECONDS       give up waiting after this long (default: no deadline)
    RADSWIFT_EMISSARY               the emissary binary get copies into /share (exitfile)
    RADSWIFT_ALLOW_EMPTY_INPUT      "1": a key without input/ objects is not an error
    RADSWIFT_OUTPUT_LAYOUT          objects (default) | bundle: how put publishes output/
    RADSWIFT_RETRIES                attempts per Swift request (default: the retry policy's)

Malformed values are ConfigError (exit 78), naming the variable; RADSWIFT_RETRIES is
InvalidInput (exit 65) as it always was. RADSWIFT_RETRIES is not only the publisher's:
every radswift command that opens Swift honours it, so `retries_from` is its one parser,
which cli/ calls on `os.environ` for `cp`, `ls`, `job run` and the services.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from radswift.bundle import Layout
from radswift.errors import ConfigError, InvalidInput
from radswift.podcontract.share import DEFAULT_SHARE

KEY = "RADSWIFT_KEY"
LEGACY_KEY = "SWIFT_KEY"
SHARE = "RADSWIFT_SHARE"
CREDENTIALS_FILE = "RADSWIFT_CREDENTIALS_FILE"
STORE = "RADSWIFT_STORE"
WAIT = "RADSWIFT_WAIT"
POD_NAME = "RADSWIFT_POD_NAME"
NAMESPACE = "RADSWIFT_NAMESPACE"
PROCESSOR_CONTAINER = "RADSWIFT_PROCESSOR_CONTAINER"
JOB_NAME = "RADSWIFT_JOB_NAME"
WORKERS = "RADSWIFT_WORKERS"
COMPLETION_INDEX = "JOB_COMPLETION_INDEX"
DEADLINE_SECONDS = "RADSWIFT_DEADLINE_SECONDS"
EMISSARY = "RADSWIFT_EMISSARY"
ALLOW_EMPTY_INPUT = "RADSWIFT_ALLOW_EMPTY_INPUT"
OUTPUT_LAYOUT = "RADSWIFT_OUTPUT_LAYOUT"
RETRIES = "RADSWIFT_RETRIES"

DEFAULT_PROCESSOR_CONTAINER = "processor"
DEFAULT_EMISSARY = Path("/usr/local/libexec/radswift/radswift-emissary")
TRUE_WORDS = ("1", "true", "yes")


class WaitStrategy(StrEnum):
    """How `publish put` learns that the processor finished (see radswift.publisher.wait)."""

    KUBERNETES = "kubernetes"  # watch the pod through the API (needs the service account)
    EXITFILE = "exitfile"  # the emissary wrapper writes the exit code into /share
    NONE = "none"  # publish at once (tests, and processors run elsewhere)

    @classmethod
    def parse(cls, text: str) -> WaitStrategy:
        try:
            return cls(text)
        except ValueError:
            *most, last = list(cls)
            choices = f"{', '.join(most)} or {last}"
            raise ConfigError(f"unknown wait strategy {text!r}: use {choices}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class PodEnv:
    """The publisher's variables as values; None where the variable is unset (the
    publisher then applies the default or its own fallback)."""

    key: str | None = None
    share: Path = DEFAULT_SHARE
    credentials_file: Path | None = None
    store: str | None = None
    wait: WaitStrategy | None = None
    pod_name: str | None = None
    namespace: str | None = None
    processor_container: str | None = None
    """None: DEFAULT_PROCESSOR_CONTAINER."""
    job_name: str | None = None
    workers: int = 1
    index: int | None = None
    deadline_seconds: float | None = None
    emissary: Path | None = None
    """None: DEFAULT_EMISSARY (the path in the radswift image)."""
    allow_empty_input: bool = False
    output_layout: Layout = Layout.OBJECTS
    retries: int | None = None
    """Attempts per Swift request; None: the retry policy's default."""

    def to_env(self) -> dict[str, str]:
        """The variables to set (unset values are left out; the pod name, namespace and
        completion index usually come from the downward API instead)."""
        values: dict[str, str | None] = {
            KEY: self.key,
            SHARE: str(self.share),
            CREDENTIALS_FILE: _text(self.credentials_file),
            WAIT: _text(self.wait),
            PROCESSOR_CONTAINER: self.processor_container,
            EMISSARY: _text(self.emissary),
            JOB_NAME: self.job_name,
            WORKERS: str(self.workers),
            DEADLINE_SECONDS: _seconds(self.deadline_seconds),
            OUTPUT_LAYOUT: self.output_layout.value,
            STORE: self.store,
            ALLOW_EMPTY_INPUT: "1" if self.allow_empty_input else None,
            POD_NAME: self.pod_name,
            NAMESPACE: self.namespace,
            COMPLETION_INDEX: _text(self.index),
            RETRIES: _text(self.retries),
        }
        return {name: value for name, value in values.items() if value is not None}

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PodEnv:
        """Parse the variables (unset or empty: the default). Raises ConfigError."""
        workers = _int(env, WORKERS, minimum=1)
        index = _int(env, COMPLETION_INDEX, minimum=0)
        if index is not None and index >= (workers or 1):
            raise ConfigError(f"{COMPLETION_INDEX}={index} but {WORKERS}={workers or 1}")
        wait = env.get(WAIT)
        layout = env.get(OUTPUT_LAYOUT) or Layout.OBJECTS
        store = env.get(STORE) or None
        local = store is not None and store.startswith("file:")  # no Swift requests to retry
        return cls(
            key=env.get(KEY) or env.get(LEGACY_KEY) or None,
            share=Path(env.get(SHARE) or DEFAULT_SHARE),
            credentials_file=_path(env, CREDENTIALS_FILE),
            store=store,
            wait=WaitStrategy.parse(wait) if wait else None,
            pod_name=env.get(POD_NAME) or None,
            namespace=env.get(NAMESPACE) or None,
            processor_container=env.get(PROCESSOR_CONTAINER) or None,
            job_name=env.get(JOB_NAME) or None,
            workers=workers or 1,
            index=index,
            deadline_seconds=_float(env, DEADLINE_SECONDS),
            emissary=_path(env, EMISSARY),
            allow_empty_input=env.get(ALLOW_EMPTY_INPUT, "") in TRUE_WORDS,
            output_layout=Layout.parse(layout, what="output layout", error=ConfigError),
            retries=None if local else retries_from(env),
        )


def retries_from(env: Mapping[str, str]) -> int | None:
    """RADSWIFT_RETRIES as a number of attempts; None if unset or empty."""
    text = env.get(RETRIES, "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise InvalidInput(
            f"{RETRIES} must be a whole number of attempts, at least 1 (got {text!r})"
        )
    return value


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _seconds(value: float | None) -> str | None:
    """Whole seconds without a fraction ("86400"), others as Python writes them."""
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    return Path(raw) if raw else None


def _int(env: Mapping[str, str], name: str, *, minimum: int) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, not {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative")
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def _float(env: Mapping[str, str], name: str) -> float | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from None
