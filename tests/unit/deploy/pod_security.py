"""The Pod Security Standard `restricted` (Kubernetes 1.25+), as checks on a pod spec.

Written from the standard's table (kubernetes.io/docs/concepts/security/pod-security-standards):
baseline (no host namespaces, privileged, host ports, hostPath, added capabilities beyond
the baseline set) plus restricted (volume types, runAsNonRoot, runAsUser != 0,
allowPrivilegeEscalation false, seccomp RuntimeDefault or Localhost, drop ALL and add at
most NET_BIND_SERVICE). Returns what is violated, as readable strings.
"""

from __future__ import annotations

from typing import Any

ALLOWED_VOLUMES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
    "persistentVolumeClaim", "projected", "secret",
}  # fmt: skip
SECCOMP_OK = {"RuntimeDefault", "Localhost"}


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """Every way `pod` (a PodSpec as JSON) breaks the restricted profile."""
    out: list[str] = []
    psc = pod.get("securityContext") or {}
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(flag):
            out.append(f"pod: {flag}")
    for volume in pod.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= ALLOWED_VOLUMES:
            out.append(f"volume {volume['name']}: type {sorted(kinds)} not allowed")
    if psc.get("runAsUser") == 0:
        out.append("pod: runAsUser 0")
    pod_seccomp = (psc.get("seccompProfile") or {}).get("type")
    if pod_seccomp is not None and pod_seccomp not in SECCOMP_OK:
        out.append(f"pod: seccompProfile {pod_seccomp}")
    containers = [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]
    for c in containers:
        out += [f"container {c['name']}: {v}" for v in _container(c, psc, pod_seccomp)]
    return out


def _container(c: dict[str, Any], psc: dict[str, Any], pod_seccomp: str | None) -> list[str]:
    sc = c.get("securityContext") or {}
    out = []
    if sc.get("privileged"):
        out.append("privileged")
    if any(p.get("hostPort") for p in c.get("ports") or []):
        out.append("hostPort")
    if sc.get("allowPrivilegeEscalation") is not False:
        out.append("allowPrivilegeEscalation is not false")
    caps = sc.get("capabilities") or {}
    if "ALL" not in (caps.get("drop") or []):
        out.append("capabilities do not drop ALL")
    if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
        out.append(f"capabilities add {caps.get('add')}")
    if not sc.get("runAsNonRoot", psc.get("runAsNonRoot")):
        out.append("runAsNonRoot is not true (pod or container)")
    if sc.get("runAsUser") == 0:
        out.append("runAsUser 0")
    seccomp = (sc.get("seccompProfile") or {}).get("type", pod_seccomp)
    if seccomp not in SECCOMP_OK:
        out.append(f"seccompProfile {seccomp} (needs RuntimeDefault or Localhost)")
    return out
