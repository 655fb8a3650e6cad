"""Building and installing the emissary, the tiny C wrapper of the `exitfile` strategy.

Why C and static: the processor image may have no shell and no Python, so the
wrapper must be one self-contained executable. `gcc -static -O2` with glibc is enough
for fork/exec/waitpid (no name-service calls). The image build runs
`radswift publish build-emissary /usr/local/libexec/radswift/radswift-emissary`, and
`publish get` copies that file into /share/.radswift/bin/. Limits: Linux only; the
binary is for the build machine's architecture (x86_64 or aarch64, whatever the
publisher image is built for; the processor must run on the same); /share must
not be mounted noexec in the processor container. Behaviour: emissary.c's header.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from importlib import resources
from pathlib import Path

from radswift.errors import ConfigError
from radswift.podcontract.share import ShareLayout, make_shared_dir

SOURCE_NAME = "emissary.c"
CFLAGS = ("-static", "-O2", "-Wall", "-Wextra", "-s")
SPAWN_LOCK = threading.Lock()
"""Held while the emissary is copied and while a step is started (fork to exec), where
both happen in one process (the local backend's in-process get beside other jobs'
steps). A child forked while a copy is open for writing holds that descriptor until
its exec, and an exec of that emissary meanwhile fails: ETXTBSY, "Text file busy"
(seen once in 600 jobs run four at a time)."""


def source_path() -> Path:
    """The emissary's C source, shipped inside the package."""
    return Path(str(resources.files("radswift.podcontract") / SOURCE_NAME))


def build_emissary(out: Path, *, compiler: str = "gcc") -> Path:
    """Compile the emissary statically into `out` (mode 0o755); ConfigError if it fails."""
    cc = shutil.which(compiler)
    if cc is None:
        raise ConfigError(f"cannot build the emissary: {compiler} is not installed")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.building")
    result = subprocess.run(
        [cc, *CFLAGS, "-o", str(tmp), str(source_path())],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"building the emissary failed:\n{result.stderr.strip()}")
    tmp.chmod(0o755)
    tmp.replace(out)
    return out


def install_emissary(source: Path, share: ShareLayout) -> Path:
    """Copy the built emissary into the share, executable by any user; return its path."""
    if not source.is_file():
        raise ConfigError(
            f"the emissary binary {source} is missing (set RADSWIFT_EMISSARY, or build it "
            "with `radswift publish build-emissary PATH`)"
        )
    make_shared_dir(share.control)
    target = share.emissary
    target.parent.mkdir(parents=True, exist_ok=True)
    target.parent.chmod(0o755)
    tmp = target.with_name(f".{target.name}.copying")
    with SPAWN_LOCK:
        shutil.copyfile(source, tmp)
    tmp.chmod(0o755)
    tmp.replace(target)
    return target
