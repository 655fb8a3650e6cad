"""Before/after for a change to pman's no-op latency: two radswift pmans side by side, one
on an older checkout's sources (`--before-src`, e.g. `git archive COMMIT src | tar -x -C
/tmp/before`, then `/tmp/before/src`), one on this one, a no-op job each in turn (`sync`
before each, status read every 5 ms, as bench/pman.py measures it); median, p90 and min
of each. Both use this venv's dependencies and emissary; only radswift's code differs.

    .venv/bin/python bench/pman_before_after.py --before-src /tmp/before/src --jobs 30
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ioh import free_port, server
from pman import BIN, Tool, noop_seconds, percentile
from radswift.jobs.local import LocalBackend


def start(stack: ExitStack, work: Path, env: dict[str, str], isolation: str) -> str:
    """A radswift pman on the local backend with `env`; its URL once healthy."""
    work.mkdir(parents=True)
    port = free_port()
    emissary = LocalBackend(work / "emissary", environ={}).ensure_emissary()
    cmd = [str(BIN / "pman"), "--ip", "127.0.0.1", "--port", str(port),
           "--db", str(work / "registry.db"), "--jobs-dir", str(work / "jobs"),
           "--storeBase", str(work / "store"), "--isolation", isolation,
           "--emissary", str(emissary), "--max-running", "4"]  # fmt: skip
    stack.enter_context(server(cmd, env, port, work / "pman.log"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                return url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"pman in {work} did not become healthy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before-src", type=Path, required=True, help="the older src/ dir")
    parser.add_argument("--jobs", type=int, default=30, help="no-op jobs per side")
    parser.add_argument("--isolation", default="none", choices=("none", "bubblewrap"))
    args = parser.parse_args()
    if not (args.before_src / "radswift" / "__init__.py").is_file():
        raise SystemExit(f"{args.before_src} holds no radswift package")
    print(f"load average {os.getloadavg()[0]:.1f} at start", flush=True)
    times: dict[str, list[float]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="bench-pman-ab-") as tmp, ExitStack() as stack:
        before_env = dict(os.environ, PYTHONPATH=str(args.before_src.absolute()))
        urls = {
            "before": start(stack, Path(tmp) / "before", before_env, args.isolation),
            "after": start(stack, Path(tmp) / "after", dict(os.environ), args.isolation),
        }
        client = stack.enter_context(httpx.Client(timeout=10))
        tools = [Tool(name, url, client) for name, url in urls.items()]
        for round_ in range(args.jobs + 2):  # the first two of each warm up
            for tool in tools:
                seconds = noop_seconds(tool, timeout=15)
                if round_ >= 2 and seconds is not None:
                    times[tool.name].append(seconds)
    for name, values in times.items():
        if not values:
            print(f"{name:<7} no job finished")
            continue
        print(f"{name:<7} median {statistics.median(values) * 1000:.1f} ms"
              f"  p90 {percentile(values, 0.9) * 1000:.1f} ms  min {min(values) * 1000:.1f} ms"
              f"  ({len(values)} of {args.jobs})")  # fmt: skip
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
