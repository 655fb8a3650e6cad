"""Jobs: a processor image run between radswift's `get` and `publish` containers.

    spec.py          JobSpec, the job independent of where it runs
    podtemplate.py   the pod: containers, volumes, security (Kubernetes client models)
    manifests.py     the Job, its RBAC and shared claim, as plain dicts / YAML
    podplay.py       the same pod spec as `podman kube play` Pods
    backend.py       JobBackend, the small interface every backend implements; JobResult
    podman.py        PodmanBackend: the pod under `podman kube play` on this machine
    local.py         LocalBackend: the same steps as host processes, no containers

Only spec.py is imported here: the kubernetes models load slowly and are needed only
by the modules that build objects.
"""

from radswift.jobs.spec import JobSpec, OutputLayout, Platform, WaitStrategy, job_name

__all__ = ["JobSpec", "OutputLayout", "Platform", "WaitStrategy", "job_name"]
