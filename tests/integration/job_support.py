"""What the job-backend tests share: the key's input put and its output read with
python-swiftclient, an independent Swift client (fixtures `swift` and `credentials` are
in this folder's conftest.py)."""

from __future__ import annotations

import json
import os
import uuid

from swiftclient.client import Connection

COPY_ALL = "cp -r /share/incoming/. /share/outgoing/ && echo done > /share/outgoing/log.txt"
"""The processor's command in most job tests: all of the input becomes the output, plus log.txt."""
STUDY = {
    "series 1/IM-0001.dcm": b"DICM" + os.urandom(70_000),
    "series 1/IM-0002.dcm": b"DICM" + os.urandom(1_000),
    "brain.nii": os.urandom(300_000),
    "empty.txt": b"",
    "naïve — 患者.txt": b"non-ASCII\n",
}
"""A small study with the names that break naive code: spaces, non-ASCII, an empty file."""


def new_key(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:12]}"  # not slug-<10 hex>: job_name keeps it


def put_input(swift: Connection, key: str, files: dict[str, bytes]) -> None:
    swift.put_container(key)
    for name, data in files.items():
        swift.put_object(key, f"input/{name}", data)


def objects(swift: Connection, key: str, prefix: str) -> dict[str, bytes]:
    _, listing = swift.get_container(key, prefix=prefix, full_listing=True)
    return {o["name"][len(prefix) :]: swift.get_object(key, o["name"])[1] for o in listing}


def status(swift: Connection, key: str) -> dict[str, object]:
    return json.loads(swift.get_object(key, ".radswift/status.json")[1])  # type: ignore[no-any-return]
