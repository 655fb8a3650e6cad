"""A rich progress bar (bytes, files, rate) for transfers, shown only on a terminal."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from radswift.transfer import NullProgress, Progress

if TYPE_CHECKING:  # rich is imported only when a bar is drawn: piped runs start faster
    from rich.progress import Progress as RichBar
    from rich.progress import TaskID


class BarProgress:
    """The engine's Progress drawn as one bar on stderr; thread-safe like rich itself."""

    def __init__(self, bar: RichBar, task: TaskID) -> None:
        self._bar = bar
        self._task = task
        self._lock = threading.Lock()
        self._files = 0
        self._done = 0
        self._failed = 0

    def set_total(self, files: int, bytes: int) -> None:
        self._files = files
        self._bar.update(self._task, total=bytes, files=self._label())

    def advance(self, nbytes: int) -> None:
        self._bar.advance(self._task, nbytes)

    def file_done(self, path: str, ok: bool) -> None:
        with self._lock:
            self._done += 1
            self._failed += not ok
            label = self._label()
        self._bar.update(self._task, files=label)

    def _label(self) -> str:
        failed = f", {self._failed} failed" if self._failed else ""
        return f"{self._done}/{self._files} files{failed}"


@contextmanager
def transfer_progress(description: str, *, enabled: bool | None = None) -> Iterator[Progress]:
    """A bar when stderr is a terminal (or `enabled`), else the silent NullProgress."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield NullProgress()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.progress import Progress as RichBar

    bar = RichBar(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TextColumn("{task.fields[files]}"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        refresh_per_second=4,
    )
    with bar:
        task = bar.add_task(description, total=None, files="")
        yield BarProgress(bar, task)
