"""Local jobs in bubblewrap: the processor sees the host read-only, its share at /share and
nothing of other jobs, the credentials or the network; get and publish still reach the
store; limits are applied or recorded as not. Skipped where bwrap cannot run."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pman_support import Pman, new_jid, script_job

from radswift.jobs.local import LocalBackend
from radswift.store.local import LocalStore

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc builds the emissary")

PROBE = """
job=$(dirname "$(dirname "$0")")
ls "$job" > /share/outgoing/job-dir.txt
ls "$(dirname "$job")" > /share/outgoing/jobs-root.txt
touch /usr/radswift-probe 2> /dev/null && echo writable > /share/outgoing/host.txt \
    || echo read-only > /share/outgoing/host.txt
python3 -c "import socket; socket.create_connection(('127.0.0.1', PORT), 2)" 2> /dev/null \
    && echo reachable > /share/outgoing/net.txt || echo unreachable > /share/outgoing/net.txt
ulimit -v > /share/outgoing/ulimit.txt
ls /share > /share/outgoing/share.txt
"""


@pytest.fixture
def emissary(tmp_path: Path) -> Path:
    """The emissary, where bubblewrap runs (skipped elsewhere)."""
    if shutil.which("bwrap") is None:
        pytest.skip("bwrap is not installed (Debian package bubblewrap)")
    probe = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--unshare-net", "true"],
                           capture_output=True, text=True, check=False)  # fmt: skip
    if probe.returncode != 0:
        pytest.skip(f"bwrap cannot run here: {probe.stderr.strip()}")
    return LocalBackend(tmp_path / "e", environ={}).ensure_emissary()


@pytest.fixture
def pman(tmp_path: Path, emissary: Path) -> Iterator[Pman]:
    server = Pman.local(
        tmp_path / "pman", store=tmp_path / "store", isolation="bubblewrap", emissary=emissary
    )
    yield server
    server.close()


def read(store: LocalStore, key: str, name: str) -> str:
    with store.open_object(key, f"output/{name}") as reader:
        return b"".join(reader.iter_chunks()).decode()


def test_the_processor_is_fenced_in_and_the_job_still_publishes(pman: Pman) -> None:
    other, jid = new_jid("other"), new_jid("fenced")
    pman.submit(**script_job(other, "true", type="fs"))
    pman.wait(other)
    port = pman.url.rsplit(":", 1)[1]
    pman.submit(**script_job(jid, PROBE.replace("PORT", port), type="fs", memory_limit="512Mi",
                             cpu_limit="1"))  # fmt: skip

    job = pman.wait(jid)

    assert job["status"] == "finishedSuccessfully", job
    assert job["backend"]["isolation"] == "bubblewrap"
    assert job["backend"]["network"] == {"get": True, "processor": False, "publish": True}
    assert job["backend"]["limits"]["memory"]["applied"] is True
    assert job["backend"]["limits"]["cpu"]["applied"] is False
    store = LocalStore(pman.directory.parent / "store")
    assert read(store, jid, "job-dir.txt").split() == ["share", "tmp"]  # no credentials/
    assert read(store, jid, "jobs-root.txt").split() == [jid]  # no other job, no emissary
    assert read(store, jid, "host.txt") == "read-only\n"
    assert read(store, jid, "net.txt") == "unreachable\n"
    assert read(store, jid, "ulimit.txt") == f"{512 * 1024}\n"  # KiB
    assert {"incoming", "outgoing"} <= set(read(store, jid, "share.txt").split())


@pytest.fixture
def outside_tmp() -> Iterator[Path]:
    """A directory outside /tmp (which bubblewrap replaces anyway), as ~/.local/state is."""
    path = Path(tempfile.mkdtemp(prefix="radswift-test-", dir="/var/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_pmans_token_file_and_registry_cannot_be_read_in_bubblewrap(
    emissary: Path, outside_tmp: Path
) -> None:
    tmp_path = outside_tmp
    token = "tok-" + new_jid()
    (tmp_path / "token").write_text(token + "\n")
    server = Pman.start(tmp_path / "pman-auth", "--storeBase", str(tmp_path / "store"),
                        "--isolation", "bubblewrap", "--emissary", str(emissary),
                        "--enableTokenAuth", "--tokenPath", str(tmp_path / "token"))  # fmt: skip
    server.client.headers["Authorization"] = f"Bearer {token}"
    registry = server.directory / "registry.db"
    jid = new_jid("nosy")
    script = f"cat {tmp_path / 'token'} {registry} > /share/outgoing/seen.txt; true"
    try:
        assert server.submit(**script_job(jid, script, type="fs")).status_code == 201
        job = server.wait(jid)
    finally:
        server.close()

    assert job["status"] == "finishedSuccessfully", job
    assert registry.read_bytes().startswith(b"SQLite format")  # what it would have seen
    assert read(LocalStore(tmp_path / "store"), jid, "seen.txt") == ""


SIGHTS = """
ls /proc | grep '^[0-9]' > /share/outgoing/pids.txt
cat /proc/PMAN/environ > /share/outgoing/environ.txt 2> /dev/null
ls /proc/PMAN/root/ > /share/outgoing/root.txt 2> /dev/null
grep CapEff /proc/self/status > /share/outgoing/caps.txt
true
"""


def test_the_processor_sees_only_its_own_processes_and_holds_no_capability(pman: Pman) -> None:
    assert pman.proc is not None
    jid = new_jid("pidns")
    pman.submit(**script_job(jid, SIGHTS.replace("PMAN", str(pman.proc.pid)), type="fs"))

    job = pman.wait(jid)

    assert job["status"] == "finishedSuccessfully", job
    store = LocalStore(pman.directory.parent / "store")
    pids = [int(pid) for pid in read(store, jid, "pids.txt").split()]
    assert 1 in pids and len(pids) < 10 and max(pids) < 50, pids  # a fresh PID namespace
    assert read(store, jid, "environ.txt") == ""  # pman is not in it
    assert read(store, jid, "root.txt") == ""
    assert read(store, jid, "caps.txt").split() == ["CapEff:", "0000000000000000"]


def sandboxed(marker: str) -> list[int]:
    """The PIDs of every process whose command line holds `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "cmdline").read_bytes().decode():
                found.append(int(entry.name))
        except (OSError, UnicodeDecodeError):
            continue
    return found


def test_deleting_a_job_ends_every_process_in_its_sandbox_even_a_new_session(
    pman: Pman,
) -> None:
    jid = new_jid("escape")
    marker = f"299.{uuid.uuid4().int % 10**9:09d}"  # sleep's argument, unique to this test
    script = f"setsid sh -c 'sleep {marker}' & echo started; trap '' TERM; sleep {marker}"
    pman.submit(**script_job(jid, script, type="fs"))
    pman.wait(jid, until=lambda job: "started" in pman.logs(jid, "processor"))
    deadline = time.monotonic() + 30
    while len(sandboxed(marker)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sandboxed(marker)) >= 2

    assert pman.client.delete(f"{pman.url}/api/v1/jobs/{jid}").status_code == 204

    deadline = time.monotonic() + 30
    while sandboxed(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sandboxed(marker) == []
