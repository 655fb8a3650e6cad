"""Which job backend the demo runs its job with, and what each needs first.

`auto` picks podman when this process is root, podman answers `podman info`, and the
checkout's image build script is there (the radswift image is built from the sources,
~3 min the first time); otherwise the local backend (host processes, no containers).
With podman, the radswift image runs the job's get and publish containers and is the
base of the example plugin's image (radswift.dev.demo.example_plugin).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from radswift.dev.demo.images import IMAGE_REPOSITORY, remove_stale_images
from radswift.errors import ConfigError

REPO = Path(__file__).resolve().parents[4]  # src/radswift/dev/demo/backends.py -> the checkout
BUILD_SCRIPT = REPO / "deploy" / "scripts" / "build-image.sh"
CONTAINERS_CONF = REPO / "deploy" / "podman" / "containers.conf"
BUILD_TIMEOUT = 1800.0
CHOICES = ("auto", "podman", "local")


def podman_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ`, plus the checkout's containers.conf unless CONTAINERS_CONF is set."""
    env = dict(environ)
    if not env.get("CONTAINERS_CONF") and CONTAINERS_CONF.is_file():
        env["CONTAINERS_CONF"] = str(CONTAINERS_CONF)
    return env


def podman_problem(environ: Mapping[str, str]) -> str | None:
    """Why podman cannot run the demo's job here; None when it can."""
    if os.geteuid() != 0:
        return "podman jobs need rootful podman (run as root)"
    if not BUILD_SCRIPT.is_file():
        return f"the image build script {BUILD_SCRIPT} is missing (not a source checkout)"
    try:
        probe = subprocess.run(
            ["podman", "info", "--format", "{{.Host.OCIRuntime.Name}}"],
            env=podman_environ(environ), capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    except FileNotFoundError:
        return "podman is not installed"
    except subprocess.TimeoutExpired:
        return "`podman info` did not answer within 60 s"
    if probe.returncode != 0:
        return f"podman cannot run here: {probe.stderr.strip()[-300:]}"
    return None


def choose(choice: str, environ: Mapping[str, str]) -> tuple[str, str]:
    """The backend to use and why; ConfigError if podman was asked for and cannot run."""
    if choice not in CHOICES:
        raise ConfigError(f"unknown backend {choice!r}: use {', '.join(CHOICES)}")
    if choice == "local":
        return "local", "asked for"
    problem = podman_problem(environ)
    if problem is None:
        return "podman", "podman works here" if choice == "auto" else "asked for"
    if choice == "podman":
        raise ConfigError(problem)
    return "local", problem


def image_tag() -> str:
    """localhost/radswift:demo-<hash of the sources>: rebuilt only when they change."""
    return f"{IMAGE_REPOSITORY}:demo-{source_hash()}"


def source_hash() -> str:
    """A short hash of what the radswift image is built from (src/, pyproject, Containerfile)."""
    digest = hashlib.sha256()
    files = sorted((REPO / "src").rglob("*"))
    files += [REPO / "pyproject.toml", REPO / "deploy" / "image" / "Containerfile"]
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts and ".egg-info" not in str(path):
            digest.update(str(path.relative_to(REPO)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def ensure_image(env: Mapping[str, str], say: Callable[[str], None]) -> str:
    """The radswift image of these sources, built (minutes) if it does not exist yet."""
    image = image_tag()
    exists = subprocess.run(["podman", "image", "exists", image], env=dict(env), check=False)
    if exists.returncode == 0:
        say(f"using the radswift image {image} (already built from these sources)")
        return image
    say(f"building the radswift image {image}: about 3 minutes the first time")
    build = subprocess.run(
        [str(BUILD_SCRIPT), "-t", image], env={**env, "PYTHON": sys.executable},
        stdout=subprocess.PIPE, text=True, timeout=BUILD_TIMEOUT, check=False,
    )  # fmt: skip
    # (stderr is not captured: the user sees the script's progress)
    if build.returncode != 0:
        raise ConfigError(f"building the radswift image failed (exit {build.returncode})")
    remove_stale_images(env, image)  # only the newest demo image is kept
    return image
