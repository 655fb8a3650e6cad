"""`radswift cp`, `ls`, `rm` as a user runs them: real processes, real stores.

Every round trip runs twice: against the real local Swift (credentials from
ST_AUTH/ST_USER/ST_KEY, as a user would export them) and against the local
directory store (`--store file:///...`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from swiftclient.client import Connection

from radswift.dev.swift import LocalSwift

RADSWIFT = str(Path(sys.executable).with_name("radswift"))
SEGMENT = "64KiB"

Run = Callable[..., subprocess.CompletedProcess[str]]


def make_tree(root: Path) -> Path:
    """A small study: nested dirs, empty file and dir, non-ASCII names, a segmented file."""
    study = root / "study"
    (study / "series 1").mkdir(parents=True)
    (study / "series 1" / "IM-0001.dcm").write_bytes(b"DICM" * 5000)
    (study / "series 1" / "empty.dcm").write_bytes(b"")
    (study / "empty dir").mkdir()
    (study / "naïve — 患者.txt").write_text("non-ASCII\n")
    (study / "brain.nii").write_bytes(os.urandom(200_000))
    return study


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ST_", "OS_"))}
    env.pop("RADSWIFT_STORE", None)
    return env


@pytest.fixture(params=["file", pytest.param("swift", marks=pytest.mark.swift)])
def run(request: pytest.FixtureRequest, tmp_path: Path) -> Run:
    """`radswift ARGS...` against one backend; returns the finished process."""
    env = base_env()
    extra: list[str] = []
    if request.param == "swift":
        env.update(request.getfixturevalue("local_swift").environ())
    else:
        extra = ["--store", f"file://{tmp_path / 'store'}"]

    def runner(*args: str, wrap: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
        argv = [*wrap, RADSWIFT, *args, *extra]
        return subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=120, check=False
        )

    return runner


@pytest.fixture
def key() -> str:
    return f"cp-{uuid.uuid4().hex[:10]}"


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


def test_upload_then_download_gives_an_identical_tree(run: Run, key: str, tmp_path: Path) -> None:
    study = make_tree(tmp_path)
    up = ok(run("cp", str(study), f"swift://{key}/input/", "--segment-size", SEGMENT, "--json"))
    summary = json.loads(up.stdout)
    assert (summary["files"], summary["directories"]) == (4, 1)  # a dir marker is no file
    assert "━" not in up.stderr  # no progress bar when stderr is not a terminal
    down = ok(run("cp", f"swift://{key}/input/", str(tmp_path / "out"), "--segment-size", SEGMENT))
    assert down.stderr.startswith("4 files, 1 directory, ") and down.stdout == ""
    diff = subprocess.run(["diff", "-r", str(study), str(tmp_path / "out")], capture_output=True)
    assert diff.returncode == 0, diff.stdout
    listing = json.loads(ok(run("ls", f"swift://{key}/input/", "--json")).stdout)
    by_name = {row["name"]: row for row in listing}
    assert by_name["input/brain.nii"]["large"] and by_name["input/brain.nii"]["size"] == 200_000
    assert by_name["input/empty dir/"]["size"] == 0


def test_ls_marks_a_large_object_whose_etag_is_not_the_files_md5(
    run: Run, key: str, tmp_path: Path
) -> None:
    study = make_tree(tmp_path)
    ok(run("cp", str(study), f"swift://{key}/input/", "--segment-size", SEGMENT))
    lines = ok(run("ls", f"swift://{key}/input/")).stdout.splitlines()
    large = next(line for line in lines if "brain.nii" in line)
    assert "large object" in large and "not the file's MD5" in large
    assert "large" not in next(line for line in lines if "IM-0001.dcm" in line)
    listing = json.loads(ok(run("ls", f"swift://{key}/input/", "--json")).stdout)
    by_name = {row["name"]: row for row in listing}
    assert by_name["input/brain.nii"]["large"] and by_name["input/brain.nii"]["md5"] is None
    small = by_name["input/series 1/IM-0001.dcm"]
    assert small["md5"] == small["etag"] == hashlib.md5(b"DICM" * 5000).hexdigest()


@pytest.mark.swift
def test_ls_shows_the_md5_a_large_objects_manifest_records(
    local_swift: LocalSwift, key: str, tmp_path: Path
) -> None:
    study = make_tree(tmp_path)
    env = {**base_env(), **local_swift.environ()}
    args = ["cp", str(study), f"swift://{key}/input/", "--segment-size", SEGMENT]
    ok(subprocess.run([RADSWIFT, *args], env=env, capture_output=True, text=True, check=False))
    md5 = hashlib.md5((study / "brain.nii").read_bytes()).hexdigest()
    Connection(
        local_swift.auth_url, local_swift.user, local_swift.key, auth_version="1"
    ).post_object(key, "input/brain.nii", headers={"X-Object-Meta-Md5": md5})
    listed = subprocess.run(
        [RADSWIFT, "ls", f"swift://{key}/input/brain.nii"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert md5 in ok(listed).stdout and "MD5 its manifest records" in listed.stdout


def test_segments_of_one_large_file_can_go_up_concurrently(
    run: Run, key: str, tmp_path: Path
) -> None:
    volume = tmp_path / "volume"
    volume.mkdir()
    (volume / "brain.nii").write_bytes(os.urandom(1_000_000))  # 16 segments of 64 KiB
    ok(
        run(
            "cp",
            str(volume),
            f"swift://{key}/input/",
            "--segment-size",
            SEGMENT,
            "--segment-workers",
            "4",
        )
    )
    ok(run("cp", f"swift://{key}/input/", str(tmp_path / "out")))
    assert (tmp_path / "out" / "brain.nii").read_bytes() == (volume / "brain.nii").read_bytes()


def test_downloading_an_empty_area_fails_and_names_the_areas_the_key_has(
    run: Run, key: str, tmp_path: Path
) -> None:
    ok(run("cp", str(make_tree(tmp_path)), f"swift://{key}/input/"))
    empty = run("cp", f"swift://{key}/output/", str(tmp_path / "out"))
    assert empty.returncode == 1
    assert "no output/" in empty.stderr and "input/" in empty.stderr
    assert "--allow-empty" in empty.stderr
    ok(run("cp", f"swift://{key}/output/", str(tmp_path / "out"), "--allow-empty"))


def test_a_prefix_without_slash_is_a_directory_and_sync_skips_unchanged(
    run: Run, key: str, tmp_path: Path
) -> None:
    study = make_tree(tmp_path)
    ok(run("cp", str(study), f"swift://{key}/input", "--segment-size", SEGMENT))
    again = ok(
        run("cp", str(study), f"swift://{key}/input", "--sync", "--json", "--segment-size", SEGMENT)
    )
    assert json.loads(again.stdout)["skipped"] == 5  # 4 files and the empty directory
    ok(run("cp", f"swift://{key}/input", str(tmp_path / "out")))
    assert (tmp_path / "out" / "series 1" / "IM-0001.dcm").read_bytes() == b"DICM" * 5000


def test_single_files_go_up_and_down(run: Run, key: str, tmp_path: Path) -> None:
    scan = tmp_path / "scan.dcm"
    scan.write_bytes(b"one file")
    ok(run("cp", str(scan), f"swift://{key}/input/"))
    ok(run("cp", str(scan), f"swift://{key}/input/renamed.dcm"))
    names = ok(run("ls", f"swift://{key}")).stdout
    assert "input/scan.dcm" in names and "input/renamed.dcm" in names
    (tmp_path / "down").mkdir()
    ok(run("cp", f"swift://{key}/input/renamed.dcm", str(tmp_path / "down")))
    ok(run("cp", f"swift://{key}/input/scan.dcm", str(tmp_path / "exact.dcm")))
    assert (tmp_path / "down" / "renamed.dcm").read_bytes() == b"one file"
    assert (tmp_path / "exact.dcm").read_bytes() == b"one file"


def test_a_download_that_cannot_be_written_names_the_object(
    run: Run, key: str, tmp_path: Path
) -> None:
    scan = tmp_path / "scan.dcm"
    scan.write_bytes(b"one file")
    ok(run("cp", str(scan), f"swift://{key}/input/"))
    in_the_way = tmp_path / "a-file"
    in_the_way.write_bytes(b"")
    proc = run("cp", f"swift://{key}/input/scan.dcm", str(in_the_way / "scan.dcm"))
    assert proc.returncode == 1
    assert "input/scan.dcm" in proc.stderr and "Traceback" not in proc.stderr


def test_rm_needs_recursive_for_many_and_removes_a_whole_key(
    run: Run, key: str, tmp_path: Path
) -> None:
    study = make_tree(tmp_path)
    ok(run("cp", str(study), f"swift://{key}/input/", "--segment-size", SEGMENT))
    refused = run("rm", f"swift://{key}/input/")
    assert refused.returncode == 2 and "--recursive" in refused.stderr
    ok(run("rm", f"swift://{key}/input/naïve — 患者.txt"))
    ok(run("rm", "-r", f"swift://{key}"))
    gone = run("ls", f"swift://{key}")
    assert gone.returncode != 0 and "does not exist" in gone.stderr
    gone = run("ls", f"swift://{key}_segments")
    assert gone.returncode != 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cp", "a", "b"], "one local path and one swift://"),
        (["cp", "swift://k/a", "swift://k/b"], "one local path and one swift://"),
        (["cp", "/nonexistent/dir", "swift://k/input/"], "no such file"),
        (["cp", ".", "swift:/k/input/"], "swift://KEY/PREFIX"),
        (["cp", ".", "swift:///input/"], "key is empty"),
        (["cp", ".", "swift://k_segments/input/"], "_segments"),
        (["cp", ".", "swift://k/", "--segment-size", "lots"], "not a size"),
        (["ls", "./local"], "not a swift://KEY/PREFIX"),
        (["ls", "swift://no-such-key-here/"], "does not exist"),
    ],
)
def test_bad_input_is_a_message_and_an_exit_code_never_a_traceback(
    run: Run, args: list[str], message: str
) -> None:
    proc = run(*args)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_credentials_and_unknown_stores_are_config_errors(tmp_path: Path) -> None:
    env = base_env()
    env["HOME"] = str(tmp_path)
    proc = subprocess.run(
        [RADSWIFT, "ls", "swift://k/", "--credentials", str(tmp_path / "none.cfg")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    proc = subprocess.run(
        [RADSWIFT, "ls", "swift://k/", "--store", "ftp://x"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and "unknown store" in proc.stderr


def test_unreadable_files_and_links_are_reported_the_rest_uploaded(
    run: Run, key: str, tmp_path: Path
) -> None:
    study = make_tree(tmp_path)
    secret = study / "series 1" / "secret.dcm"
    secret.write_bytes(b"no access")
    secret.chmod(0)
    (study / "link.dcm").symlink_to(study / "brain.nii")
    wrap: list[str] = []
    if os.geteuid() == 0:  # root reads anything: drop the capabilities that let it
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to make a file unreadable for root"
        wrap = [setpriv, "--bounding-set=-dac_override,-dac_read_search"]
    proc = run("cp", str(study), f"swift://{key}/input/", "--json", wrap=wrap)
    assert proc.returncode == 1
    summary = json.loads(proc.stdout)
    assert (summary["files"], summary["directories"]) == (4, 1)
    assert [f["path"] for f in summary["failures"]] == ["series 1/secret.dcm"]
    assert [f["path"] for f in summary["ignored"]] == ["link.dcm"]
    assert "series 1/secret.dcm" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.swift
def test_a_corrupted_object_on_swifts_disk_is_detected(
    local_swift: LocalSwift, key: str, tmp_path: Path
) -> None:
    env = {**base_env(), **local_swift.environ()}
    payload = uuid.uuid4().hex.encode() * 100
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "scan.dcm").write_bytes(payload)
    ok(
        subprocess.run(
            [RADSWIFT, "cp", str(tmp_path / "src"), f"swift://{key}/"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    )
    [data_file] = [
        p
        for p in (local_swift.workdir / "data").rglob("*.data")
        if p.stat().st_size == len(payload) and p.read_bytes() == payload
    ]
    data_file.write_bytes(payload.upper())  # same length, other bytes; xattrs untouched
    proc = subprocess.run(
        [RADSWIFT, "cp", f"swift://{key}/", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "scan.dcm" in proc.stderr and "MD5" in proc.stderr
    assert not (tmp_path / "out" / "scan.dcm").exists()
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.swift
def test_an_unreachable_swift_is_one_message_and_exit_69(
    local_swift: LocalSwift, key: str, tmp_path: Path
) -> None:
    study = make_tree(tmp_path)
    env = {**base_env(), **local_swift.environ()}
    local_swift.stop_proxy()
    try:
        proc = subprocess.run(
            [RADSWIFT, "cp", str(study), f"swift://{key}/input/"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    finally:
        local_swift.start_proxy()
    assert proc.returncode == 69, proc.stderr
    assert proc.stderr.count("radswift: error:") == 1 and "Traceback" not in proc.stderr


# --- the bundle layout: one tar object per area ------------------------------------------


def test_a_tree_goes_up_as_one_bundle_and_comes_down_as_its_files(
    run: Run, key: str, tmp_path: Path
) -> None:
    study = make_tree(tmp_path)
    up = ok(run("cp", str(study), f"swift://{key}/input/", "--layout", "bundle", "--json"))
    assert json.loads(up.stdout)["files"] == 4
    listing = json.loads(ok(run("ls", f"swift://{key}/", "--json")).stdout)
    assert [row["name"] for row in listing] == ["input/.radswift-bundle.tar"]

    ok(run("cp", f"swift://{key}/input/", str(tmp_path / "out")))
    diff = subprocess.run(["diff", "-r", str(study), str(tmp_path / "out")], capture_output=True)
    assert diff.returncode == 0, diff.stdout
    ok(run("cp", f"swift://{key}", str(tmp_path / "whole")))  # the whole key: input/ unpacked
    assert (tmp_path / "whole" / "input" / "brain.nii").read_bytes() == (
        study / "brain.nii"
    ).read_bytes()
    ok(run("cp", f"swift://{key}/input/.radswift-bundle.tar", str(tmp_path / "raw.tar")))
    with tarfile.open(tmp_path / "raw.tar") as raw:  # the object itself is a plain tar
        assert "series 1/IM-0001.dcm" in raw.getnames()


def test_layouts_are_never_mixed_in_one_area(run: Run, key: str, tmp_path: Path) -> None:
    study = make_tree(tmp_path)
    ok(run("cp", str(study), f"swift://{key}/input/"))
    mixed = run("cp", str(study), f"swift://{key}/input/", "--layout", "bundle")
    assert mixed.returncode != 0 and "holds per-file objects" in mixed.stderr
    ok(run("cp", str(study), f"swift://{key}/output/", "--layout", "bundle"))
    mixed = run("cp", str(study), f"swift://{key}/output/")
    assert mixed.returncode != 0 and "holds a bundle" in mixed.stderr
    single = run("cp", str(study / "brain.nii"), f"swift://{key}/other/", "--layout", "bundle")
    assert single.returncode == 2 and "a directory" in single.stderr
    bad = run("cp", str(study), f"swift://{key}/x/", "--layout", "zip")
    assert bad.returncode == 2 and "unknown layout" in bad.stderr
    names = [r["name"] for r in json.loads(ok(run("ls", f"swift://{key}/", "--json")).stdout)]
    assert "output/.radswift-bundle.tar" in names and "input/brain.nii" in names
    assert not any(n.startswith(("other/", "x/")) for n in names)  # refusals stored nothing


def test_a_bundle_is_downloaded_whole_never_a_part_of_it(
    run: Run, key: str, tmp_path: Path
) -> None:
    study = make_tree(tmp_path)
    ok(run("cp", str(study), f"swift://{key}/input/", "--layout", "bundle"))
    part = run("cp", f"swift://{key}/input/series 1/", str(tmp_path / "part"))
    assert part.returncode == 2 and "Traceback" not in part.stderr
    assert f"swift://{key}/input/ is stored as one bundle" in part.stderr
    assert not (tmp_path / "part").exists() or list((tmp_path / "part").iterdir()) == []


def test_bundles_live_only_in_top_level_areas(run: Run, key: str, tmp_path: Path) -> None:
    study = make_tree(tmp_path)
    nested = run("cp", str(study), f"swift://{key}/input/nested/", "--layout", "bundle")
    assert nested.returncode == 2 and "top-level area" in nested.stderr
    ok(run("cp", str(study), f"swift://{key}/anything/", "--layout", "bundle"))
    single = run("cp", str(study / "brain.nii"), f"swift://{key}/anything/extra.nii")
    assert single.returncode != 0 and "holds a bundle" in single.stderr
    deeper = run("cp", str(study), f"swift://{key}/anything/deeper/")
    assert deeper.returncode != 0 and "holds a bundle" in deeper.stderr
    names = [r["name"] for r in json.loads(ok(run("ls", f"swift://{key}/", "--json")).stdout)]
    assert names == ["anything/.radswift-bundle.tar"]
    ok(run("cp", f"swift://{key}", str(tmp_path / "whole")))  # any top-level area unpacks
    assert (tmp_path / "whole" / "anything" / "brain.nii").read_bytes() == (
        study / "brain.nii"
    ).read_bytes()


def test_a_name_a_bundle_cannot_hold_fails_the_bundle_upload_clearly(
    run: Run, key: str, tmp_path: Path
) -> None:
    study = make_tree(tmp_path)
    (study / "T:1.dcm").write_bytes(b"a name fine on disk and in Swift, not in a tar")
    up = run("cp", str(study), f"swift://{key}/input/", "--layout", "bundle")
    assert up.returncode == 2 and "Traceback" not in up.stderr
    assert "'T:1.dcm' cannot be stored in a bundle" in up.stderr
    listing = run("ls", f"swift://{key}/", "--json")
    assert listing.returncode != 0 or json.loads(listing.stdout) == []
