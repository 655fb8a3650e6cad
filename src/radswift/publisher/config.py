"""The publisher's configuration: one typed object, built once from the pod's environment.

The CLI passes `os.environ` (a Mapping) and its options to `PublisherConfig.from_env`;
nothing else in the publisher reads the environment. Options given on the command line
win over the environment. The variables are the pod contract, written by the job
backends and parsed in one place: radswift.podcontract.env (its docstring lists them);
besides them, KUBERNETES_SERVICE_HOST/PORT (set by Kubernetes) locate the API. The
default share, /share, is used inside a pod only: outside one, require_share asks for
RADSWIFT_SHARE.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from radswift.bundle import Layout
from radswift.errors import ConfigError, InvalidInput
from radswift.names import validate_key
from radswift.podcontract import env as pod
from radswift.podcontract.env import DEFAULT_EMISSARY, DEFAULT_PROCESSOR_CONTAINER, WaitStrategy
from radswift.podcontract.share import DEFAULT_SHARE, ShareLayout

WaitKind = WaitStrategy
"""The wait strategy (radswift.podcontract.env.WaitStrategy); this name is kept for code
written against it."""
WAIT_KINDS: tuple[WaitStrategy, ...] = tuple(WaitStrategy)

DEFAULT_CREDENTIALS_FILE = Path("/etc/swift/swift-credentials.cfg")
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
    wait: WaitStrategy = WaitStrategy.NONE
    pod_name: str | None = None
    namespace: str | None = None
    processor_container: str = DEFAULT_PROCESSOR_CONTAINER
    job_name: str | None = None
    workers: int = 1
    index: int | None = None
    deadline_seconds: float | None = None
    emissary_source: Path = DEFAULT_EMISSARY
    allow_empty_input: bool = False
    output_layout: Layout = Layout.OBJECTS
    retries: int | None = None
    """Attempts per Swift request (RADSWIFT_RETRIES); None: the retry policy's default."""
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
        deadline = None if deadline_seconds is None else repr(float(deadline_seconds))
        overrides = {
            pod.KEY: key,
            pod.WAIT: wait,
            pod.DEADLINE_SECONDS: deadline,
            pod.OUTPUT_LAYOUT: output_layout,
        }
        values = pod.PodEnv.from_env({**env, **{k: v for k, v in overrides.items() if v}})
        share = ShareLayout(values.share)
        config = cls(
            key=_key(values.key),
            share=share,
            incoming=incoming or share.incoming,
            outgoing=outgoing or share.outgoing,
            credentials_file=values.credentials_file,
            store_url=values.store,
            wait=values.wait or _default_wait(env),
            pod_name=values.pod_name,
            namespace=values.namespace or _service_account_namespace(),
            processor_container=values.processor_container or DEFAULT_PROCESSOR_CONTAINER,
            job_name=values.job_name,
            workers=values.workers,
            index=values.index,
            deadline_seconds=values.deadline_seconds,
            emissary_source=values.emissary or DEFAULT_EMISSARY,
            allow_empty_input=values.allow_empty_input,
            output_layout=values.output_layout,
            retries=values.retries,
            kube=_kube(env, kube_host, kube_token_file, kube_ca_file, kubeconfig),
        )
        if config.deadline_seconds is not None and config.deadline_seconds <= 0:
            raise ConfigError("the deadline must be a positive number of seconds")
        return config

    def check_wait(self) -> None:
        """The wait strategy has what it needs (put checks it before waiting)."""
        if self.wait != WaitStrategy.KUBERNETES:
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


def _key(key: str | None) -> str:
    if not key:
        raise InvalidInput(f"no key: give KEY, or set {pod.KEY} (or {pod.LEGACY_KEY})")
    return validate_key(key)


def _default_wait(env: Mapping[str, str]) -> WaitStrategy:
    """Without RADSWIFT_WAIT: watch the pod when running inside a cluster."""
    if env.get("KUBERNETES_SERVICE_HOST"):
        return WaitStrategy.KUBERNETES
    raise ConfigError("no wait strategy: set RADSWIFT_WAIT or --wait (kubernetes|exitfile|none)")


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


def _service_account_namespace() -> str | None:
    try:
        return (SERVICE_ACCOUNT_DIR / "namespace").read_text().strip() or None
    except OSError:
        return None
