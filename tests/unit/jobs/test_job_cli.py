"""`radswift job manifest`: the command line prints the job's objects as YAML."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from radswift.cli.app import run_app
from radswift.cli.main import app

IMAGE = ("--radswift-image", "registry.example.org/radswift:1")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`radswift ARGV...` with a pullable --radswift-image (required for a cluster)."""
    if "--radswift-image" not in argv and argv[:2] == ("job", "manifest"):
        argv = (*argv[:2], *IMAGE, *argv[2:])
    code = run_app(app, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_manifest_prints_validated_multi_document_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "job",
        "manifest",
        "--platform",
        "openshift",
        "--jid",
        "study-42",
        "--image",
        "quay.io/fnndsc/pl-dircopy:2.1.1",
        "--cpu",
        "2000m",
        "--memory",
        "1Gi",
        "--gpu",
        "1",
        "--workers",
        "2",
        "--namespace",
        "chris",
        "--wait",
        "exitfile",
        "-e",
        "MODE=fast",
        "--",
        "dircopy",
        "--dir",
        "/share/incoming",
        "/share/outgoing",
    )
    assert code == 0
    docs = list(yaml.safe_load_all(out))
    assert [d["kind"] for d in docs] == ["PersistentVolumeClaim", "Job"]
    for doc in docs:
        kubernetes_validate.validate(doc, "1.37.0", strict=True)
    processor = docs[1]["spec"]["template"]["spec"]["containers"][0]
    assert processor["command"] == [
        "/share/.radswift/bin/radswift-emissary",
        "--",
        "dircopy",
        "--dir",
        "/share/incoming",
        "/share/outgoing",
    ]
    assert {"name": "MODE", "value": "fast"} in processor["env"]
    assert processor["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert docs[1]["metadata"]["namespace"] == "chris"


def test_manifest_can_write_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "job.yaml"
    code, out, _ = run(
        capsys,
        "job",
        "manifest",
        "--jid",
        "j1",
        "--image",
        "busybox",
        "-o",
        str(target),
        "--",
        "true",
    )
    assert (code, out) == (0, "")
    kinds = [d["kind"] for d in yaml.safe_load_all(target.read_text())]
    assert kinds == ["ServiceAccount", "Role", "RoleBinding", "Job"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--env", "NOEQUALS"],
        ["--env", "DB_PASSWORD=x"],
        ["--cpu", "lots"],
        ["--wait", "exitfile"],  # exitfile without a command
    ],
)
def test_bad_arguments_exit_2_with_a_message(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = run(capsys, "job", "manifest", "--jid", "j1", "--image", "busybox", *argv)
    assert code == 2
    assert out == ""
    assert "error" in err.lower()


def test_manifest_output_layout_bundle_reaches_the_publish_container(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys, "job", "manifest", "--jid", "study-42", "--image", "proc:1",
        "--output-layout", "bundle", "--", "run",
    )  # fmt: skip
    assert code == 0
    (job,) = [d for d in yaml.safe_load_all(out) if d["kind"] == "Job"]
    kubernetes_validate.validate(job, "1.37.0", strict=True)
    publish = {c["name"]: c for c in job["spec"]["template"]["spec"]["containers"]}["publish"]
    assert {"name": "RADSWIFT_OUTPUT_LAYOUT", "value": "bundle"} in publish["env"]


def test_a_manifest_needs_an_image_of_radswift_the_cluster_can_pull(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = run_app(app, ["job", "manifest", "--jid", "j1", "--image", "busybox", "--", "true"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert "--radswift-image" in err and "deploy/README.md" in err
