"""The job's pod: init container `get`, the user's `processor`, and `publish`.

Contract with the publisher (radswift.publisher) that runs in `get` and `publish`:
the environment below (RADSWIFT_*), `/share` shared by all three containers
(`/share/incoming` input, `/share/outgoing` output), the Swift credentials file
at /etc/swift/swift-credentials.cfg (a Secret volume, mounted into get and
publish only: the processor never sees credentials), and, for the `exitfile`
wait strategy, the processor started through the emissary that `get` installs
into /share/.radswift/bin.

Security: every container drops all capabilities, cannot escalate privileges and
runs under the RuntimeDefault seccomp profile as a non-root user; radswift's own
containers have read-only root filesystems (a small emptyDir at /tmp is their
scratch space). On Kubernetes the pod runs as `spec.run_as_user` with that UID as
fsGroup; on OpenShift no UID, GID or fsGroup is written, so the restricted-v2 SCC
assigns the namespace's arbitrary UID and fsGroup (the radswift image keeps its
writable paths group-0 writable for that). The API token is mounted only into
`publish`, and only when it watches the pod (wait strategy `kubernetes`).
"""

from __future__ import annotations

from kubernetes.client import models as k

from radswift.jobs.spec import JobSpec, Platform, WaitStrategy, label_value

SHARE = "/share"
CREDENTIALS_DIR = "/etc/swift"
CREDENTIALS_FILE_NAME = "swift-credentials.cfg"
EMISSARY = f"{SHARE}/.radswift/bin/radswift-emissary"
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
GET, PROCESSOR, PUBLISH = "get", "processor", "publish"
JID_LABEL = "radswift.io/jid"
JID_ANNOTATION = "radswift.io/jid"
COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
# Volume names, shared with radswift.jobs.podplay which swaps their sources.
SHARE_VOLUME, CREDENTIALS_VOLUME, TMP_VOLUME, TOKEN_VOLUME = (
    "share",
    "swift-credentials",
    "tmp",
    "kube-api-access",
)
# radswift's own containers move bytes; they need little CPU and bounded memory.
PUBLISHER_REQUESTS = {"cpu": "100m", "memory": "128Mi"}
PUBLISHER_LIMITS = {"memory": "1Gi"}
TOKEN_EXPIRATION_SECONDS = 3607


def labels(spec: JobSpec) -> dict[str, str]:
    """Labels on every object of the job; `radswift.io/jid` finds them all."""
    return {
        JID_LABEL: label_value(spec.jid),
        "app.kubernetes.io/name": "radswift-job",
        "app.kubernetes.io/managed-by": "radswift",
    }


def pod_template(spec: JobSpec) -> k.V1PodTemplateSpec:
    """The Job's pod template (also what podman plays as Pods)."""
    return k.V1PodTemplateSpec(
        metadata=k.V1ObjectMeta(labels=labels(spec), annotations={JID_ANNOTATION: spec.jid}),
        spec=k.V1PodSpec(
            restart_policy="Never",
            service_account_name=spec.service_account if _watches(spec) else None,
            automount_service_account_token=False,
            security_context=_pod_security(spec),
            init_containers=[_radswift_container(spec, GET, ["radswift", "publish", "get"])],
            containers=[
                _processor(spec),
                _radswift_container(spec, PUBLISH, ["radswift", "publish", "put"]),
            ],
            volumes=_volumes(spec),
            tolerations=_gpu_tolerations(spec),
        ),
    )


def _watches(spec: JobSpec) -> bool:
    return spec.wait is WaitStrategy.KUBERNETES


def _pod_security(spec: JobSpec) -> k.V1PodSecurityContext:
    runtime_default = k.V1SeccompProfile(type="RuntimeDefault")
    if spec.platform is Platform.OPENSHIFT:
        return k.V1PodSecurityContext(run_as_non_root=True, seccomp_profile=runtime_default)
    uid = spec.run_as_user
    return k.V1PodSecurityContext(
        run_as_non_root=True,
        run_as_user=uid,
        run_as_group=uid,
        fs_group=uid,
        seccomp_profile=runtime_default,
    )


def _container_security(*, read_only_root: bool) -> k.V1SecurityContext:
    return k.V1SecurityContext(
        allow_privilege_escalation=False,
        capabilities=k.V1Capabilities(drop=["ALL"]),
        read_only_root_filesystem=read_only_root,
        run_as_non_root=True,
    )


def _radswift_container(spec: JobSpec, name: str, command: list[str]) -> k.V1Container:
    mounts = [
        k.V1VolumeMount(name=SHARE_VOLUME, mount_path=SHARE),
        k.V1VolumeMount(name=CREDENTIALS_VOLUME, mount_path=CREDENTIALS_DIR, read_only=True),
        k.V1VolumeMount(name=TMP_VOLUME, mount_path="/tmp"),
    ]
    if name == PUBLISH and _watches(spec):
        mounts.append(
            k.V1VolumeMount(name=TOKEN_VOLUME, mount_path=SERVICE_ACCOUNT_DIR, read_only=True)
        )
    return k.V1Container(
        name=name,
        image=spec.radswift_image,
        image_pull_policy="IfNotPresent",
        command=command,
        env=_publisher_env(spec),
        resources=k.V1ResourceRequirements(
            requests=dict(PUBLISHER_REQUESTS), limits=dict(PUBLISHER_LIMITS)
        ),
        security_context=_container_security(read_only_root=True),
        volume_mounts=mounts,
    )


def _publisher_env(spec: JobSpec) -> list[k.V1EnvVar]:
    plain = {
        "RADSWIFT_KEY": spec.storage_key,
        "RADSWIFT_SHARE": SHARE,
        "RADSWIFT_CREDENTIALS_FILE": f"{CREDENTIALS_DIR}/{CREDENTIALS_FILE_NAME}",
        "RADSWIFT_WAIT": spec.wait.value,
        "RADSWIFT_PROCESSOR_CONTAINER": PROCESSOR,
        "RADSWIFT_JOB_NAME": spec.name,
        "RADSWIFT_WORKERS": str(spec.workers),
        "RADSWIFT_DEADLINE_SECONDS": str(spec.active_deadline_seconds),
        "RADSWIFT_OUTPUT_LAYOUT": spec.output_layout.value,
        "HOME": "/tmp",
    }
    if spec.store:
        plain["RADSWIFT_STORE"] = spec.store
    if spec.allow_empty_input:
        plain["RADSWIFT_ALLOW_EMPTY_INPUT"] = "1"
    env = [k.V1EnvVar(name=key, value=value) for key, value in plain.items()]
    env.append(_field_env("RADSWIFT_POD_NAME", "metadata.name"))
    env.append(_field_env("RADSWIFT_NAMESPACE", "metadata.namespace"))
    return env + _index_env(spec)


def _index_env(spec: JobSpec) -> list[k.V1EnvVar]:
    """JOB_COMPLETION_INDEX for multi-worker jobs (explicit, so podman gets it too)."""
    if spec.workers == 1:
        return []
    path = f"metadata.annotations['{COMPLETION_INDEX_ANNOTATION}']"
    return [_field_env("JOB_COMPLETION_INDEX", path)]


def _field_env(name: str, path: str) -> k.V1EnvVar:
    return k.V1EnvVar(
        name=name,
        value_from=k.V1EnvVarSource(field_ref=k.V1ObjectFieldSelector(field_path=path)),
    )


def _processor(spec: JobSpec) -> k.V1Container:
    command: list[str] | None = list(spec.command) or None
    if spec.wait is WaitStrategy.EXITFILE:
        command = [EMISSARY, "--", *spec.command]
    env = [k.V1EnvVar(name=key, value=value) for key, value in sorted(spec.env.items())]
    return k.V1Container(
        name=PROCESSOR,
        image=spec.image,
        image_pull_policy="IfNotPresent",
        command=command,
        env=(env + _index_env(spec)) or None,
        resources=_processor_resources(spec),
        security_context=_container_security(read_only_root=False),
        volume_mounts=[k.V1VolumeMount(name=SHARE_VOLUME, mount_path=SHARE)],
    )


def _processor_resources(spec: JobSpec) -> k.V1ResourceRequirements | None:
    """Requests equal limits: a processor gets what it asked for, and no more."""
    wanted = {key: value for key, value in (("cpu", spec.cpu), ("memory", spec.memory)) if value}
    limits = dict(wanted)
    if spec.gpu:
        limits["nvidia.com/gpu"] = str(spec.gpu)
    if not limits:
        return None
    return k.V1ResourceRequirements(requests=wanted or None, limits=limits)


def _gpu_tolerations(spec: JobSpec) -> list[k.V1Toleration] | None:
    """GPU nodes are commonly tainted nvidia.com/gpu:NoSchedule; GPU jobs tolerate it."""
    if not spec.gpu:
        return None
    return [k.V1Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")]


def _volumes(spec: JobSpec) -> list[k.V1Volume]:
    if spec.workers == 1:
        share = k.V1Volume(name=SHARE_VOLUME, empty_dir=k.V1EmptyDirVolumeSource())
    else:
        share = k.V1Volume(
            name=SHARE_VOLUME,
            persistent_volume_claim=k.V1PersistentVolumeClaimVolumeSource(
                claim_name=spec.share_claim
            ),
        )
    volumes = [
        share,
        k.V1Volume(
            name=CREDENTIALS_VOLUME,
            secret=k.V1SecretVolumeSource(
                secret_name=spec.credentials_secret,
                default_mode=0o440,
                items=[k.V1KeyToPath(key=CREDENTIALS_FILE_NAME, path=CREDENTIALS_FILE_NAME)],
            ),
        ),
        k.V1Volume(name=TMP_VOLUME, empty_dir=k.V1EmptyDirVolumeSource(size_limit="1Gi")),
    ]
    if _watches(spec):
        volumes.append(_token_volume())
    return volumes


def _token_volume() -> k.V1Volume:
    """The service-account token, CA and namespace, as the kubelet would automount them."""
    return k.V1Volume(
        name=TOKEN_VOLUME,
        projected=k.V1ProjectedVolumeSource(
            default_mode=0o444,
            sources=[
                k.V1VolumeProjection(
                    service_account_token=k.V1ServiceAccountTokenProjection(
                        path="token", expiration_seconds=TOKEN_EXPIRATION_SECONDS
                    )
                ),
                k.V1VolumeProjection(
                    config_map=k.V1ConfigMapProjection(
                        name="kube-root-ca.crt", items=[k.V1KeyToPath(key="ca.crt", path="ca.crt")]
                    )
                ),
                k.V1VolumeProjection(
                    downward_api=k.V1DownwardAPIProjection(
                        items=[
                            k.V1DownwardAPIVolumeFile(
                                path="namespace",
                                field_ref=k.V1ObjectFieldSelector(field_path="metadata.namespace"),
                            )
                        ]
                    )
                ),
            ],
        ),
    )
