"""A replace deletes the old tree only after the reads that began before its switch."""

from __future__ import annotations

import threading
import time

from radswift.services.ioh.core.leases import ReadLeases


def test_the_switch_waits_for_earlier_reads_only() -> None:
    leases = ReadLeases(grace=10)
    switched: list[bool] = []
    with leases.reading("k", "input/"):
        waiter = threading.Thread(target=lambda: switched.append(leases.switched("k", "input/")))
        waiter.start()
        time.sleep(0.2)
        with leases.reading("k", "input/"):  # began after the switch: not waited for
            assert not switched  # still waiting for the first read
    waiter.join(10)
    assert switched == [True]


def test_a_read_slower_than_the_grace_is_not_waited_for_longer() -> None:
    leases = ReadLeases(grace=0.2)
    with leases.reading("k", "input/"):
        started = time.monotonic()
        assert leases.switched("k", "input/") is False
        assert time.monotonic() - started < 5
    assert leases.switched("k", "input/") is True  # nothing left to wait for


def test_reads_of_other_areas_and_keys_do_not_hold_a_switch() -> None:
    leases = ReadLeases(grace=5)
    with leases.reading("k", "output/"), leases.reading("other", "input/"):
        assert leases.switched("k", "input/") is True
