"""Kubernetes resource quantities read as numbers: memory in bytes, CPU in millicores.

A job's limits are written as Kubernetes writes them (`512Mi`, `2Gi`, `500m`, `1.5`), and
stay strings in the spec (they go into manifests as given). Code that must compare or
apply one (pman's bounds at submit, the local backend's rlimit) reads it here, once.
Decimal (k, M, G, ...) and binary (Ki, Mi, Gi, ...) suffixes mean what Kubernetes says;
`transfer.options.parse_size`, where `M` is a MiB, is for transfer sizes, not limits.
"""

from __future__ import annotations

import re
from decimal import Decimal

MEMORY_UNITS = {
    "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}  # fmt: skip
_NUMBER = re.compile(r"([0-9]{1,30}(?:\.[0-9]{1,9})?)([A-Za-z]{0,2})")


def memory_bytes(quantity: str) -> int:
    """The bytes `quantity` (e.g. '512Mi', '2G', '1073741824') stands for; ValueError if it
    is not a memory quantity."""
    match = _NUMBER.fullmatch(quantity)
    if match is None or match.group(2) not in MEMORY_UNITS:
        raise ValueError(f"{quantity!r} is not a memory quantity (e.g. 512Mi, 2Gi)")
    return int(Decimal(match.group(1)) * MEMORY_UNITS[match.group(2)])


def cpu_millis(quantity: str) -> int:
    """The millicores `quantity` (e.g. '500m', '2', '0.25') stands for; ValueError if it is
    not a CPU quantity."""
    match = _NUMBER.fullmatch(quantity)
    if match is None or match.group(2) not in ("", "m"):
        raise ValueError(f"{quantity!r} is not a CPU quantity (e.g. 500m, 2)")
    number = Decimal(match.group(1))
    return int(number if match.group(2) == "m" else number * 1000)
