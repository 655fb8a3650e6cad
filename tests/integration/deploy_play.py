"""deploy/'s Deployments as Pods podman 4.3 can play (`podman kube play`), for the tests.

podman plays Pods, not Deployments, and there is no cluster around it, so each pod
template is kept as rendered (containers, command, args, securityContext, mounts) and
only what needs a cluster is swapped, each for the nearest local equivalent:

    serviceAccountName, automount     dropped (no API server)
    probes                            dropped (podman would run them as `curl` inside an
                                      image that has none); the test polls /healthz itself
    --ip / --port, ports              127.0.0.1 and a free port, with hostNetwork (the
                                      local Swift listens on loopback): no port mappings
    pman's --backend, --namespace     --backend=local (jobs as processes in pman's pod, with
                                      the image's emissary), no namespace
    envFrom the ConfigMap             its data as plain env (podman 4.3 reads ConfigMaps
                                      only from --configmap files); fieldRef namespace: a value
    secret / PVC / emptyDir volumes   hostPath directories: the Secrets' files written
                                      owned by the pod's UID, mode 0400 in a 0500 directory
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

Obj = dict[str, Any]
POD_UID = 1001  # what the kubernetes overlay sets (runAsUser)
EMISSARY = "/usr/local/libexec/radswift/radswift-emissary"  # in the image (Containerfile)


def playable_pod(
    deployment: Obj, config: Obj, *, image: str, port: int, volumes: dict[str, Path], name: str
) -> Obj:
    """The Deployment's pod template as a Pod for `podman kube play`."""
    template = copy.deepcopy(deployment["spec"]["template"])
    spec = template["spec"]
    spec.pop("serviceAccountName", None)
    spec.pop("automountServiceAccountToken", None)
    spec["hostNetwork"] = True
    for c in spec["containers"]:
        c["image"] = image
        args = [_local_arg(a, port) for a in c.get("args") or []]
        if "--backend=local" in args:  # pman: no cluster to drive, jobs as local processes
            args = [a for a in args if not a.startswith("--namespace=")]
            args.append(f"--emissary={EMISSARY}")
        c["args"] = args
        c.pop("ports", None)  # podman refuses port mappings with hostNetwork
        c.pop("readinessProbe", None)
        c.pop("livenessProbe", None)
        env = [e for e in c.get("env") or [] if "valueFrom" not in e]
        env += [{"name": "POD_NAMESPACE", "value": "radswift"}]
        env += [{"name": k, "value": v} for k, v in config["data"].items()]
        c["env"] = env
        c.pop("envFrom", None)
    spec["volumes"] = [
        {"name": v["name"], "hostPath": {"path": str(volumes[v["name"]]), "type": "Directory"}}
        for v in spec["volumes"]
    ]
    meta = {"name": name, "labels": template["metadata"]["labels"]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def _local_arg(arg: str, port: int) -> str:
    arg = re.sub(r"^--ip=.*", "--ip=127.0.0.1", arg)
    arg = re.sub(r"^--backend=.*", "--backend=local", arg)  # no API server here
    return re.sub(r"^--port=.*", f"--port={port}", arg)


def private_dir(path: Path, files: dict[str, bytes]) -> Path:
    """A directory only the pod's UID can read (0500), holding `files` (0400)."""
    path.mkdir(parents=True)
    for name, data in files.items():
        f = path / name
        f.write_bytes(data)
        os.chown(f, POD_UID, POD_UID)
        f.chmod(0o400)
    os.chown(path, POD_UID, POD_UID)
    path.chmod(0o500 if files else 0o700)
    return path
