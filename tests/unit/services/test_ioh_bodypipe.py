"""The request-body pipe: back-pressure, end of body, interruption, early stop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from starlette.requests import ClientDisconnect

from radswift.services.ioh.bodypipe import BodyInterrupted, BodyPipe


async def body(chunks: list[bytes], fail: bool = False) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
    if fail:
        raise ClientDisconnect()


def read_all(pipe: BodyPipe) -> bytes:
    out = b""
    while data := pipe.read(3):
        out += data
    return out


def test_the_reader_gets_every_byte_in_order_through_a_tiny_buffer() -> None:
    async def main() -> bytes:
        pipe = BodyPipe(asyncio.get_running_loop(), max_buffered=4)
        reader = asyncio.get_running_loop().run_in_executor(None, read_all, pipe)
        await pipe.pump(body([b"hello ", b"world", b"!" * 50]))
        return await reader

    assert asyncio.run(main()) == b"hello world" + b"!" * 50


def test_a_client_that_goes_away_makes_the_reader_raise() -> None:
    async def main() -> None:
        pipe = BodyPipe(asyncio.get_running_loop())
        reader = asyncio.get_running_loop().run_in_executor(None, read_all, pipe)
        await pipe.pump(body([b"partial"], fail=True))
        await reader

    with pytest.raises(BodyInterrupted):
        asyncio.run(main())


def test_an_abandoned_pipe_stops_the_pump() -> None:
    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield b"x" * 1000

    async def main() -> int:
        pipe = BodyPipe(asyncio.get_running_loop(), max_buffered=2000)
        pump = asyncio.create_task(pipe.pump(endless()))
        await asyncio.sleep(0.05)
        pipe.abandon()
        await asyncio.wait_for(pump, 5)
        return pipe.received

    assert asyncio.run(main()) <= 3000
