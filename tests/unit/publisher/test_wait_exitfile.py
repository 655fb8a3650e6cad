"""The `exitfile` wait strategy: exit-code files in /share/.radswift, from a real emissary.

It returns when every awaited worker's file is there, with the recorded code and
reason; it keeps waiting while any is missing; it gives up at the deadline; and it
refuses a file that holds no exit code rather than guessing.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from radswift.errors import DeadlineExceeded, WaitFailed
from radswift.publisher.emissary import install_emissary
from radswift.publisher.share import ShareLayout
from radswift.publisher.wait.base import Deadline, ProcessorOutcome
from radswift.publisher.wait.exitfile import ExitFileWait


@pytest.fixture
def share(tmp_path: Path) -> ShareLayout:
    layout = ShareLayout(tmp_path / "share")
    layout.control.mkdir(parents=True)
    return layout


def test_it_waits_for_a_real_processor_run_through_the_emissary(
    share: ShareLayout, emissary_binary: Path
) -> None:
    install_emissary(emissary_binary, share)
    processor = subprocess.Popen([str(share.emissary), "--", "sh", "-c", "sleep 0.5; exit 3"])
    try:
        started = time.monotonic()
        found: dict[int, ProcessorOutcome] = {}
        ExitFileWait(share, indexed=False, interval=0.05).wait([0], Deadline.after(20), found)
        assert time.monotonic() - started >= 0.4  # it did wait for the processor
        assert (found[0].exit_code, found[0].reason) == (3, "Error")
    finally:
        assert processor.wait(timeout=10) == 3


def test_it_waits_for_every_worker(share: ShareLayout) -> None:
    (share.control / "exitcode.0").write_text('{"exit_code": 0, "reason": "Completed"}')
    (share.control / "exitcode.2").write_text("1\n")  # a shell wrapper's `echo $?` counts too
    found: dict[int, ProcessorOutcome] = {}
    with pytest.raises(DeadlineExceeded, match="workers still running: 1"):
        ExitFileWait(share, indexed=True, interval=0.05).wait([0, 1, 2], Deadline.after(0.5), found)
    assert {w: o.exit_code for w, o in found.items()} == {0: 0, 2: 1}
    (share.control / "exitcode.1").write_text('{"exit_code": 0}')
    ExitFileWait(share, indexed=True, interval=0.05).wait([0, 1, 2], Deadline.after(5), found)
    assert sorted(found) == [0, 1, 2]


def test_a_single_worker_accepts_either_name(share: ShareLayout) -> None:
    (share.control / "exitcode.0").write_text('{"exit_code": 9, "reason": "Error"}')
    found: dict[int, ProcessorOutcome] = {}
    ExitFileWait(share, indexed=False, interval=0.05).wait([0], Deadline.after(5), found)
    assert found[0].exit_code == 9


def test_the_deadline_ends_the_wait(share: ShareLayout) -> None:
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        ExitFileWait(share, indexed=False, interval=0.05).wait([0], Deadline.after(0.3), {})
    assert 0.25 < time.monotonic() - started < 2


def test_a_file_without_an_exit_code_is_an_error(share: ShareLayout) -> None:
    (share.control / "exitcode").write_text("garbage")
    with pytest.raises(WaitFailed, match="not an exit code"):
        ExitFileWait(share, indexed=False, interval=0.05).wait([0], Deadline.after(5), {})


def _planted_fifo(path: Path) -> None:
    import os

    os.mkfifo(path)


PLANTED = {
    # the control directory is world-writable: a processor can put anything there
    "deeply nested JSON": lambda p: p.write_text("[" * 100_000 + "]" * 100_000),
    "a huge file": lambda p: p.write_bytes(b" " * (64 * 1024 * 1024) + b"0"),
    "not UTF-8": lambda p: p.write_bytes(b"\xff\xfe0"),
    "a FIFO nobody writes": _planted_fifo,
    "a symlink to a file elsewhere": lambda p: p.symlink_to(p.parent.parent / "target"),
}


@pytest.mark.parametrize("case", sorted(PLANTED))
def test_a_planted_exit_file_is_a_wait_failure_not_a_crash_or_a_hang(
    share: ShareLayout, case: str
) -> None:
    (share.control.parent / "target").write_text("0")
    PLANTED[case](share.control / "exitcode")
    with pytest.raises(WaitFailed):
        ExitFileWait(share, indexed=False, interval=0.05).wait([0], Deadline.after(5), {})
