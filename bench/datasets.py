"""Benchmark data sets (made once and cached) and the Swift they are moved through."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MiB = 1024 * 1024


def make_ct_series(root: Path, slices: int = 1000) -> Path:
    """`slices` DICOM CT slices of 512x512 uint16 (about 512 KiB each) under root/study."""
    study = root / "study-v2"
    done = root / ".complete-v2"
    if done.exists():
        return study
    from radswift.dev.samples import write_ct_series

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


def make_many_files(root: Path, files: int, kib: int) -> Path:
    """`files` files of `kib` KiB each (random bytes) in series of 500 under root/study:
    the per-object cost dominates, as for a study of thousands of small slices."""
    study = root / "study"
    done = root / ".complete"
    if done.exists():
        return study
    for n in range(files):
        series = study / f"series-{n // 500:03d}"
        series.mkdir(parents=True, exist_ok=True)
        (series / f"IM-{n:06d}.dcm").write_bytes(os.urandom(kib * 1024))
    done.touch()
    return study


def tree_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@contextmanager
def swift_environment(workdir: Path) -> Iterator[dict[str, str]]:
    env = dict(os.environ)
    if all(k in env for k in ("ST_AUTH", "ST_USER", "ST_KEY")):
        yield env
        return
    from radswift.dev.swift import LocalSwift

    swift = LocalSwift.start(workdir / "swift")
    try:
        env.update(swift.environ())
        yield env
    finally:
        swift.stop()
