"""The bundle layout: a key's area (`input/` or `output/`) stored as ONE uncompressed tar.

Why: Swift pays a fixed cost per object (a PUT through proxy, container update,
replicas), so a study of 20,000 small DICOM slices moves several times faster as one
object than as 20,000 (measured in docs/benchmarks.md). The default layout stays one
object per file, which any Swift client can read; a bundle is opt-in, per push
(`?layout=bundle`, `radswift push --layout bundle`) or per job output
(`radswift publish put --layout bundle`).

The contract every reader and writer keeps:
- The bundle of an area is the object `<area>/.radswift-bundle.tar` (BUNDLE_OBJECT);
  an area holds at most one, and only a top-level area (one path component: `input/`,
  `output/`, `anything/`) holds one. Its bytes are a POSIX (pax) tar, uncompressed, of
  regular files and directories only, names relative to the area. A bundle is read
  whole: asking for a part of a bundled area (`input/sub/`) is an error.
- A writer stores only what every reader accepts (bundle.check: names such as `a\\b` or
  `T:1.dcm` and trees beyond ArchiveLimits are refused before anything is stored).
- A writer never mixes layouts: writing a bundle into an area that already has
  per-file objects, or per-file objects into an area that has a bundle, is a Conflict
  unless the write replaces the area (then the old layout's objects are deleted AFTER
  the new content is stored, so a reader sees the old tree or the new one). The rule
  is decided in one place, `area_state` and `would_mix` below; each writer and reader
  words the refusal for its own users (CLI message, HTTP 409 reason).
- The bundle is written in one PUT (or as an SLO whose manifest is written last), so a
  bundle is visible whole or not at all, to every Swift client. A writer deletes only
  the segments of the bundle it replaced, and only while its own is still the current
  one (writers may overlap).
- Readers (publisher get, pfioh pull) unpack a bundle with the same safe, streamed
  archive reader as an upload (radswift.archive.iter_archive): a bundle put there by
  anyone else is untrusted input like any other.
- Metadata on the object: `Radswift-Bundle-Files` and `Radswift-Bundle-Bytes` (file
  count and content bytes), for listings and progress without reading the tar.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from radswift.errors import InvalidInput, RadswiftError


class Layout(StrEnum):
    """How an area is stored: the one type for it (the CLI, pfioh's API and job specs
    use it; `jobs.spec.OutputLayout` and `services.ioh.schemas.LayoutName` are this)."""

    OBJECTS = "objects"  # one object per file, readable by any Swift client
    BUNDLE = "bundle"  # one uncompressed tar object: far fewer requests for many small files
    # The spellings of the former services.ioh.schemas.LayoutName (aliases, not members):
    objects = "objects"
    bundle = "bundle"

    @classmethod
    def parse(
        cls, text: str, *, what: str = "layout", error: type[RadswiftError] = InvalidInput
    ) -> Layout:
        """'objects' or 'bundle'; else `error` saying "unknown <what> 'x': use objects or
        bundle" (InvalidInput for a user's request, ConfigError for a configuration)."""
        try:
            return cls(text)
        except ValueError:
            raise error(f"unknown {what} {text!r}: use {' or '.join(LAYOUTS)}") from None


LAYOUTS: tuple[Layout, ...] = tuple(Layout)
BUNDLE_BASENAME = ".radswift-bundle.tar"
FILES_META = "radswift-bundle-files"
BYTES_META = "radswift-bundle-bytes"


def bundle_object(area: str) -> str:
    """The bundle's object name for an area prefix such as "input/" or "output/"."""
    if not area.endswith("/"):
        raise ValueError(f"an area prefix ends with '/': {area!r}")
    return area + BUNDLE_BASENAME


def is_bundle_object(name: str, area: str) -> bool:
    """True for the bundle object of `area` (and nothing deeper that merely ends alike)."""
    return name == bundle_object(area)


class AreaState(StrEnum):
    """How an area is stored now: nothing, per-file objects, a bundle, or both (mixed:
    left by another client, or by a replacing write that could not delete the old)."""

    EMPTY = "empty"
    OBJECTS = "objects"
    BUNDLE = "bundle"
    MIXED = "mixed"


def area_state(names: Iterable[str], area: str) -> AreaState:
    """The state of `area` ("input/") given object names (those outside it are ignored)."""
    bundle = bundle_object(area)
    has_bundle = has_others = False
    for name in names:
        if name == bundle:
            has_bundle = True
        elif name.startswith(area):
            has_others = True
    if has_bundle:
        return AreaState.MIXED if has_others else AreaState.BUNDLE
    return AreaState.OBJECTS if has_others else AreaState.EMPTY


def would_mix(names: Iterable[str], area: str, layout: Layout) -> bool:
    """The rule: would writing `layout` into `area`, which holds `names`, without
    replacing the area, leave both layouts in it?"""
    state = area_state(names, area)
    if layout == Layout.BUNDLE:
        return state in (AreaState.OBJECTS, AreaState.MIXED)
    return state in (AreaState.BUNDLE, AreaState.MIXED)
