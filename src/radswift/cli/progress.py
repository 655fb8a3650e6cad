"""A rich progress bar (bytes, files, rate) for transfers, shown only on a terminal.

Sizes and rates both in binary units (MiB and MiB/s). An upload's bar says what it
waits for once every byte is sent (`after_sent`, e.g. "storing..." while pfioh stores a
push), so that a bar at 100% never sits silent.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from radswift.cli.summary import human_size
from radswift.transfer import NullProgress, Progress

if TYPE_CHECKING:  # rich is imported only when a bar is drawn: piped runs start faster
    from rich.console import Console
    from rich.progress import Progress as RichBar
    from rich.progress import TaskID


class BarProgress:
    """The engine's Progress drawn as one bar on stderr; thread-safe like rich itself."""

    def __init__(
        self, bar: RichBar, task: TaskID, description: str, after_sent: str | None = None
    ) -> None:
        self._bar = bar
        self._task = task
        self._description = description
        self._after_sent = after_sent
        self._lock = threading.Lock()
        self._files = 0
        self._done = 0
        self._failed = 0
        self._total_bytes: int | None = None
        self._sent = 0

    def set_total(self, files: int, bytes: int) -> None:
        self._files = files
        self._total_bytes = bytes
        self._bar.update(self._task, total=bytes, files=self._label())

    def advance(self, nbytes: int) -> None:
        self._bar.advance(self._task, nbytes)
        with self._lock:
            self._sent += nbytes
            all_sent = self._total_bytes is not None and self._sent >= self._total_bytes
        if all_sent and self._after_sent:
            self._bar.update(self._task, description=f"{self._description} {self._after_sent}")

    def file_done(self, path: str, ok: bool) -> None:
        with self._lock:
            self._done += 1
            self._failed += not ok
            label = self._label()
        self._bar.update(self._task, files=label)

    def _label(self) -> str:
        failed = f", {self._failed} failed" if self._failed else ""
        return f"{self._done}/{self._files} files{failed}"


def rich_bar(console: Console) -> RichBar:
    """The bar's columns: description, bar, bytes done/total, rate, files, time left."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        ProgressColumn,
        Task,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as RichBar
    from rich.text import Text

    class BinaryRateColumn(ProgressColumn):
        """MiB/s, as DownloadColumn(binary_units=True) shows MiB (rich's own is MB/s)."""

        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            shown = "?" if speed is None else f"{human_size(speed)}/s"
            return Text(shown, style="progress.data.speed")

    return RichBar(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        BinaryRateColumn(),
        TextColumn("{task.fields[files]}"),
        TimeRemainingColumn(),
        console=console,
        refresh_per_second=4,
    )


@contextmanager
def transfer_progress(
    description: str, *, enabled: bool | None = None, after_sent: str | None = None
) -> Iterator[Progress]:
    """A bar when stderr is a terminal (or `enabled`), else the silent NullProgress."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield NullProgress()
        return
    from rich.console import Console

    bar = rich_bar(Console(stderr=True))
    with bar:
        task = bar.add_task(description, total=None, files="")
        yield BarProgress(bar, task, description, after_sent)
