"""The put pipeline of a streamed upload: a producer hands puts to a shared pool, at most
`limit` of its own at once; the first failure stops it; after an abort nothing more is
stored, yet every body is released. Pure logic on a real thread pool, no store."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from radswift.transfer.pipeline import PutPipeline

WAIT = 10.0  # seconds: a bound on each wait, never a timing assertion


def test_no_more_than_limit_puts_of_one_producer_run_at_once() -> None:
    running = 0
    most = 0
    lock = threading.Lock()
    together = threading.Barrier(3, timeout=WAIT)  # broken if fewer than 3 ever run at once

    def put() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        together.wait()
        with lock:
            running -= 1

    with ThreadPoolExecutor(8) as pool:
        pipeline = PutPipeline(pool, 3)
        for _ in range(30):
            pipeline.check()
            with pipeline.slot() as slot:
                slot.run(put)
        pipeline.settle()
        pipeline.check()
    assert most == 3


def test_the_first_failed_put_stops_the_producer() -> None:
    def fail() -> None:
        raise OSError("refused")

    with ThreadPoolExecutor(2) as pool:
        pipeline = PutPipeline(pool, 2)
        with pipeline.slot() as slot:
            slot.run(fail)
        pipeline.settle()
        with pytest.raises(OSError, match="refused"):
            pipeline.check()


def test_after_an_abort_waiting_puts_store_nothing_but_release_their_bodies() -> None:
    gate = threading.Event()
    stored: list[int] = []
    released: list[int] = []

    def put(i: int) -> None:
        if i == 0:
            assert gate.wait(WAIT)
        stored.append(i)

    with ThreadPoolExecutor(1) as pool:  # put 0 blocks the only thread: 1 and 2 wait
        pipeline = PutPipeline(pool, 3)
        for i in range(3):
            with pipeline.slot() as slot:
                slot.run(lambda i=i: put(i), then=lambda i=i: released.append(i))
        aborting = threading.Thread(target=pipeline.abort)
        aborting.start()
        while not pipeline.aborted:  # the abort is in effect before put 0 ends
            threading.Event().wait(0.001)
        gate.set()
        aborting.join(WAIT)
    assert stored == [0]
    assert sorted(released) == [0, 1, 2]


def test_a_slot_given_up_without_a_put_is_free_again() -> None:
    with ThreadPoolExecutor(1) as pool:
        pipeline = PutPipeline(pool, 1)
        with pytest.raises(ValueError), pipeline.slot():
            raise ValueError("the entry was refused while it was read")
        done = threading.Event()
        with pipeline.slot() as slot:  # would block forever if the slot were lost
            slot.run(done.set)
        pipeline.settle()
    assert done.is_set()
