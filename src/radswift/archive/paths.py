"""Entry names from untrusted archives, made safe to use as relative object names.

One rule set for reading and writing: a name is a relative, '/'-separated path
whose components are neither empty-after-collapse escapes nor '..'. Rejected
outright rather than "repaired": '..' anywhere (even `a/../b`, which stays
inside: no honest archiver writes it), absolute paths, drive letters, backslashes
(Windows separators would reach a filesystem as different paths than the name
we checked), NUL, and names that are not UTF-8. Harmless noise is removed:
leading './', repeated '/', '.' components and a trailing '/'.

Duplicates are refused too (decided here, once): a second entry with the same
path would silently replace the first, and a file that is also a directory of
another entry (`a` and `a/b`) cannot be written to a filesystem. Both are the
shape of confusion attacks, and no archiver that walks a tree produces them.
Directory entries may repeat (tar lists a directory and then its implicit
parents are re-announced by some tools).
"""

from __future__ import annotations

import hashlib
import re
import secrets

from radswift.errors import UnsafeArchive

_DRIVE = re.compile(r"^[A-Za-z]:")


def normalize_entry_path(raw: str, *, max_name_bytes: int) -> str:
    """Return the safe, normalized form of an entry name, or raise UnsafeArchive naming it.

    The result may be "" for the archive's root directory ("./"); callers skip it.
    """
    shown = raw[:200]
    if "\x00" in raw:
        raise UnsafeArchive(f"entry {shown!r} has a NUL character in its name", reason="bad_name")
    if "\\" in raw:
        raise UnsafeArchive(f"entry {shown!r} has a backslash in its name", reason="bad_name")
    if raw.startswith("/"):
        raise UnsafeArchive(f"entry {shown!r} has an absolute path", reason="absolute_path")
    if _DRIVE.match(raw):
        raise UnsafeArchive(f"entry {shown!r} starts with a drive letter", reason="absolute_path")
    try:
        encoded = raw.encode("utf-8")
    except UnicodeEncodeError:
        raise UnsafeArchive(f"entry {shown!r} is not valid UTF-8", reason="bad_name") from None
    parts = [part for part in raw.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchive(f"entry {shown!r} has a '..' component", reason="path_traversal")
    if len(encoded) > max_name_bytes:
        raise UnsafeArchive(
            f"entry {shown!r}... is longer than {max_name_bytes} bytes", reason="name_too_long"
        )
    return "/".join(parts)


class PathRegistry:
    """Remembers the paths seen in one archive to refuse duplicates and file/directory clashes.

    Stores 8-byte keyed digests, not names: 200,000 entries cost a few MiB, and the
    random key means no one can craft colliding names to make an archive fail.
    """

    def __init__(self) -> None:
        self._key = secrets.token_bytes(16)
        self._files: set[int] = set()
        self._dirs: set[int] = set()

    def add(self, path: str, *, is_dir: bool) -> None:
        """Record `path`, or raise UnsafeArchive if it clashes with an earlier entry."""
        digest = self._digest(path)
        if digest in self._files:
            what = "a directory and a file" if is_dir else "twice"
            raise UnsafeArchive(f"entry {path!r} appears {what}", reason="duplicate_entry")
        if not is_dir and digest in self._dirs:
            raise UnsafeArchive(
                f"entry {path!r} is both a file and a directory", reason="duplicate_entry"
            )
        parent = path
        while "/" in parent:
            parent = parent.rsplit("/", 1)[0]
            parent_digest = self._digest(parent)
            if parent_digest in self._files:
                raise UnsafeArchive(
                    f"entry {path!r} lies under {parent!r}, which is a file",
                    reason="duplicate_entry",
                )
            if parent_digest in self._dirs:
                break
            self._dirs.add(parent_digest)
        (self._dirs if is_dir else self._files).add(digest)

    def _digest(self, path: str) -> int:
        raw = hashlib.blake2b(path.encode("utf-8"), digest_size=8, key=self._key).digest()
        return int.from_bytes(raw, "little")
