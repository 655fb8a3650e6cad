"""A LocalStore whose writer was killed (`kill -9`) mid-put: on the next start nothing of
that put remains, neither its temp file nor the key it was about to create (defect 10
of issue 11)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from radswift.store.local import LocalStore

WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from radswift.store.local import LocalStore

    class Stalling:
        '''A body that gives 1 MiB, then hangs: the put stays in progress.'''
        sent = 0
        def read(self, n):
            if self.sent >= 1 << 20:
                time.sleep(3600)
            self.sent += n
            return b"x" * n

    store = LocalStore(Path(sys.argv[1]))
    store.ensure_container("crashed-key")
    store.put_object("crashed-key", "input/big.bin", Stalling(), 64 << 20)
    """
)


def _kill_mid_put(root: Path) -> None:
    """Run a writer process until its put has bytes in tmp/, then SIGKILL it."""
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(root)])
    try:
        deadline = time.monotonic() + 30
        while not any(p.stat().st_size for p in (root / "tmp").glob("*")):
            assert proc.poll() is None, "the writer ended before its put began"
            assert time.monotonic() < deadline, "the put never started writing"
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)


def test_a_put_killed_mid_way_leaves_no_temp_file_and_no_key(tmp_path: Path) -> None:
    root = tmp_path / "store"
    LocalStore(root).close()
    _kill_mid_put(root)
    assert list((root / "tmp").iterdir()), "the crash should have left its temp file"

    store = LocalStore(root)  # the next start
    try:
        assert list((root / "tmp").iterdir()) == []
        assert not store.container_exists("crashed-key")
    finally:
        store.close()


def test_a_start_leaves_the_temp_files_of_a_live_writer_alone(tmp_path: Path) -> None:
    root = tmp_path / "store"
    writer = LocalStore(root)
    try:
        writer.ensure_container("k")
        tmp_before = set((root / "tmp").iterdir())

        class Hook:
            """A body that opens a second store (another process starting) mid-put."""

            sent = 0

            def read(self, n: int) -> bytes:
                if self.sent == 0:
                    time.sleep(0.05)  # the temp file is now older than the new start
                else:
                    LocalStore(root).close()
                self.sent += n
                return b"y" * n

        writer.put_object("k", "a", Hook(), 2 * 1024 * 1024)  # type: ignore[arg-type]
        assert set((root / "tmp").iterdir()) == tmp_before
        with writer.open_object("k", "a") as reader:
            assert sum(len(c) for c in reader.iter_chunks()) == 2 * 1024 * 1024
    finally:
        writer.close()


def test_an_empty_key_becomes_visible_to_other_processes_with_its_first_object(
    tmp_path: Path,
) -> None:
    root = tmp_path / "store"
    writer, reader = LocalStore(root), LocalStore(root)
    try:
        writer.ensure_container("k")
        assert writer.container_exists("k")
        assert list(writer.list_objects("k")) == []
        assert not reader.container_exists("k")
        writer.put_object("k", "a", __import__("io").BytesIO(b"1"), 1)
        assert reader.container_exists("k")
        assert [o.name for o in reader.list_objects("k")] == ["a"]
    finally:
        writer.close()
        reader.close()
