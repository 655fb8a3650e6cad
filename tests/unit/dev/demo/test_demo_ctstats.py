"""Slice statistics in HU from raw 16-bit values (radswift.dev.demo.ctstats)."""

from __future__ import annotations

import struct
from array import array

import pytest

from radswift.dev.demo.ctstats import raw_values, slice_stats
from radswift.errors import InvalidInput


def stats_of(
    values: list[int], *, slope: float, intercept: float, threshold: float
) -> tuple[float, float, float, int]:
    result = slice_stats(
        array("h" if min(values) < 0 else "H", values),
        slope=slope, intercept=intercept, threshold_hu=threshold,
    )  # fmt: skip
    return result.min_hu, result.max_hu, result.mean_hu, result.voxels_above


def test_hu_is_raw_times_slope_plus_intercept_and_the_count_is_strictly_above() -> None:
    low, high, mean, above = stats_of(
        [0, 500, 524, 525, 2000], slope=1, intercept=-1024, threshold=-500
    )
    assert (low, high, above) == (-1024, 976, 2)  # 524 -> -500 is not above -500
    assert mean == pytest.approx(-1024 + 3549 / 5)


def test_a_fractional_or_negative_slope_keeps_the_inequality_right() -> None:
    values = [0, 1, 2, 3, 4, 5]
    assert stats_of(values, slope=0.5, intercept=0, threshold=1.0)[3] == 3  # 1.5, 2, 2.5
    assert stats_of(values, slope=-1, intercept=0, threshold=-2.5)[3] == 3  # 0, -1, -2
    assert stats_of(values, slope=-1, intercept=0, threshold=-2.5)[:2] == (-5, 0)
    assert stats_of(values, slope=0, intercept=7, threshold=6)[3] == 6


def test_raw_values_reads_signed_big_endian_and_masks_unused_high_bits() -> None:
    assert list(raw_values(struct.pack(">2h", -5, 300), signed=True, little_endian=False,
                           count=2)) == [-5, 300]  # fmt: skip
    masked = raw_values(struct.pack("<2H", 0xF00A, 0x0FFF), signed=False, little_endian=True,
                        count=2, bits_stored=12)  # fmt: skip
    assert list(masked) == [0x00A, 0xFFF]


def test_short_pixel_data_and_empty_slices_are_refused() -> None:
    with pytest.raises(InvalidInput, match="4 expected"):
        raw_values(b"\x00\x01", signed=False, little_endian=True, count=2)
    with pytest.raises(InvalidInput, match="without pixels"):
        slice_stats(array("H"), slope=1, intercept=0, threshold_hu=0)
