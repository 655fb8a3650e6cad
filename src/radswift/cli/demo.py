"""`radswift dev demo`: the main job end to end on embedded defaults.

It starts a real local Swift, writes a synthetic CT study, pushes it into `KEY/input/`,
pulls it back and checks every byte. Each step prints what it did and how long it took,
so a newcomer sees the whole path data takes.
"""

from __future__ import annotations

import filecmp
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from radswift.devswift import DEFAULT_CACHE_DIR, LocalSwift, default_venv_dir
from radswift.errors import IntegrityError
from radswift.names import INPUT_PREFIX
from radswift.samples import write_ct_series
from radswift.store.factory import open_store
from radswift.transfer import TransferOptions, download_tree, upload_tree


def demo(
    slices: Annotated[int, typer.Option(help="CT slices in the sample study (512 KiB each)")] = 200,
    key: Annotated[str, typer.Option(help="the job key (Swift container)")] = "radswift-demo",
    workdir: Annotated[
        Path | None, typer.Option(help="where Swift and the data live (default: a temporary dir)")
    ] = None,
) -> None:
    """Push a sample CT study through a real local Swift and pull it back, verified."""
    with _workdir(workdir) as root:
        _step(f"starting a local OpenStack Swift in {root / 'swift'}")
        started = time.perf_counter()
        swift = LocalSwift.start(root / "swift", venv_dir=_swift_venv())
        _done(started, f"Swift at {swift.url}")
        try:
            _run(swift, root, slices=slices, key=key)
        finally:
            swift.stop()
    typer.secho("demo finished: the study went into Swift and came back byte for byte", fg="green")


def _run(swift: LocalSwift, root: Path, *, slices: int, key: str) -> None:
    study, results = root / "study", root / "results"
    _step(f"writing a synthetic CT study of {slices} DICOM slices to {study}")
    started = time.perf_counter()
    write_ct_series(study, slices=slices)
    _done(started, f"{slices} files")

    store = open_store(None, environ=swift.environ())
    try:
        _step(f"pushing it to swift://{key}/{INPUT_PREFIX}")
        up = upload_tree(store, study, key, INPUT_PREFIX, options=TransferOptions())
        up.raise_for_failures()
        _done_rate(up.seconds, up.bytes, up.files)

        _step(f"pulling swift://{key}/{INPUT_PREFIX} back to {results}")
        down = download_tree(store, key, INPUT_PREFIX, results, options=TransferOptions())
        down.raise_for_failures()
        _done_rate(down.seconds, down.bytes, down.files)
    finally:
        store.close()

    _step("comparing the two trees byte for byte")
    started = time.perf_counter()
    mismatch = _tree_differences(study, results)
    if mismatch:
        raise IntegrityError(f"the pulled tree differs from the pushed one: {mismatch[:5]}")
    _done(started, f"{slices} files identical")


def _tree_differences(left: Path, right: Path) -> list[str]:
    cmp = filecmp.dircmp(left, right)
    problems = [*cmp.left_only, *cmp.right_only, *cmp.funny_files]
    _, mismatch, errors = filecmp.cmpfiles(left, right, cmp.common_files, shallow=False)
    problems += mismatch + errors
    for sub in cmp.common_dirs:
        problems += [f"{sub}/{p}" for p in _tree_differences(left / sub, right / sub)]
    return problems


@contextmanager
def _workdir(path: Path | None) -> Iterator[Path]:
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="radswift-demo-") as tmp:
        yield Path(tmp)


def _swift_venv() -> Path:
    cache = os.environ.get("RADSWIFT_CACHE_DIR")
    return default_venv_dir(Path(cache) if cache else DEFAULT_CACHE_DIR)


def _step(text: str) -> None:
    typer.secho(f"==> {text}", bold=True, err=True)


def _done(started: float, text: str) -> None:
    typer.echo(f"    {text} ({time.perf_counter() - started:.1f} s)", err=True)


def _done_rate(seconds: float, nbytes: int, files: int) -> None:
    rate = nbytes / (1024 * 1024) / max(seconds, 1e-9)
    typer.echo(
        f"    {files} files, {nbytes / 1048576:.1f} MiB in {seconds:.1f} s ({rate:.1f} MiB/s)",
        err=True,
    )
