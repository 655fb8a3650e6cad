"""The restricted-profile checks themselves catch what they are for (so the deploy/ and
Job tests that find no violation mean something)."""

from __future__ import annotations

import copy

import pytest
from pod_security import restricted_violations

GOOD = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [
        {
            "name": "c",
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
            },
        }
    ],
    "volumes": [{"name": "v", "emptyDir": {}}],
}


def test_a_compliant_pod_has_no_violation() -> None:
    assert restricted_violations(GOOD) == []


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        (("securityContext", "runAsNonRoot"), False, "runAsNonRoot"),
        (("securityContext", "seccompProfile"), {"type": "Unconfined"}, "seccompProfile"),
        (
            ("containers", 0, "securityContext", "allowPrivilegeEscalation"),
            True,
            "allowPrivilegeEscalation",
        ),
        (("containers", 0, "securityContext", "capabilities"), {"drop": ["NET_RAW"]}, "drop ALL"),
        (("containers", 0, "securityContext", "privileged"), True, "privileged"),
        (("volumes", 0), {"name": "v", "hostPath": {"path": "/"}}, "hostPath"),
        (("hostNetwork",), True, "hostNetwork"),
    ],
)
def test_each_rule_is_enforced(path: tuple[object, ...], value: object, words: str) -> None:
    pod = copy.deepcopy(GOOD)
    target: object = pod
    for step in path[:-1]:
        target = target[step]  # type: ignore[index]
    target[path[-1]] = value  # type: ignore[index]
    assert any(words in v for v in restricted_violations(pod))
