"""Benchmark: `radswift cp` versus python-swiftclient's `swift upload` / `swift download`.

Both tools run against one local single-node Swift, in one run, alternating round by
round so that machine noise hits both alike. Data sets:

  small  a synthetic CT series: 1,000 DICOM slices of 512x512 uint16 (about 512 KiB each),
         written with pydicom;
  large  one 2 GiB file;
  many   --files small files of --file-kib KiB (default 20,000 x 16 KiB): a study where the
         per-object cost is everything.

`--layout bundle` makes radswift upload each tree as ONE tar object (radswift.bundle) and
its download unpack it, against the same swift CLI rows; the rows then show what the
bundle layout buys for many small files.

For each it prints MiB/s of each tool, the ratio radswift/swift (>= 1.0 means radswift is
at least as fast), each tool's client CPU seconds (user + system, median) and peak RSS
(both from wait4, per process). Client CPU is what the tools take away from Swift when
they share its cores, and it is far less noisy than wall time on a busy machine.

    .venv/bin/python bench/transfer.py                 # both data sets, 3 rounds
    .venv/bin/python bench/transfer.py --only small --rounds 1 --slices 200
    .venv/bin/python bench/transfer.py --only many --files 5000 --rounds 1 --layout bundle

Uses ST_AUTH/ST_USER/ST_KEY when set, else starts its own local Swift.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from datasets import (  # noqa: E402
    make_ct_series,
    make_large_file,
    make_many_files,
    swift_environment,
    tree_bytes,
)

BIN = Path(sys.executable).parent
MiB = 1024 * 1024


@dataclass
class Measure:
    seconds: float
    peak_rss_mib: float
    cpu_seconds: float


def run_measured(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> Measure:
    """Run `cmd`; return wall time and that process's own peak RSS (wait4, not children's max)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, rusage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])}... failed ({proc.returncode}):\n{err[-2000:]}")
    return Measure(elapsed, rusage.ru_maxrss / 1024, rusage.ru_utime + rusage.ru_stime)


def swift_cli(env: dict[str, str], *args: str) -> list[str]:
    return [
        str(BIN / "swift"),
        "-A",
        env["ST_AUTH"],
        "-U",
        env["ST_USER"],
        "-K",
        env["ST_KEY"],
        *args,
    ]


def bench_dataset(
    name: str, data: Path, env: dict[str, str], rounds: int, scratch: Path, layout: str
) -> list[str]:
    size = tree_bytes(data)
    rates: dict[str, list[float]] = {
        k: [] for k in ("swift up", "radswift up", "swift down", "radswift down")
    }
    rss: dict[str, float] = dict.fromkeys(rates, 0.0)
    cpu: dict[str, list[float]] = {k: [] for k in rates}
    for r in range(rounds):
        for tool in ("swift", "radswift") if r % 2 == 0 else ("radswift", "swift"):
            container = f"bench-{tool}-{uuid.uuid4().hex[:8]}"
            out = scratch / f"out-{container}"
            if tool == "swift":
                up = run_measured(
                    swift_cli(env, "upload", "--object-threads", "10", container, data.name),
                    env,
                    cwd=data.parent,
                )
                out.mkdir()
                down = run_measured(
                    swift_cli(env, "download", "--object-threads", "10", container, "-D", str(out)),
                    env,
                )
            else:
                target = f"swift://{container}/{data.name}"
                if data.is_dir():
                    target += "/"
                up = run_measured(
                    [str(BIN / "radswift"), "cp", str(data), target, "--layout", layout], env
                )
                down = run_measured([str(BIN / "radswift"), "cp", target, str(out)], env)
            got = tree_bytes(out)
            if got != size:
                raise SystemExit(f"{tool} downloaded {got} bytes, expected {size}")
            shutil.rmtree(out)
            for kind, m in (("up", up), ("down", down)):
                key = f"{tool} {kind}"
                rates[key].append(size / MiB / m.seconds)
                cpu[key].append(m.cpu_seconds)
                rss[key] = max(rss[key], m.peak_rss_mib)
            subprocess.run(
                swift_cli(env, "delete", container), env=env, capture_output=True, check=False
            )
            subprocess.run(
                swift_cli(env, "delete", container + "_segments"),
                env=env,
                capture_output=True,
                check=False,
            )
    lines = []
    for kind in ("up", "down"):
        ours, ref = (
            statistics.median(rates[f"radswift {kind}"]),
            statistics.median(rates[f"swift {kind}"]),
        )
        ref_cpu = statistics.median(cpu[f"swift {kind}"])
        our_cpu = statistics.median(cpu[f"radswift {kind}"])
        lines.append(
            f"| {name} | {kind}load | {ref:.1f} | {ours:.1f} | {ours / ref:.2f} "
            f"| {ref_cpu:.2f} | {our_cpu:.2f} "
            f"| {rss[f'swift {kind}']:.0f} | {rss[f'radswift {kind}']:.0f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=["small", "large", "many"])
    parser.add_argument("--slices", type=int, default=1000, help="DICOM slices in the small set")
    parser.add_argument("--large-mib", type=int, default=2048, help="size of the large file")
    parser.add_argument("--files", type=int, default=20_000, help="files in the many set")
    parser.add_argument("--file-kib", type=int, default=16, help="size of each in the many set")
    parser.add_argument(
        "--layout",
        choices=["objects", "bundle"],
        default="objects",
        help="how radswift uploads a tree (downloads unpack either)",
    )
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "radswift" / "bench")
    args = parser.parse_args()

    datasets = []
    if args.only in (None, "small"):
        datasets.append(
            ("CT series", make_ct_series(args.cache / f"ct-{args.slices}", args.slices))
        )
    if args.only == "many":
        datasets.append(
            (
                f"{args.files:,} files of {args.file_kib} KiB",
                make_many_files(
                    args.cache / f"many-{args.files}x{args.file_kib}", args.files, args.file_kib
                ),
            )
        )
    if args.only in (None, "large"):
        datasets.append(
            (
                "one large file",
                make_large_file(args.cache / f"large-{args.large_mib}", args.large_mib),
            )
        )

    header = [
        "| data | direction | swift CLI MiB/s | radswift MiB/s | ratio"
        " | swift CPU s | radswift CPU s | swift peak RSS MiB | radswift peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    with (
        tempfile.TemporaryDirectory(prefix="radswift-bench-") as tmp,
        swift_environment(Path(tmp)) as env,
    ):
        rows = []
        for name, data in datasets:
            label = f"{name} ({tree_bytes(data) / MiB:.0f} MiB)"
            if args.layout == "bundle":
                label += ", radswift as a bundle"
            rows += bench_dataset(label, data, env, args.rounds, Path(tmp), args.layout)
            print("\n".join(header + rows), flush=True)
    print(
        f"\nmedian of {args.rounds} alternating rounds; command: python bench/transfer.py "
        + " ".join(sys.argv[1:])
    )


if __name__ == "__main__":
    main()
