"""`radswift cp`, `radswift ls`, `radswift rm`: copy trees to and from a store, list, delete.

    radswift cp ./study swift://KEY/input/       upload the contents of study under input/
    radswift cp swift://KEY/output/ ./results    download everything under output/
    radswift ls swift://KEY/input/               names, sizes, MD5s, large objects marked (--json)
    radswift ls swift://KEY/input/ --dicom       studies and series, from headers only
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
from radswift.bundle.area_transfer import check_one_layout, fetch_area, parse_layout, upload_bundle
from radswift.cli.dicom_ls import show_survey
from radswift.cli.progress import transfer_progress
from radswift.cli.summary import plural, report, summary_line
from radswift.dicom import survey_dicom
from radswift.dicom.survey import DEFAULT_WORKERS as DICOM_WORKERS
from radswift.errors import InvalidInput, NotFound, RadswiftError
from radswift.names import empty_area_error, validate_key, validate_prefix
from radswift.podcontract.env import retries_from
from radswift.store import ObjectStore, open_store
from radswift.store.base import ObjectInfo
from radswift.store.factory import is_swift_url
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
AllowEmptyOpt = Annotated[
    bool,
    typer.Option(
        "--allow-empty", help="Accept a download of an area holding nothing (else an error)."
    ),
]
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
    """The store for one command, closed afterwards; a missing key is said plainly.
    RADSWIFT_RETRIES counts when --retries is not given, for Swift only."""
    if retries is None and is_swift_url(store):
        retries = retries_from(os.environ)
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
    allow_empty: AllowEmptyOpt = False,
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
        after = "storing..." if dst else None
        with transfer_progress(
            "upload" if dst else "download", enabled=bar, after_sent=after
        ) as progress:
            if dst is not None:
                result = _upload(opened, Path(source), dst, options, progress, chosen)
            else:
                assert src is not None
                result = _download(opened, src, Path(destination), destination, options, progress)
                if not allow_empty:
                    _refuse_empty(opened, src, result)
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


def _refuse_empty(store: ObjectStore, src: Remote, result: TransferResult) -> None:
    """NotFound when nothing was under the prefix, naming the areas the key does have."""
    if result.files or result.skipped or result.failures:
        return
    if next(iter(store.list_objects(src.key, src.prefix)), None) is not None:
        return  # only directory markers: an empty tree, not a missing one
    names = (info.name for info in store.list_objects(src.key))
    where = store.description
    hint = f"copy one of those (swift://{src.key}/AREA/), or pass --allow-empty"
    raise empty_area_error(src.key, src.dir_prefix or "objects", where, names, hint)


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
    if not as_json:
        for path, reason in result.ignored:
            typer.echo(f"radswift: skipped {path}: {reason}", err=True)
    skipped = f", {result.skipped} up to date" if result.skipped else ""
    line = summary_line(
        files=result.files,
        directories=result.directories,
        nbytes=result.bytes,
        seconds=result.seconds,
    )
    document = {
        "source": source,
        "destination": destination,
        "files": result.files,
        "directories": result.directories,
        "bytes": result.bytes,
        "skipped": result.skipped,
        "seconds": round(result.seconds, 3),
        "failures": [{"path": p, "reason": r} for p, r in result.failures],
        "ignored": [{"path": p, "reason": r} for p, r in result.ignored],
    }
    report(as_json, document, line + skipped)


def ls(
    url: Annotated[str, typer.Argument(help="swift://KEY/[PREFIX]")],
    json_output: JsonOpt = False,
    dicom: Annotated[
        bool,
        typer.Option(
            "--dicom",
            help="Summarize the DICOM files by study and series (counts, modality, sizes),"
            " reading only their headers by ranged reads, bundled areas included.",
        ),
    ] = False,
    store: StoreOpt = None,
    credentials: CredentialsOpt = None,
    retries: RetriesOpt = None,
) -> None:
    """List objects under a prefix: size, MD5 (ETag), name; large objects are marked.

    A large object's ETag is its manifest's, not the file's MD5: it is marked, and the
    MD5 its manifest records (metadata `md5`) is shown where there is one. With --dicom:
    the studies and series the objects hold, from their DICOM headers only."""
    remote = _require_remote(url)
    if dicom:
        with _opened(store, credentials, DICOM_WORKERS, remote.key, retries) as opened:
            survey = survey_dicom(opened, remote.key, remote.prefix, workers=DICOM_WORKERS)
        show_survey(survey, url, as_json=json_output)
        return
    with _opened(store, credentials, 1, remote.key, retries) as opened:
        infos = list(opened.list_objects(remote.key, remote.prefix))
        md5s = {i.name: _md5_of(opened, remote.key, i) for i in infos}
    if json_output:
        rows = [
            {
                "name": i.name,
                "size": i.size,
                "etag": i.etag,
                "md5": md5s[i.name],
                "last_modified": i.last_modified,
                "content_type": i.content_type,
                "large": i.large,
            }
            for i in infos
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for info in infos:
        md5 = md5s[info.name]
        if not info.large:
            typer.echo(f"{info.size:>14}  {info.etag:<32}  {info.name}")
        elif md5 is not None:
            typer.echo(
                f"{info.size:>14}  {md5:<32}  {info.name}  (large object: the MD5"
                " its manifest records)"
            )
        else:
            typer.echo(
                f"{info.size:>14}  {info.etag:<32}  {info.name}  (large object: the"
                " ETag of its manifest, not the file's MD5)"
            )


MD5_METADATA = "md5"
"""A large object's user metadata holding the whole file's hex MD5, where a writer set it."""


def _md5_of(store: ObjectStore, key: str, info: ObjectInfo) -> str | None:
    """The object's MD5: its ETag for a plain object; for a large one (one HEAD each, they
    are few) the MD5 its manifest records, else None (unknown)."""
    if not info.large:
        return info.etag
    recorded = store.head_object(key, info.name).metadata.get(MD5_METADATA, "").strip().lower()
    return recorded if len(recorded) == 32 else None


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
        typer.echo(f"deleted {plural(deleted, 'object')}", err=True)


def _require_remote(url: str) -> Remote:
    remote = parse_remote(url)
    if remote is None:
        raise InvalidInput(f"{url!r} is not a swift://KEY/PREFIX URL")
    return remote
