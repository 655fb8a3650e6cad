"""Checking what pfioh serves against the MD5s the store vouches for.

The checking itself is the transfer engine's (radswift.transfer.hashing.VerifiedChunks:
a plain object's ETag is the MD5 of its bytes, a large object is checked segment by
segment). What is pfioh's is making a failed check reach the client: a mismatch is an
IntegrityError raised inside the response's body iterator; the server then aborts the
response, so the client sees a broken stream (short of its Content-Length, or an
archive without its end), never a silently wrong file. That only works if the mismatch
is known before the last bytes go out: `held_back` keeps the last chunk of a response
until the check ran.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator


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
