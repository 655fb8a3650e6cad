"""Credentials never appear in radswift's output, its logs (even at DEBUG), process titles
or `ps`, whichever form they come in.

The transfer runs with every logger at DEBUG (keystoneauth1's request logs included),
while `ps -ww -eo pid,args` (full width) is sampled until it ends; then the password or application
secret, and any Keystone token (fernet tokens start with `gAAAAA`), are looked for in all
of it.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from ks_util import CredentialForm, clean_env, make_tree

pytestmark = [pytest.mark.keystone, pytest.mark.slow]

DEBUG_MAIN = (
    "import logging, sys; logging.basicConfig(level=logging.DEBUG); sys.argv[0] = 'radswift'; "
    "from radswift.cli.main import main; sys.exit(main())"
)
FERNET_TOKEN_PREFIX = "gAAAAA"


def _run_sampling_ps(argv: list[str], env: dict[str, str], logs: Path) -> tuple[int, str, str]:
    """Run argv to the end (stdout/stderr into files), sampling `ps` meanwhile."""
    samples: list[str] = []
    with (logs / "out").open("w") as out, (logs / "err").open("w") as err:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err, text=True)
        deadline = time.monotonic() + 180
        while proc.poll() is None and time.monotonic() < deadline:
            ps = subprocess.run(["ps", "-ww", "-eo", "pid,args"], capture_output=True, text=True)
            samples += [line for line in ps.stdout.splitlines() if line.split()[0] == str(proc.pid)]
            time.sleep(0.05)
        code = proc.wait(timeout=10)
    return code, "\n".join(samples), (logs / "out").read_text() + (logs / "err").read_text()


def test_credentials_never_appear_in_output_debug_logs_or_ps(
    form: CredentialForm, tmp_path: Path
) -> None:
    study = make_tree(tmp_path, files=20, size=20_000)
    key = f"ks-sec-{uuid.uuid4().hex[:8]}"
    argv = [sys.executable, "-c", DEBUG_MAIN, "cp", str(study), f"swift://{key}/input/"]
    code, ps_lines, output = _run_sampling_ps(
        [*argv, "--workers", "2", *form.cli_args()], {**clean_env(), **form.env}, tmp_path
    )

    assert code == 0, output[-2000:]
    assert "radswift" in ps_lines and "cp" in ps_lines  # ps saw the transfer running
    assert "DEBUG:keystoneauth" in output and "/v3/auth/tokens" in output  # logs were on
    assert form.secret
    assert form.secret not in ps_lines
    assert form.secret not in output
    assert FERNET_TOKEN_PREFIX not in output
