"""`pl_dicom_summary [--tiles N] [--tile-size PX] INPUTDIR OUTPUTDIR` (or `python -m
pl_dicom_summary`): the ChRIS entry point, made with chris-plugin's @chris_plugin.

Exit code 0 whenever the outputs were written, skipped files or not (they are listed in
index.json and index.html); 1 only when OUTPUTDIR cannot be written.
"""

# No `from __future__ import annotations` here: chris-plugin checks main's annotations
# by identity (Namespace, Path), which string annotations would fail.
import json
import sys
from argparse import ArgumentDefaultsHelpFormatter, ArgumentParser, Namespace
from pathlib import Path

from chris_plugin import chris_plugin

from pl_dicom_summary import __version__
from pl_dicom_summary.montage import write_montage
from pl_dicom_summary.report import MONTAGE_PNG, SUMMARY_JSON, write_index
from pl_dicom_summary.scan import scan
from pl_dicom_summary.summary import as_json, summarize

DEFAULT_TILES = 16
DEFAULT_TILE_SIZE = 256

parser = ArgumentParser(
    description="Summarize every DICOM series of a study: a JSON summary without patient"
    " identifiers and a PNG montage per series, and an index.html of them all.",
    formatter_class=ArgumentDefaultsHelpFormatter,
)
parser.add_argument("--tiles", type=int, default=DEFAULT_TILES, help="most frames in a montage")
parser.add_argument(
    "--tile-size", type=int, default=DEFAULT_TILE_SIZE, help="largest side of a tile, in pixels"
)
parser.add_argument("-V", "--version", action="version", version=f"%(prog)s {__version__}")


@chris_plugin(  # type: ignore[untyped-decorator]  # chris-plugin ships no type hints
    parser=parser,
    title="DICOM study summary",
    category="Utility",
    min_memory_limit="500Mi",
    min_cpu_limit="1000m",
)
def main(options: Namespace, inputdir: Path, outputdir: Path) -> int:
    if options.tiles < 1 or options.tile_size < 8:
        print("pl_dicom_summary: --tiles must be >= 1 and --tile-size >= 8", file=sys.stderr)
        return 2
    found = scan(inputdir)
    print(f"pl_dicom_summary: {found.files} files, {len(found.series)} series", flush=True)
    written = []
    skipped = list(found.skipped)
    for series in found.series:
        result = summarize(
            series, lambda p: p.relative_to(inputdir).as_posix(), options.tiles, options.tile_size
        )
        skipped.extend(result.skipped)
        target = outputdir / series.directory
        target.mkdir(parents=True, exist_ok=True)
        if result.tiles:
            montage = target / MONTAGE_PNG
            result.summary["montage"] = write_montage(result.tiles, montage, invert=result.invert)
        summary = as_json(result)
        (target / SUMMARY_JSON).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        written.append((series.directory, summary))
        print(f"  {series.directory}: {summary['instances']} files, {summary['images']} images")
    write_index(outputdir, written, sorted(skipped, key=lambda s: s.path), found.files)
    print(f"pl_dicom_summary: {len(written)} series summarized, {len(skipped)} files skipped;"
          f" open {outputdir / 'index.html'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
