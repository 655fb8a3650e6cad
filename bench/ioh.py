"""Benchmark: pfioh (REST and legacy pfurl) versus `swift upload/download`, and versus the
original pfioh 2.2.0.8 in local mode, all in one run against one local Swift.

Data: the CT series of bench/datasets.py (1,000 DICOM slices of about 512 KiB). Steps:

  swift CLI   swift upload / swift download --object-threads 10 (the reference)
  REST        radswift's IohClient push (a tar streamed on the fly) and pull (a tar
              unpacked as it arrives) through our pfioh --swift-storage, in each layout
              of --layouts: objects (one object per file), bundle (one tar object per
              push, `?layout=bundle`); --repeat-pull N pulls N times (median reported),
              and the swift CLI downloads N times too, so both rows are medians
  legacy      pfurl 2.3 pushPath / pullPath (zip) through our pfioh --swift-storage
  original    pfurl 2.3 pushPath / pullPath through pfioh 2.2.0.8 in local mode
              (--storeBase; it has no working Swift mode)
  bundle      the swift CLI moving one tar of the series: what the bundle layout's REST
              rows can be held against

It prints MiB/s per step, the REST/swift ratio (bar: >= 0.9), ours/original (bar: >= 2)
and the peak RSS of our pfioh process over the whole run (bar: < 150 MiB while it moves
every step's bytes: well over 2 GiB with the default data set).

    .venv/bin/python bench/ioh.py --legacy-venv /path/to/venv-with-pfurl-and-pfioh-2.2
    .venv/bin/python bench/ioh.py --slices 200 --skip-original     # quicker
    .venv/bin/python bench/ioh.py --slices 5 --skip-bundle --repeat-pull 2   # smoke run

The legacy venv: python3 -m venv V && V/bin/pip install pfioh==2.2.0.8 pman==2.2.0.4
pfurl==2.3.0.1. Uses ST_AUTH/ST_USER/ST_KEY when set, else starts its own local Swift.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from datasets import make_ct_series, swift_environment, tree_bytes  # noqa: E402
from radswift.bundle import LAYOUTS, Layout  # noqa: E402
from radswift.service_clients.pfioh import IohClient  # noqa: E402

BIN = Path(sys.executable).parent
MiB = 1024 * 1024


@dataclass
class Results:
    rates: dict[str, float] = field(default_factory=dict)
    moved: int = 0

    def record(self, name: str, nbytes: int, seconds: float) -> None:
        self.rates[name] = nbytes / MiB / seconds
        self.moved += nbytes
        print(f"  {name:<22} {self.rates[name]:7.1f} MiB/s  ({seconds:.1f} s)", flush=True)


class RssWatch:
    """Samples a process's RSS every 50 ms; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self._proc = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            try:
                self.peak = max(self.peak, self._proc.memory_info().rss)
            except psutil.Error:
                return

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def timed(fn: Callable[[], object]) -> float:
    """Seconds `fn` takes. Dirty pages are flushed first (os.sync, untimed): otherwise a
    step pays for the writeback of the upload before it, which is not its own work."""
    os.sync()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])}... failed:\n{done.stderr[-2000:]}")


@contextmanager
def server(cmd: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[int]:
    """A pfioh process (ours or the original) on `port`; yields its PID; stopped by PID."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"{cmd[0]} exited: {log.read_text()[-2000:]}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def pfurl_msg(action: str, key: str, local: Path) -> str:
    return json.dumps(
        {
            "action": action,
            "meta": {
                "remote": {"key": key},
                "local": {"path": str(local), "createDir": True},
                "transport": {
                    "mechanism": "compress",
                    "compress": {"archive": "zip", "unpack": True, "cleanup": True},
                },
            },
        }
    )


def pfurl(venv: Path, port: int, msg: str, cwd: Path) -> None:
    run(
        [
            str(venv / "bin" / "pfurl"),
            "--verb",
            "POST",
            "--quiet",
            "--http",
            f"127.0.0.1:{port}/api/v1/cmd",
            "--msg",
            msg,
        ],
        dict(os.environ),
        cwd=cwd,
    )


def bench_swift_cli(
    data: Path, env: dict[str, str], scratch: Path, res: Results, repeat: int
) -> None:
    """The reference: one swift upload, then `repeat` downloads (median), like the REST rows."""
    size = tree_bytes(data)
    container = f"bench-cli-{uuid.uuid4().hex[:8]}"
    cli = [str(BIN / "swift"), "-A", env["ST_AUTH"], "-U", env["ST_USER"], "-K", env["ST_KEY"]]
    res.record(
        "swift CLI upload",
        size,
        timed(
            lambda: run(
                [*cli, "upload", "--object-threads", "10", container, data.name],
                env,
                cwd=data.parent,
            )
        ),
    )
    seconds: list[float] = []
    for i in range(repeat):
        out = scratch / f"cli-out-{i}"
        out.mkdir()
        download = [*cli, "download", "--object-threads", "10", container, "-D", str(out)]
        seconds.append(timed(lambda: run(download, env)))  # noqa: B023 (called at once)
        assert tree_bytes(out) == size
        shutil.rmtree(out)
        if repeat > 1:
            print(
                f"    download {i + 1}/{repeat}: {size / MiB / seconds[-1]:7.1f} MiB/s "
                f"({seconds[-1]:.1f} s)",
                flush=True,
            )
    res.record("swift CLI download", size, statistics.median(seconds))
    run([*cli, "delete", container], env)


def bench_bundle_proxy(data: Path, env: dict[str, str], scratch: Path, res: Results) -> None:
    """What a bundle layout (one uncompressed archive object per push) could reach at best:
    the swift CLI moving one tar of the series (segmented like any large object)."""
    size = tree_bytes(data)
    bundle = scratch / "bundle" / "series.tar"
    bundle.parent.mkdir()
    run(["tar", "-cf", str(bundle), "-C", str(data.parent), data.name], env)
    container = f"bench-bundle-{uuid.uuid4().hex[:8]}"
    cli = [str(BIN / "swift"), "-A", env["ST_AUTH"], "-U", env["ST_USER"], "-K", env["ST_KEY"]]
    res.record(
        "bundle proxy upload",
        size,
        timed(
            lambda: run(
                [*cli, "upload", "-S", str(256 * MiB), container, bundle.name],
                env,
                cwd=bundle.parent,
            )
        ),
    )
    out = scratch / "bundle-out"
    out.mkdir()
    res.record(
        "bundle proxy download",
        size,
        timed(lambda: run([*cli, "download", container, "-D", str(out)], env)),
    )
    shutil.rmtree(out)
    shutil.rmtree(bundle.parent)
    run([*cli, "delete", container], env)
    subprocess.run(
        [*cli, "delete", container + "_segments"], env=env, capture_output=True, check=False
    )


def rest_label(step: str, layout: Layout) -> str:
    return step if layout == "objects" else f"{step} (bundle)"


def bench_rest(
    client: IohClient, layout: Layout, data: Path, scratch: Path, res: Results, repeat: int
) -> None:
    """REST push in `layout`, then `repeat` pulls of it (each printed; the median is the
    row: the first, cold pull of a fresh pfioh is known to be the slowest)."""
    size = tree_bytes(data)
    key = f"bench-rest-{layout}-{uuid.uuid4().hex[:8]}"
    res.record(
        rest_label("REST push", layout), size, timed(lambda: client.push(key, data, layout=layout))
    )
    seconds: list[float] = []
    for i in range(repeat):
        back = scratch / f"rest-out-{layout}-{i}"
        seconds.append(timed(partial(client.pull, key, back, area="input")))
        assert tree_bytes(back) == size, f"pulled {tree_bytes(back)} bytes, not {size}"
        shutil.rmtree(back)
        if repeat > 1:
            print(
                f"    pull {i + 1}/{repeat}: {size / MiB / seconds[-1]:7.1f} MiB/s "
                f"({seconds[-1]:.1f} s)",
                flush=True,
            )
    res.record(rest_label("REST pull", layout), size, statistics.median(seconds))
    res.moved += size * (repeat - 1)
    client.delete(key)


def bench_ours(
    data: Path,
    env: dict[str, str],
    scratch: Path,
    venv: Path | None,
    res: Results,
    layouts: list[Layout],
    repeat_pull: int,
) -> int:
    """REST and legacy through our pfioh; returns its peak RSS in bytes."""
    size = tree_bytes(data)
    port = free_port()
    cmd = [
        str(BIN / "pfioh"),
        "--forever",
        "--httpResponse",
        "--swift-storage",
        "--createDirsAsNeeded",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with server(cmd, env, port, scratch / "pfioh.log") as pid:
        watch = RssWatch(pid)
        url = f"http://127.0.0.1:{port}"
        with IohClient(url, timeout=httpx.Timeout(600.0)) as client:
            for layout in layouts:
                bench_rest(client, layout, data, scratch, res, repeat_pull)
            if venv is not None:
                legacy_key = f"bench-legacy-{uuid.uuid4().hex[:8]}"
                res.record(
                    "legacy pfurl push",
                    size,
                    timed(
                        lambda: pfurl(venv, port, pfurl_msg("pushPath", legacy_key, data), scratch)
                    ),
                )
                assert client.list(legacy_key, "input/")["bytes"] == size
                client.push(legacy_key, data, area="output")  # the "job's results"
                res.moved += size
                out = scratch / "legacy-out"
                res.record(
                    "legacy pfurl pull",
                    size,
                    timed(
                        lambda: pfurl(venv, port, pfurl_msg("pullPath", legacy_key, out), scratch)
                    ),
                )
                assert tree_bytes(out) == size, "pfurl pulled a different size"
                shutil.rmtree(out)
                client.delete(legacy_key)
        return watch.stop()


def bench_original(data: Path, scratch: Path, venv: Path, res: Results) -> None:
    size = tree_bytes(data)
    port = free_port()
    store = scratch / "original-store"
    store.mkdir()
    cmd = [
        str(venv / "bin" / "pfioh"),
        "--forever",
        "--createDirsAsNeeded",
        "--storeBase",
        str(store),
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with server(cmd, dict(os.environ), port, scratch / "original.log"):
        key = f"bench-orig-{uuid.uuid4().hex[:8]}"
        res.record(
            "original push",
            size,
            timed(lambda: pfurl(venv, port, pfurl_msg("pushPath", key, data), scratch)),
        )
        out = scratch / "original-out"
        res.record(
            "original pull",
            size,
            timed(lambda: pfurl(venv, port, pfurl_msg("pullPath", key, out), scratch)),
        )
        if tree_bytes(out) != size:
            raise SystemExit(f"the original pulled {tree_bytes(out)} bytes, not {size}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--slices", type=int, default=1000, help="DICOM slices (~512 KiB each)")
    parser.add_argument(
        "--legacy-venv",
        type=Path,
        default=None,
        help="venv with pfurl 2.3.0.1 and pfioh 2.2.0.8 ($RADSWIFT_LEGACY_VENV)",
    )
    parser.add_argument("--skip-original", action="store_true")
    parser.add_argument(
        "--skip-bundle",
        action="store_true",
        help="skip the bundle-layout proxy (one tar object via the swift CLI)",
    )
    parser.add_argument(
        "--layouts",
        default="objects,bundle",
        help="REST push/pull rows for these pfioh layouts (objects: one object per file; "
        "bundle: one tar object per push), comma-separated",
    )
    parser.add_argument(
        "--repeat-pull",
        type=int,
        default=1,
        metavar="N",
        help="pull each REST push N times, print each, report the median",
    )
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "radswift" / "bench")
    args = parser.parse_args()
    layouts = [_layout(name) for name in args.layouts.split(",") if name]
    venv = args.legacy_venv
    if venv is None and os.environ.get("RADSWIFT_LEGACY_VENV"):
        venv = Path(os.environ["RADSWIFT_LEGACY_VENV"])
    data = make_ct_series(args.cache / f"ct-{args.slices}", args.slices)
    size = tree_bytes(data)
    print(f"data: {args.slices} files, {size / MiB:.0f} MiB", flush=True)
    res = Results()
    with (
        tempfile.TemporaryDirectory(prefix="ioh-bench-") as tmp,
        swift_environment(Path(tmp)) as env,
    ):
        scratch = Path(tmp)
        bench_swift_cli(data, env, scratch, res, max(args.repeat_pull, 1))
        if not args.skip_bundle:
            bench_bundle_proxy(data, env, scratch, res)
        moved_before = res.moved
        peak = bench_ours(data, env, scratch, venv, res, layouts, max(args.repeat_pull, 1))
        ours_moved = res.moved - moved_before
        if venv is not None and not args.skip_original:
            bench_original(data, scratch, venv, res)
    report(res, peak, ours_moved)


def _layout(name: str) -> Layout:
    for layout in LAYOUTS:
        if layout == name:
            return layout
    raise SystemExit(f"--layouts: {name!r} is not one of {', '.join(LAYOUTS)}")


def report(res: Results, peak: int, moved: int) -> None:
    r = res.rates
    print("\n| step | MiB/s |\n|---|---|")
    for name, rate in r.items():
        print(f"| {name} | {rate:.1f} |")
    print()
    for layout in LAYOUTS:
        for step, cli in (("REST push", "swift CLI upload"), ("REST pull", "swift CLI download")):
            row = rest_label(step, layout)
            if row in r:
                print(f"{row} / {cli}: {r[row] / r[cli]:.2f} (bar 0.9)")
    for step in ("REST push", "REST pull"):
        bundled = rest_label(step, "bundle")
        if step in r and bundled in r:
            print(f"{bundled} / {step}: {r[bundled] / r[step]:.2f}")
    for ours, orig in (
        ("legacy pfurl push", "original push"),
        ("legacy pfurl pull", "original pull"),
        ("REST push", "original push"),
        ("REST pull", "original pull"),
    ):
        if ours in r and orig in r:
            print(f"{ours} / {orig}: {r[ours] / r[orig]:.2f} (bar 2)")
    print(
        f"our pfioh peak RSS: {peak / MiB:.0f} MiB while moving {moved / MiB:.0f} MiB "
        "(bar < 150 MiB)"
    )
    print("command: python bench/ioh.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
