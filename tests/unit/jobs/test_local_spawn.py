"""A step whose program is still open for writing somewhere (a sibling forked while get
copied the emissary in) starts once the writer lets go, instead of failing with
ETXTBSY ("Text file busy"), exit 127."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest

from radswift.jobs.local_spawn import spawn_step


def busy_program(tmp_path: Path) -> tuple[Path, int]:
    program = tmp_path / "program"
    fd = os.open(program, os.O_WRONLY | os.O_CREAT, 0o755)
    os.write(fd, b"#!/bin/sh\nexit 7\n")
    return program, fd


def test_a_program_busy_for_a_moment_is_started_once_it_is_free(tmp_path: Path) -> None:
    program, fd = busy_program(tmp_path)
    threading.Timer(0.05, os.close, args=(fd,)).start()
    with (tmp_path / "log").open("ab") as log:
        proc = spawn_step([str(program)], {}, tmp_path, log, hold_sigterm=False)
    assert proc.wait(30) == 7


def test_a_program_that_stays_busy_is_still_an_error(tmp_path: Path) -> None:
    program, fd = busy_program(tmp_path)
    try:
        with (tmp_path / "log").open("ab") as log, pytest.raises(OSError) as failed:
            spawn_step([str(program)], {}, tmp_path, log, hold_sigterm=False)
    finally:
        os.close(fd)
    assert failed.value.errno == errno.ETXTBSY
