"""A step's log file as text chunks: the last lines, all of it, or followed until it ends."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

FOLLOW_POLL = 0.2
CHUNK = 64 * 1024
KEEPALIVE = 5.0
"""A follow yields "" after this long without news, so its reader can notice a gone client."""
MAX_TAIL_BYTES = 1024 * 1024
"""A tail reads at most the log's last MiB (a 150 MB log is not read whole for 200 lines)."""


def tail_text(text: str, lines: int | None) -> str:
    """The last `lines` lines of `text` (all of it for None)."""
    if lines is None:
        return text
    if lines <= 0:
        return ""
    parts = text.splitlines(keepends=True)
    return "".join(parts[-lines:])


def read_log(
    path: Path, *, tail: int | None, follow: bool, ended: Callable[[], bool]
) -> Iterator[str]:
    """Yield the log's text (`tail` lines, None for all); with `follow`, keep yielding
    what is appended until `ended()` says the step is over and nothing more came."""
    position = 0
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            start = 0 if tail is None else max(0, size - MAX_TAIL_BYTES)
            fh.seek(start)
            data = fh.read(size - start) if tail is None else fh.read(MAX_TAIL_BYTES)
            position = fh.tell()
        first = tail_text(data.decode(errors="replace"), tail)
        if first:
            yield first
    except FileNotFoundError:
        pass
    quiet_since = time.monotonic()
    while follow:
        finished = ended()  # asked before reading, so nothing written before the end is lost
        try:
            with path.open("rb") as fh:
                fh.seek(position)
                data = fh.read(CHUNK)
                position += len(data)
        except FileNotFoundError:
            data = b""
        if data:
            quiet_since = time.monotonic()
            yield data.decode(errors="replace")
        elif finished:
            return
        elif time.monotonic() - quiet_since >= KEEPALIVE:
            quiet_since = time.monotonic()
            yield ""
        else:
            time.sleep(FOLLOW_POLL)
