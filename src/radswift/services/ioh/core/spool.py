"""Holding one pushed entry's bytes until the store has taken them.

A put body must be seekable (the store rewinds it to retry), and the archive stream
cannot be rewound, so every entry is buffered: small ones in memory while the shared
budget allows, the rest in an anonymous temporary file (gone when closed, even if the
process dies). Every byte is counted against the push's size limit as it arrives.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from radswift.errors import UnsafeArchive
from radswift.services.ioh.core.resources import MemoryBudget


@dataclass(slots=True)
class Spooled:
    """A buffered entry body, rewound, with the memory budget it holds."""

    body: BinaryIO
    size: int
    held: int
    budget: MemoryBudget

    def close(self) -> None:
        self.body.close()
        if self.held:
            self.budget.release(self.held)
            self.held = 0


def spool(
    chunks: Iterable[bytes],
    *,
    size_hint: int | None,
    small: int,
    budget: MemoryBudget,
    account: Callable[[int], None],
) -> Spooled:
    """Buffer `chunks` and rewind.

    `account(n)` is called for every chunk and may raise to stop the push (size limit).
    A body longer than its declared `size_hint` is refused: the archive lies about it.
    """
    held = size_hint if size_hint is not None and size_hint <= small else 0
    if held and not budget.try_acquire(held):
        held = 0
    body: BinaryIO = io.BytesIO() if held else tempfile.TemporaryFile()  # noqa: SIM115
    result = Spooled(body=body, size=0, held=held, budget=budget)
    try:
        for chunk in chunks:
            account(len(chunk))
            result.size += len(chunk)
            if size_hint is not None and result.size > size_hint:
                raise UnsafeArchive(
                    "an entry holds more bytes than it declares", reason="size_mismatch"
                )
            body.write(chunk)
        body.seek(0)
    except BaseException:
        result.close()
        raise
    return result


class ChunkReader:
    """Cuts an iterator of chunks into pieces of chosen sizes (segments of a large entry)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = b""

    def at_eof(self) -> bool:
        while not self._pending:
            nxt = next(self._chunks, None)
            if nxt is None:
                return True
            self._pending = nxt
        return False

    def take(self, nbytes: int) -> Iterator[bytes]:
        """The next `nbytes` bytes (fewer at the end), as chunks."""
        left = nbytes
        while left > 0 and not self.at_eof():
            piece, self._pending = self._pending[:left], self._pending[left:]
            left -= len(piece)
            yield piece
