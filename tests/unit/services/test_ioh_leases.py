"""A replace deletes the old tree only after the reads that began before its switch."""

from __future__ import annotations

import threading
import time

from radswift.services.ioh.core.leases import ReadLeases


def test_the_switch_waits_for_earlier_reads_only() -> None:
    leases = ReadLeases()
    done: list[bool] = []
    with leases.reading("k", "input/"):
        before = leases.switch("k", "input/")
        waiter = threading.Thread(
            target=lambda: done.append(leases.wait("k", "input/", before, 10))
        )
        waiter.start()
        time.sleep(0.2)
        with leases.reading("k", "input/"):  # began after the switch: not waited for
            assert not done  # still waiting for the first read
    waiter.join(10)
    assert done == [True]


def test_a_wait_ends_at_its_timeout_or_when_closed() -> None:
    leases = ReadLeases()
    with leases.reading("k", "input/"):
        before = leases.switch("k", "input/")
        assert leases.wait("k", "input/", before, 0.2) is False
        closer = threading.Timer(0.2, leases.close)
        closer.start()
        started = time.monotonic()
        assert leases.wait("k", "input/", before, 60) is False
        assert time.monotonic() - started < 30
    assert leases.wait("k", "input/", before, 0) is True  # nothing left to wait for


def test_reads_of_other_areas_and_keys_do_not_hold_a_switch() -> None:
    leases = ReadLeases()
    with leases.reading("k", "output/"), leases.reading("other", "input/"):
        assert leases.wait("k", "input/", leases.switch("k", "input/"), 5) is True
