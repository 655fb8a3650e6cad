"""The publisher's configuration: one typed object, built once from the pod's environment.

The CLI passes `os.environ` (a Mapping) and its options to `PublisherConfig.from_env`;
nothing else in the publisher reads the environment. Options given on the command line
win over the environment. Variables (the contract with the pod manifests):

    RADSWIFT_KEY / SWIFT_KEY        the job key (container); SWIFT_KEY is the original's name
    RADSWIFT_SHARE                  the shared volume (default /share, inside a pod only:
                                    outside one, require_share asks for RADSWIFT_SHARE)
    RADSWIFT_CREDENTIALS_FILE       Swift credentials file; unset: the ST_*/OS_* environment if
                                    set, else /etc/swift/swift-credentials.cfg (the Secret)
    RADSWIFT_STORE                  optional `file:///path`: a local-directory store, not Swift
    RADSWIFT_WAIT                   kubernetes | exitfile | none (default: kubernetes inside a
                                    cluster, i.e. when KUBERNETES_SERVICE_HOST is set)
    RADSWIFT_POD_NAME, RADSWIFT_NAMESPACE   this pod (downward API); the namespace falls back
                                    to the service account's namespace file
    RADSWIFT_PROCESSOR_CONTAINER    the processor container's name (default "processor")
    RADSWIFT_JOB_NAME               the Job; its pods carry the label job-name=<job>
    RADSWIFT_WORKERS                N processors sharing /share (default 1)
    JOB_COMPLETION_INDEX            this pod's index in an Indexed Job (set by Kubernetes)
    RADSWIFT_DEADLINE_SECONDS       give up waiting after this long (default: no deadline)
    RADSWIFT_EMISSARY               the emissary binary get copies into /share (exitfile)
    RADSWIFT_ALLOW_EMPTY_INPUT      "1": a key without input/ objects is not an error
    RADSWIFT_OUTPUT_LAYOUT          objects (default: one object per file) | bundle (output/
                                    as one tar object, radswift.bundle): how put publishes
    KUBERNETES_SERVICE_HOST/PORT    in-cluster API address (set by Kubernetes)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from radswift.bundle import LAYOUTS, Layout
from radswift.errors import ConfigError, InvalidInput
from radswift.names import validate_key
from radswift.publisher.share import DEFAULT_SHARE, ShareLayout

WaitKind = Literal["kubernetes", "exitfile", "none"]
WAIT_KINDS: tuple[WaitKind, ...] = ("kubernetes", "exitfile", "none")

DEFAULT_CREDENTIALS_FILE = Path("/etc/swift/swift-credentials.cfg")
DEFAULT_PROCESSOR_CONTAINER = "processor"
DEFAULT_EMISSARY = Path("/usr/local/libexec/radswift/radswift-emissary")
SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


@dataclass(frozen=True, slots=True, kw_only=True)
class KubeConnection:
    """How to reach the Kubernetes API. In a pod: the service account (in-cluster config).

    `token_file` is re-read at every (re)connection because bound service-account
    tokens rotate; the token itself is never stored here, so it cannot leak in a repr."""

    host: str
    token_file: Path | None = SERVICE_ACCOUNT_DIR / "token"
    ca_file: Path | None = SERVICE_ACCOUNT_DIR / "ca.crt"
    kubeconfig: Path | None = None
    """When set, a kubeconfig file is used instead of host/token/CA (out-of-cluster runs)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PublisherConfig:
    """Everything `publish get` and `publish put` need, validated."""

    key: str
    share: ShareLayout
    incoming: Path
    outgoing: Path
    credentials_file: Path | None = None
    """None: the ST_*/OS_* environment, else DEFAULT_CREDENTIALS_FILE (resolve_credentials)."""
    store_url: str | None = None
    wait: WaitKind = "none"
    pod_name: str | None = None
    namespace: str | None = None
    processor_container: str = DEFAULT_PROCESSOR_CONTAINER
    job_name: str | None = None
    workers: int = 1
    index: int | None = None
    deadline_seconds: float | None = None
    emissary_source: Path = DEFAULT_EMISSARY
    allow_empty_input: bool = False
    output_layout: Layout = "objects"
    kube: KubeConnection | None = field(default=None)

    @property
    def worker(self) -> int:
        """This pod's worker number (0 when the job is not indexed)."""
        return self.index or 0

    @property
    def is_uploader(self) -> bool:
        """Exactly one pod of a job downloads and uploads: worker 0."""
        return self.worker == 0

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        key: str | None = None,
        incoming: Path | None = None,
        outgoing: Path | None = None,
        wait: str | None = None,
        deadline_seconds: float | None = None,
        kube_host: str | None = None,
        kube_token_file: Path | None = None,
        kube_ca_file: Path | None = None,
        kubeconfig: Path | None = None,
        output_layout: str | None = None,
    ) -> PublisherConfig:
        """Build the config from the environment; explicit arguments win. Raises ConfigError."""
        share = ShareLayout(Path(env.get("RADSWIFT_SHARE") or DEFAULT_SHARE))
        workers = _int(env, "RADSWIFT_WORKERS", 1, minimum=1)
        index = _optional_int(env, "JOB_COMPLETION_INDEX")
        if index is not None and index >= workers:
            raise ConfigError(f"JOB_COMPLETION_INDEX={index} but RADSWIFT_WORKERS={workers}")
        wait_kind = _wait_kind(wait or env.get("RADSWIFT_WAIT"), env)
        config = cls(
            key=_key(key, env),
            share=share,
            incoming=incoming or share.incoming,
            outgoing=outgoing or share.outgoing,
            credentials_file=_optional_path(env, "RADSWIFT_CREDENTIALS_FILE"),
            store_url=env.get("RADSWIFT_STORE") or None,
            wait=wait_kind,
            pod_name=env.get("RADSWIFT_POD_NAME") or None,
            namespace=env.get("RADSWIFT_NAMESPACE") or _service_account_namespace(),
            processor_container=env.get("RADSWIFT_PROCESSOR_CONTAINER")
            or DEFAULT_PROCESSOR_CONTAINER,
            job_name=env.get("RADSWIFT_JOB_NAME") or None,
            workers=workers,
            index=index,
            deadline_seconds=(
                deadline_seconds
                if deadline_seconds is not None
                else _optional_float(env, "RADSWIFT_DEADLINE_SECONDS")
            ),
            emissary_source=Path(env.get("RADSWIFT_EMISSARY") or DEFAULT_EMISSARY),
            allow_empty_input=env.get("RADSWIFT_ALLOW_EMPTY_INPUT", "") in ("1", "true", "yes"),
            output_layout=_layout(output_layout or env.get("RADSWIFT_OUTPUT_LAYOUT")),
            kube=_kube(env, kube_host, kube_token_file, kube_ca_file, kubeconfig),
        )
        if config.deadline_seconds is not None and config.deadline_seconds <= 0:
            raise ConfigError("the deadline must be a positive number of seconds")
        return config

    def check_wait(self) -> None:
        """The wait strategy has what it needs (put checks it before waiting)."""
        if self.wait != "kubernetes":
            return
        missing = [
            name
            for name, value in (
                ("RADSWIFT_NAMESPACE", self.namespace),
                ("RADSWIFT_POD_NAME", self.pod_name),
            )
            if not value
        ]
        if self.workers > 1 and self.is_uploader and not self.job_name:
            missing.append("RADSWIFT_JOB_NAME")
        if self.kube is None:
            missing.append("KUBERNETES_SERVICE_HOST (or --kube-host / --kubeconfig)")
        if missing:
            raise ConfigError("the kubernetes wait strategy needs " + ", ".join(missing))


CONTAINER_MARKERS = (Path("/run/.containerenv"), Path("/.dockerenv"))
"""Files podman and docker put into every container."""


def require_share(env: Mapping[str, str], *, exists: Callable[[Path], bool] = Path.exists) -> None:
    """ConfigError unless the share is named (RADSWIFT_SHARE) or this looks like a job pod.

    `publish get` run by hand on a host once wrote 300 MB into a /share it created at
    the filesystem root. The default /share is meant for pods: it is used when it exists,
    when KUBERNETES_SERVICE_HOST is set, or inside a container (CONTAINER_MARKERS);
    anywhere else the user must say where. `exists` is Path.exists (a parameter for tests)."""
    if env.get("RADSWIFT_SHARE") or env.get("KUBERNETES_SERVICE_HOST"):
        return
    if any(exists(path) for path in (DEFAULT_SHARE, *CONTAINER_MARKERS)):
        return
    raise ConfigError(
        f"{DEFAULT_SHARE} does not exist and this is not a job pod (no KUBERNETES_SERVICE_HOST,"
        " not in a container): set RADSWIFT_SHARE=DIR to use a directory of your choice"
        f" (radswift creates {DEFAULT_SHARE} only inside a pod)"
    )


def _key(key: str | None, env: Mapping[str, str]) -> str:
    chosen = key or env.get("RADSWIFT_KEY") or env.get("SWIFT_KEY")
    if not chosen:
        raise InvalidInput("no key: give KEY, or set RADSWIFT_KEY (or SWIFT_KEY)")
    return validate_key(chosen)


def _wait_kind(value: str | None, env: Mapping[str, str]) -> WaitKind:
    if not value:
        if env.get("KUBERNETES_SERVICE_HOST"):
            return "kubernetes"
        raise ConfigError(
            "no wait strategy: set RADSWIFT_WAIT or --wait (kubernetes|exitfile|none)"
        )
    if value not in WAIT_KINDS:
        raise ConfigError(f"unknown wait strategy {value!r}: use kubernetes, exitfile or none")
    return value


def _layout(value: str | None) -> Layout:
    if not value:
        return "objects"
    for layout in LAYOUTS:
        if value == layout:
            return layout
    raise ConfigError(f"unknown output layout {value!r}: use {' or '.join(LAYOUTS)}")


def _kube(
    env: Mapping[str, str],
    host: str | None,
    token_file: Path | None,
    ca_file: Path | None,
    kubeconfig: Path | None,
) -> KubeConnection | None:
    if kubeconfig is not None:
        return KubeConnection(host="", token_file=None, ca_file=None, kubeconfig=kubeconfig)
    if host is None:
        service_host = env.get("KUBERNETES_SERVICE_HOST")
        if not service_host:
            return None
        port = env.get("KUBERNETES_SERVICE_PORT") or "443"
        if ":" in service_host:  # an IPv6 address
            service_host = f"[{service_host}]"
        host = f"https://{service_host}:{port}"
    return KubeConnection(
        host=host,
        token_file=token_file or SERVICE_ACCOUNT_DIR / "token",
        ca_file=ca_file or (SERVICE_ACCOUNT_DIR / "ca.crt" if host.startswith("https:") else None),
    )


def _optional_path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    return Path(raw) if raw else None


def _service_account_namespace() -> str | None:
    try:
        return (SERVICE_ACCOUNT_DIR / "namespace").read_text().strip() or None
    except OSError:
        return None


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    value = _optional_int(env, name)
    if value is None:
        return default
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def _optional_int(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, not {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative")
    return value


def _optional_float(env: Mapping[str, str], name: str) -> float | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from None
