"""Statistics of one CT slice in Hounsfield units, in pure Python (no numpy).

A slice's stored values are raw detector numbers; HU = raw * RescaleSlope +
RescaleIntercept. Sorting the raw values once (C speed, ~6 ms for 512 x 512) gives the
minimum, maximum and, by bisection, how many voxels lie above a HU threshold, without
converting every voxel: the threshold is converted to raw units instead.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from radswift.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class SliceStats:
    """One slice: HU range and mean, and the voxels above the threshold."""

    min_hu: float
    max_hu: float
    mean_hu: float
    voxels_above: int
    voxels: int


def raw_values(
    pixel_data: bytes, *, signed: bool, little_endian: bool, count: int, bits_stored: int = 16
) -> array[int]:
    """The 16-bit stored values of a slice as an array in native byte order.

    Unsigned values keep only their `bits_stored` low bits: DICOM says the bits above
    the high bit are not part of the value (they may hold overlays or noise)."""
    if len(pixel_data) < 2 * count:
        raise InvalidInput(f"pixel data holds {len(pixel_data)} bytes, {2 * count} expected")
    data = pixel_data[: 2 * count]
    if not signed and 8 < bits_stored < 16:
        data = _mask_high_bytes(data, bits_stored - 8, 1 if little_endian else 0)
    values = array("h" if signed else "H")
    values.frombytes(data)
    if little_endian != (sys.byteorder == "little"):
        values.byteswap()
    return values


def _mask_high_bytes(data: bytes, bits: int, offset: int) -> bytes:
    """`data` with the high byte of every 16-bit value ANDed with (1 << bits) - 1 (C speed)."""
    table = bytes(i & ((1 << bits) - 1) for i in range(256))
    out = bytearray(data)
    out[offset::2] = data[offset::2].translate(table)
    return bytes(out)


def slice_stats(
    values: array[int], *, slope: float, intercept: float, threshold_hu: float
) -> SliceStats:
    """Min/max/mean in HU and the count of voxels whose HU is above `threshold_hu`."""
    if not values:
        raise InvalidInput("a slice without pixels")
    ordered = sorted(values)
    low, high = ordered[0] * slope + intercept, ordered[-1] * slope + intercept
    mean = sum(values) / len(values) * slope + intercept
    return SliceStats(
        min_hu=min(low, high),
        max_hu=max(low, high),
        mean_hu=mean,
        voxels_above=_count_above(ordered, slope, intercept, threshold_hu),
        voxels=len(values),
    )


def _count_above(ordered: list[int], slope: float, intercept: float, threshold: float) -> int:
    """How many raw values r have r * slope + intercept > threshold (`ordered` sorted)."""
    if slope == 0:
        return len(ordered) if intercept > threshold else 0
    limit = (threshold - intercept) / slope
    if slope > 0:
        return len(ordered) - bisect_right(ordered, limit)  # r > limit
    return bisect_left(ordered, limit)  # r < limit (the slope flips the inequality)
