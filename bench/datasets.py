"""Benchmark data sets, made once and cached: a synthetic CT series and one large file."""

from __future__ import annotations

import os
from pathlib import Path

MiB = 1024 * 1024


def make_ct_series(root: Path, slices: int = 1000) -> Path:
    """`slices` DICOM CT slices of 512x512 uint16 (about 512 KiB each) under root/study."""
    study = root / "study"
    done = root / ".complete"
    if done.exists():
        return study
    from radswift.samples import write_ct_series

    write_ct_series(study, slices=slices, rows=512, columns=512)
    done.touch()
    return study


def make_large_file(root: Path, mib: int) -> Path:
    """One file of `mib` MiB of incompressible bytes under root/volume."""
    volume = root / "volume"
    target = volume / "volume.nii"
    done = root / ".complete"
    if done.exists():
        return volume
    volume.mkdir(parents=True, exist_ok=True)
    block = os.urandom(64 * MiB)
    with target.open("wb") as fh:
        for i in range(mib // 64):
            fh.write(block[i % 64 :] + block[: i % 64])
        fh.write(block[: (mib % 64) * MiB])
    done.touch()
    return volume
