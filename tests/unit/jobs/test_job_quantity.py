"""Kubernetes quantities read as numbers: what pman compares its bounds with and the
local backend turns into an rlimit."""

from __future__ import annotations

import pytest

from radswift.jobs.quantity import cpu_millis, memory_bytes


@pytest.mark.parametrize(
    ("text", "value"),
    [("512Mi", 512 * 2**20), ("2G", 2 * 10**9), ("1Ti", 2**40), ("1.5Gi", 3 * 2**29),
     ("1048576", 2**20), ("64k", 64_000)],
)  # fmt: skip
def test_memory_quantities_are_bytes(text: str, value: int) -> None:
    assert memory_bytes(text) == value


@pytest.mark.parametrize(
    ("text", "value"), [("500m", 500), ("2", 2000), ("0.25", 250), ("256000m", 256_000)]
)
def test_cpu_quantities_are_millicores(text: str, value: int) -> None:
    assert cpu_millis(text) == value


@pytest.mark.parametrize("text", ["", "lots", "1 Gi", "1GB", "-1", "1" * 40, "1Gi\n"])
def test_what_is_not_a_memory_quantity_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="not a memory quantity"):
        memory_bytes(text)


@pytest.mark.parametrize("text", ["", "1Gi", "2 cores", "-1", "1k"])
def test_what_is_not_a_cpu_quantity_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="not a CPU quantity"):
        cpu_millis(text)
