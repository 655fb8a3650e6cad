"""Checking what pfioh serves against the MD5s the store vouches for.

A plain object's ETag is the MD5 of its bytes; a large object is checked segment by
segment (radswift.transfer.hashing.StreamVerifier). A mismatch is an IntegrityError
raised inside the response's body iterator: the server then aborts the response, so the
client sees a broken stream (short of its Content-Length, or an archive without its
end), never a silently wrong file. That only works if the mismatch is known before the
last bytes go out: `held_back` keeps the last chunk of a response until the check ran.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from radswift.store.base import ObjectReader
from radswift.transfer.hashing import StreamVerifier


class VerifiedChunks:
    """The chunks of a reader opened at offset 0, each fed to a StreamVerifier (a bad
    segment fails as soon as it is complete); `finish` reads what is left and checks."""

    def __init__(self, reader: ObjectReader, on_bytes: Callable[[int], None] | None = None
                 ) -> None:
        self._chunks = reader.iter_chunks()
        self._verifier = StreamVerifier(reader.info, reader.segments)
        self._on_bytes = on_bytes

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        chunk = next(self._chunks)
        self._verifier.update(chunk)
        if self._on_bytes is not None:
            self._on_bytes(len(chunk))
        return chunk

    def finish(self) -> None:
        """Read the rest of the object (nothing, when the caller read it all) and raise
        IntegrityError unless every byte matched."""
        for _ in self:
            pass
        self._verifier.finish()


def verified(reader: ObjectReader) -> Iterator[bytes]:
    """All chunks of the reader; IntegrityError after the last one if they do not match."""
    chunks = VerifiedChunks(reader)
    yield from chunks
    chunks.finish()


def held_back(chunks: Iterable[bytes], check: Callable[[], None]) -> Iterator[bytes]:
    """`chunks`, but the last one only after `check()` passed: a response whose check
    fails ends short instead of complete."""
    last: bytes | None = None
    for chunk in chunks:
        if last is not None:
            yield last
        last = chunk
    check()
    if last is not None:
        yield last
