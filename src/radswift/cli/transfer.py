"""`radswift cp`, `radswift ls`, `radswift rm`: copy trees to and from a store, list, delete.

    radswift cp ./study swift://KEY/input/       upload the contents of study under input/
    radswift cp swift://KEY/output/ ./results    download everything under output/
    radswift ls swift://KEY/input/               names, sizes, ETags (--json)
    radswift rm -r swift://KEY                   delete the key, its segments included

`cp` follows `aws s3 cp --recursive` / `rclone copy`: a directory's contents go under
the prefix (treated as a directory), a single file keeps its name under a prefix
ending in '/' and takes the prefix as its name otherwise.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from radswift.bundle import Layout
from radswift.bundle.areas import check_one_layout, fetch_area, parse_layout, upload_bundle
from radswift.cli.progress import transfer_progress
from radswift.errors import InvalidInput, NotFound, RadswiftError
from radswift.names import validate_key, validate_prefix
from radswift.store import ObjectStore, open_store
from radswift.transfer import (
    Progress,
    TransferOptions,
    TransferResult,
    download_object,
    upload_file,
    upload_tree,
)
from radswift.transfer.failures import is_fatal, reason_of
from radswift.transfer.options import DEFAULT_UPLOAD_SEGMENT_WORKERS, DEFAULT_WORKERS, parse_size
from radswift.transfer.remove import remove_objects

SCHEME = "swift://"

StoreOpt = Annotated[
    str | None,
    typer.Option("--store", envvar="RADSWIFT_STORE", help="'swift' (default) or file:///dir."),
]
CredentialsOpt = Annotated[
    Path | None,
    typer.Option("--credentials", help="Swift credentials file (else ST_*/OS_* variables)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a machine-readable result.")]
RetriesOpt = Annotated[
    int | None,
    typer.Option(
        "--retries",
        min=1,
        show_default=False,
        help="Attempts per Swift request before giving up (else RADSWIFT_RETRIES, else 7,"
        " backing off 13-25 s in all); 1 fails at once when Swift is unreachable.",
    ),
]


@dataclass(frozen=True, slots=True)
class Remote:
    """`swift://KEY/PREFIX`, validated."""

    key: str
    prefix: str

    @property
    def dir_prefix(self) -> str:
        """The prefix as a directory: '' stays '', 'input' becomes 'input/'."""
        return self.prefix if not self.prefix or self.prefix.endswith("/") else self.prefix + "/"


def parse_remote(text: str) -> Remote | None:
    """A Remote for swift://KEY/PREFIX, None for a local path; InvalidInput/InvalidName if bad."""
    if not text.startswith(SCHEME):
        if text.lower().startswith("swift:"):
            raise InvalidInput(f"{text!r}: a store URL looks like swift://KEY/PREFIX")
        return None
    key, _, prefix = text[len(SCHEME) :].partition("/")
    return Remote(validate_key(key), validate_prefix(prefix))


def register(app: typer.Typer) -> None:
    """Add cp, ls and rm to the main app."""
    app.command("cp")(cp)
    app.command("ls")(ls)
    app.command("rm")(rm)


@contextmanager
def _opened(
    store: str | None, credentials: Path | None, workers: int, key: str, retries: int | None
) -> Iterator[ObjectStore]:
    """The store for one command, closed afterwards; a missing key is said plainly."""
    opened = open_store(
        store, environ=os.environ, credentials_file=credentials, workers=workers, retries=retries
    )
    try:
        yield opened
    except NotFound:
        if not opened.container_exists(key):
            raise NotFound(f"the key {key!r} does not exist in {opened.description}") from None
        raise
    finally:
        opened.close()


def cp(
    source: Annotated[str, typer.Argument(help="A local path or swift://KEY/PREFIX.")],
    destination: Annotated[str, typer.Argument(help="A local path or swift://KEY/PREFIX.")],
    workers: Annotated[int, typer.Option(help="Objects in flight at once.")] = DEFAULT_WORKERS,
    segment_size: Annotated[
        str, typer.Option(help="Files larger than this go up as segments (1GiB, 512MiB).")
    ] = "1GiB",
    segment_workers: Annotated[
        int,
        typer.Option(
            help="Segments of one large file uploaded at once (raise it for a multi-disk"
            " cluster; on a single-disk Swift one stream is fastest, see docs/benchmarks.md)."
        ),
    ] = DEFAULT_UPLOAD_SEGMENT_WORKERS,
    sync: Annotated[bool, typer.Option(help="Skip files whose size and MD5 match.")] = False,
    follow_symlinks: Annotated[
        bool, typer.Option(help="Upload what symbolic links point to.")
    ] = False,
    json_output: JsonOpt = False,
    store: StoreOpt = None,
    credentials: CredentialsOpt = None,
    retries: RetriesOpt = None,
    layout: Annotated[
        str,
        typer.Option(
            help="Upload a directory as one object per file ('objects') or as one tar"
            " object ('bundle', much faster for thousands of small files). Downloads"
            " unpack an area's bundle whatever this says.",
        ),
    ] = "objects",
) -> None:
    """Copy a local tree or file to a store, or objects under a prefix to a local path.

    Examples: 'radswift cp ./study swift://KEY/input/' uploads the contents of study
    under input/; 'radswift cp swift://KEY/output/ ./results' downloads output/.
    Every object is verified by MD5; a failed file makes the exit code non-zero.
    """
    chosen = parse_layout(layout)
    options = TransferOptions(
        workers=workers,
        segment_size=parse_size(segment_size),
        upload_segment_workers=segment_workers,
        sync=sync,
        follow_symlinks=follow_symlinks,
    )
    src, dst = parse_remote(source), parse_remote(destination)
    if (src is None) == (dst is None):
        raise InvalidInput("cp needs one local path and one swift://KEY/PREFIX")
    if dst is not None and not Path(source).exists() and not Path(source).is_symlink():
        raise InvalidInput(f"{source}: no such file or directory")
    remote = dst or src
    assert remote is not None
    connections = options.workers + max(options.segment_workers, segment_workers)
    with _opened(store, credentials, connections, remote.key, retries) as opened:
        bar = False if json_output else None
        with transfer_progress("upload" if dst else "download", enabled=bar) as progress:
            if dst is not None:
                result = _upload(opened, Path(source), dst, options, progress, chosen)
            else:
                assert src is not None
                result = _download(opened, src, Path(destination), destination, options, progress)
    _report(result, source, destination, json_output)
    result.raise_for_failures()


def _upload(
    store: ObjectStore,
    path: Path,
    dst: Remote,
    options: TransferOptions,
    progress: Progress,
    layout: Layout,
) -> TransferResult:
    if path.is_dir():
        area = dst.dir_prefix
        check_one_layout(store, dst.key, area, layout)
        if layout == "bundle":
            return upload_bundle(store, path, dst.key, area, options)
        return upload_tree(store, path, dst.key, area, options=options, progress=progress)
    if layout == "bundle":
        raise InvalidInput("--layout bundle uploads a directory, not a single file")
    name = dst.prefix if dst.prefix and not dst.prefix.endswith("/") else dst.prefix + path.name
    check_one_layout(store, dst.key, name, Layout.OBJECTS)  # not into an area holding a bundle
    return upload_file(store, path, dst.key, name, options=options, progress=progress)


def _download(
    store: ObjectStore,
    src: Remote,
    dest: Path,
    dest_text: str,
    options: TransferOptions,
    progress: Progress,
) -> TransferResult:
    if src.prefix and not src.prefix.endswith("/"):
        try:
            info = store.head_object(src.key, src.prefix)
        except NotFound:
            info = None
        if info is not None:
            into_dir = dest.is_dir() or dest_text.endswith(("/", os.sep))
            target = dest / src.prefix.rsplit("/", 1)[-1] if into_dir else dest
            return _download_one(store, src, info.size, target, options, progress)
    result, _bundled = fetch_area(
        store, src.key, src.dir_prefix, dest, options=options, progress=progress
    )
    return result


def _download_one(
    store: ObjectStore,
    src: Remote,
    size: int,
    target: Path,
    options: TransferOptions,
    progress: Progress,
) -> TransferResult:
    """One object to one file, reported like a tree transfer (failures, not tracebacks)."""
    start = time.monotonic()
    progress.set_total(1, size)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        download_object(store, src.key, src.prefix, target, options=options, progress=progress)
        failures: list[tuple[str, str]] = []
    except (RadswiftError, OSError) as exc:
        if is_fatal(exc):
            raise
        failures = [(src.prefix, reason_of(exc))]
    progress.file_done(src.prefix, not failures)
    return TransferResult(
        files=0 if failures else 1,
        bytes=0 if failures else size,
        skipped=0,
        failures=failures,
        seconds=time.monotonic() - start,
    )


def _report(result: TransferResult, source: str, destination: str, as_json: bool) -> None:
    if as_json:
        summary = {
            "source": source,
            "destination": destination,
            "files": result.files,
            "bytes": result.bytes,
            "skipped": result.skipped,
            "seconds": round(result.seconds, 3),
            "failures": [{"path": p, "reason": r} for p, r in result.failures],
            "ignored": [{"path": p, "reason": r} for p, r in result.ignored],
        }
        typer.echo(json.dumps(summary, ensure_ascii=False))
        return
    for path, reason in result.ignored:
        typer.echo(f"radswift: skipped {path}: {reason}", err=True)
    rate = result.bytes / result.seconds / 2**20 if result.seconds > 0 else 0.0
    skipped = f", {result.skipped} up to date" if result.skipped else ""
    typer.echo(
        f"{result.files} files, {_human(result.bytes)} in {result.seconds:.1f} s"
        f" ({rate:.1f} MiB/s){skipped}",
        err=True,
    )


def ls(
    url: Annotated[str, typer.Argument(help="swift://KEY/[PREFIX]")],
    json_output: JsonOpt = False,
    store: StoreOpt = None,
    credentials: CredentialsOpt = None,
    retries: RetriesOpt = None,
) -> None:
    """List objects under a prefix: size, ETag, name."""
    remote = _require_remote(url)
    with _opened(store, credentials, 1, remote.key, retries) as opened:
        infos = list(opened.list_objects(remote.key, remote.prefix))
    if json_output:
        rows = [
            {
                "name": i.name,
                "size": i.size,
                "etag": i.etag,
                "last_modified": i.last_modified,
                "content_type": i.content_type,
                "large": i.large,
            }
            for i in infos
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for info in infos:
        typer.echo(f"{info.size:>14}  {info.etag:<32}  {info.name}")


def rm(
    url: Annotated[str, typer.Argument(help="swift://KEY/[PREFIX]")],
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Allow deleting more than one object.")
    ] = False,
    workers: Annotated[int, typer.Option(help="Deletions in flight at once.")] = DEFAULT_WORKERS,
    json_output: JsonOpt = False,
    store: StoreOpt = None,
    credentials: CredentialsOpt = None,
    retries: RetriesOpt = None,
) -> None:
    """Delete an object, everything under a prefix (-r), or a whole key (-r, no prefix)."""
    remote = _require_remote(url)
    with _opened(store, credentials, workers, remote.key, retries) as opened:
        deleted = remove_objects(
            opened, remote.key, remote.prefix, recursive=recursive, workers=workers
        )
    if json_output:
        typer.echo(json.dumps({"deleted": deleted}))
    else:
        typer.echo(f"deleted {deleted} objects", err=True)


def _require_remote(url: str) -> Remote:
    remote = parse_remote(url)
    if remote is None:
        raise InvalidInput(f"{url!r} is not a swift://KEY/PREFIX URL")
    return remote


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{size} B"
        value /= 1024
    return f"{size} B"  # pragma: no cover
