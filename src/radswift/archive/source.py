"""The input side: a non-seekable byte source, counted, sniffed, and optionally gunzipped.

Everything upstream of the tar/zip parsers lives here, so the parsers see one
small interface (`read(n)`) and the compressed-bytes count the ratio check needs.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from typing import Literal, Protocol

from radswift.archive.limits import Tally
from radswift.errors import InvalidInput

Format = Literal["tar", "tar.gz", "zip", "auto"]


class SupportsRead(Protocol):
    def read(self, n: int, /) -> bytes: ...


ReadSource = Callable[[int], bytes] | SupportsRead

_SNIFF_BYTES = 512


class ChunkStream:
    """read(n) over an iterator of chunks: what iter_archive wants from an HTTP body or
    an object's stream.

    Keeps an offset into the current chunk instead of slicing off what is left (which
    would copy the rest of a 1 MiB chunk on every 512-byte header read); a read that
    wants the whole chunk gets it uncopied."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""
        self._pos = 0

    def read(self, n: int) -> bytes:
        while self._pos >= len(self._buf):
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._buf, self._pos = chunk, 0
        buf, pos = self._buf, self._pos
        if pos == 0 and len(buf) <= n:
            self._pos = len(buf)
            return buf
        out = buf[pos : pos + n]
        self._pos = pos + len(out)
        return out


class CountingReader:
    """Wraps the caller's read(); counts bytes consumed and lets sniffed bytes be re-read."""

    def __init__(self, source: ReadSource) -> None:
        read = getattr(source, "read", None)
        self._read: Callable[[int], bytes] = read if callable(read) else source  # type: ignore[assignment]
        self._pending = b""
        self.consumed = 0
        self.at_eof = False

    def read(self, n: int) -> bytes:
        """At most `n` bytes; b"" only at the end of input."""
        if self._pending:
            data, self._pending = self._pending[:n], self._pending[n:]
            return data
        if self.at_eof:
            return b""
        data = self._read(n)
        if not data:
            self.at_eof = True
            return b""
        self.consumed += len(data)
        return bytes(data)

    def peek(self, n: int) -> bytes:
        """Up to `n` leading bytes, left in place to be read again."""
        while len(self._pending) < n and not self.at_eof:
            data = self._read(n - len(self._pending))
            if not data:
                self.at_eof = True
                break
            self.consumed += len(data)
            self._pending += bytes(data)
        return self._pending[:n]

    def chunks(self, size: int) -> Iterator[bytes]:
        """The rest of the input as chunks of up to `size` bytes."""
        while data := self.read(size):
            yield data


def sniff(reader: CountingReader) -> Literal["tar", "tar.gz", "zip"]:
    """Tell the format from magic bytes: gzip 1f8b, zip PK\\x03\\x04, tar 'ustar' at 257."""
    head = reader.peek(_SNIFF_BYTES)
    if head.startswith(b"\x1f\x8b"):
        return "tar.gz"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head[257:262] == b"ustar" or head == bytes(_SNIFF_BYTES):  # zeros: an empty tar
        return "tar"
    if not head:
        raise InvalidInput("the archive is empty", reason="empty_archive")
    raise InvalidInput(
        "unrecognized archive format (expected tar, tar.gz or zip)", reason="unknown_format"
    )


class GunzipReader:
    """A read(n) view of gunzipped bytes, with the bomb check done as they are produced.

    Handles concatenated gzip members (as `gzip -c a b` writes), verifies each
    member's CRC and length trailer (zlib does, with wbits=31) and tells a
    truncated stream from a finished one.
    """

    def __init__(self, reader: CountingReader, tally: Tally, *, chunk: int) -> None:
        self._reader = reader
        self._tally = tally
        self._chunk = chunk
        self._zobj = zlib.decompressobj(wbits=31)
        self._tail = b""  # compressed input not yet given to zlib
        self.produced = 0

    def read(self, n: int) -> bytes:
        """Up to `n` decompressed bytes; b"" only at the verified end of the stream."""
        while True:
            out = self._step(n)
            if out is None:
                return b""
            if out:
                self.produced += len(out)
                # judged on the input zlib has used, not on what was read ahead of it: a
                # small bomb arrives in one read, and would otherwise expand 200 times its
                # whole size before being caught
                used = self._reader.consumed - len(self._tail)
                self._tally.check_ratio(self.produced, used)
                return out

    def _step(self, n: int) -> bytes | None:
        zobj = self._zobj
        if zobj.eof:
            rest = zobj.unused_data or self._reader.read(self._chunk)
            if not rest:
                return None
            self._zobj = zobj = zlib.decompressobj(wbits=31)
            self._tail = rest
        if not self._tail:
            self._tail = zobj.unconsumed_tail or self._reader.read(self._chunk)
            if not self._tail:
                raise InvalidInput(
                    "truncated archive: the gzip stream ends early", reason="truncated"
                )
        try:
            out = zobj.decompress(self._tail, n)
        except zlib.error as exc:
            raise InvalidInput(f"corrupt gzip data: {exc}", reason="corrupt") from None
        self._tail = zobj.unconsumed_tail
        return out
