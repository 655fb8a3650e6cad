"""radswift's own podman images, `localhost/radswift:<role>-<hash of the sources>`.

The demo (role `demo`) and the podman tests (role `test`) each build the radswift image
once per change of the sources (about 425 MB each). Only the newest per role is worth
keeping: building one removes the older ones of its role (remove_stale_images), and
`radswift dev clean` removes them all. Other tags of the repository (a release's
`localhost/radswift:<version>`, say) are never touched.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

IMAGE_REPOSITORY = "localhost/radswift"
ROLES = ("demo", "test")


@dataclass(frozen=True, slots=True)
class Image:
    """One tag of IMAGE_REPOSITORY made for a role."""

    name: str
    role: str
    size: int
    created: int


def role_of(name: str) -> str | None:
    """'demo' for localhost/radswift:demo-abc, None for a tag no role owns."""
    repository, _, tag = name.rpartition(":")
    role = tag.partition("-")[0]
    return role if repository == IMAGE_REPOSITORY and role in ROLES and "-" in tag else None


def list_images(env: Mapping[str, str]) -> list[Image]:
    """The role images podman holds, newest first ([] without podman)."""
    if shutil.which("podman", path=env.get("PATH")) is None:
        return []
    listed = subprocess.run(
        ["podman", "images", "--format", "json", IMAGE_REPOSITORY],
        env=dict(env), capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    if listed.returncode != 0:
        return []
    return parse_images(json.loads(listed.stdout or "[]"))


def parse_images(rows: Sequence[Mapping[str, object]]) -> list[Image]:
    """Images of `podman images --format json`, one per role tag, newest first."""
    found: list[Image] = []
    for row in rows:
        names = row.get("Names") or []
        for name in names if isinstance(names, list) else []:
            role = role_of(str(name))
            if role is not None:
                size, created = row.get("Size", 0), row.get("Created", 0)
                found.append(Image(str(name), role, _int(size), _int(created)))
    return sorted(found, key=lambda image: image.created, reverse=True)


def stale_images(images: Sequence[Image], keep: str) -> list[Image]:
    """The images of `keep`'s role other than `keep` itself."""
    role = role_of(keep)
    return [i for i in images if i.role == role and i.name != keep]


def remove_images(env: Mapping[str, str], images: Sequence[Image]) -> None:
    """`podman rmi` them (one in use by a container stays; nothing is forced)."""
    if images:
        subprocess.run(
            ["podman", "rmi", *(i.name for i in images)],
            env=dict(env), capture_output=True, check=False, timeout=300,
        )  # fmt: skip


def remove_stale_images(
    env: Mapping[str, str], keep: str, repository: str = IMAGE_REPOSITORY
) -> list[str]:
    """After building `keep`: remove the older images of its role; return their names.

    For another repository of radswift's own (the example plugin's), every other tag of
    that repository is stale: it only ever holds builds of one source."""
    if repository == IMAGE_REPOSITORY:
        stale = stale_images(list_images(env), keep)
        remove_images(env, stale)
        return [i.name for i in stale]
    listed = subprocess.run(
        ["podman", "images", "--format", "{{.Repository}}:{{.Tag}}", repository],
        env=dict(env), capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    names = [n for n in listed.stdout.split() if n.startswith(repository + ":") and n != keep]
    if names:
        subprocess.run(
            ["podman", "rmi", *names], env=dict(env), capture_output=True, check=False, timeout=300
        )
    return names


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0
