"""pman's own /proc files are closed to its jobs: a local job with `--isolation none` is a
process of pman's user, and must still not read pman's environment (its secrets) through
/proc/<pman>/environ. Root reads every process's files, so the check runs as an
unprivileged user (here: `nobody`, through setpriv, when the tests run as root)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pman_support import Pman, new_jid, script_job

from radswift.jobs.local import LocalBackend
from radswift.store.local import LocalStore

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc builds the emissary")

SECRET = "RADSWIFT_SELFGUARD_PROBE"


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory the unprivileged user can write (pytest's tmp_path is root's, 0700)."""
    path = Path(tempfile.mkdtemp(prefix="radswift-guard-", dir="/var/tmp"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def as_user() -> list[str]:
    """The argv prefix that runs a command as an unprivileged user ([] if we are one)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root and setpriv (util-linux) is missing: cannot drop to a user")
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("running as root and there is no user `nobody` to drop to")
    return [setpriv, f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]


def start_pman(directory: Path, runner: list[str]) -> Pman:
    emissary = LocalBackend(directory / "e", environ={}).ensure_emissary()
    for path in (directory / "e", *(directory / "e").rglob("*")):
        path.chmod(0o755)
    pman = Pman(
        directory / "pman",
        ["--storeBase", str(directory / "store"), "--isolation", "none",
         "--emissary", str(emissary)],
        {**os.environ, SECRET: "s3cret-" + new_jid(), "HOME": str(directory)},
        runner=runner,
    )  # fmt: skip
    pman.directory.mkdir(mode=0o777)
    pman.directory.chmod(0o777)
    pman.launch()
    return pman


def test_a_job_of_pmans_own_user_cannot_read_pmans_environment(shared_dir: Path) -> None:
    runner = as_user()
    pman = start_pman(shared_dir, runner)
    try:
        assert pman.proc is not None
        pid = pman.proc.pid  # setpriv execs pman
        jid = new_jid("peek")
        script = f"cat /proc/{pid}/environ > /share/outgoing/environ.txt; true"
        pman.submit(**script_job(jid, script, type="fs"))
        job = pman.wait(jid)
        direct = subprocess.run([*runner, "cat", f"/proc/{pid}/environ"], capture_output=True,
                                check=False)  # fmt: skip
    finally:
        pman.close()

    assert job["status"] == "finishedSuccessfully", job
    with LocalStore(shared_dir / "store").open_object(jid, "output/environ.txt") as reader:
        seen = b"".join(reader.iter_chunks())
    assert SECRET.encode() not in seen and seen == b""
    assert direct.returncode != 0 and SECRET.encode() not in direct.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="the warning is for a pman running as root")
def test_a_pman_running_as_root_warns_that_its_local_jobs_run_as_root(shared_dir: Path) -> None:
    pman = start_pman(shared_dir, [])
    pman.close()

    assert "local jobs run as root" in pman.log()
