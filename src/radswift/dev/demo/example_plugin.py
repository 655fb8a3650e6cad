"""How a job runs the example plugin (examples/pl-dicom-summary), on either backend.

Local backend (host processes): `local_plugin_command()`, the plugin as a module of
this interpreter (`./run` installs it into the project's venv beside radswift).

Podman (and clusters): the plugin's image, built here without a registry, run as
PLUGIN_COMMAND.

The image layers the plugin on a local image that has Debian 12 and Python 3.11: the
radswift image (radswift.dev.demo.backends.ensure_image), which the demo and the podman
tests build anyway. Nothing is fetched inside the build: the plugin's wheel and its
dependencies' wheels (numpy, Pillow, pydicom, chris-plugin) are made first on the host
with this interpreter's pip (PyPI, or pip's cache), into the build context beside the
plugin's own Containerfile, which installs from them when they are there.

The tag is `localhost/pl-dicom-summary:<hash of the plugin's files>-<base image id>`,
so a change to the plugin or to the base image makes a new image, and nothing else does;
older builds are removed. Run it as PLUGIN_COMMAND (`pl_dicom_summary /share/incoming
/share/outgoing`), the way ChRIS runs a ds plugin.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from radswift.dev.demo.backends import REPO
from radswift.dev.demo.images import remove_stale_images
from radswift.errors import ConfigError

PLUGIN_DIR = REPO / "examples" / "pl-dicom-summary"
PLUGIN_IMAGE_REPOSITORY = "localhost/pl-dicom-summary"
PLUGIN_COMMAND = ("pl_dicom_summary", "/share/incoming", "/share/outgoing")
"""The processor's command in a job pod (the image's PATH has the plugin's venv)."""
PLUGIN_MODULE = "pl_dicom_summary"
BUILD_TIMEOUT = 900.0
_IGNORED = ("__pycache__", "*.egg-info", "build", "dist", "wheels")


def local_plugin_command(python: str = sys.executable) -> list[str]:
    """The processor's command on the local backend: the plugin run by `python` (which
    must have it installed); the backend maps `/share` to the job's directory."""
    return [python, "-m", PLUGIN_MODULE, *PLUGIN_COMMAND[1:]]


def plugin_source_hash() -> str:
    """A short hash of the plugin's sources, pyproject and Containerfile."""
    digest = hashlib.sha256()
    for path in sorted(PLUGIN_DIR.rglob("*")):
        parts = path.relative_to(PLUGIN_DIR).parts
        if path.is_file() and not any(p == "__pycache__" or p.endswith(".egg-info") for p in parts):
            digest.update(path.relative_to(PLUGIN_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def plugin_image_tag(env: Mapping[str, str], base_image: str) -> str:
    """The plugin image's tag on `base_image` (which must exist)."""
    inspect = subprocess.run(
        ["podman", "image", "inspect", "--format", "{{.Id}}", base_image],
        env=dict(env), capture_output=True, text=True, check=False,
    )  # fmt: skip
    if inspect.returncode != 0:
        raise ConfigError(f"the base image {base_image} does not exist: build it first")
    return f"{PLUGIN_IMAGE_REPOSITORY}:{plugin_source_hash()}-{inspect.stdout.strip()[:12]}"


def ensure_plugin_image(
    env: Mapping[str, str], base_image: str, say: Callable[[str], None] = lambda _: None
) -> str:
    """The plugin image on `base_image`, built (about a minute) if it does not exist yet."""
    image = plugin_image_tag(env, base_image)
    exists = subprocess.run(["podman", "image", "exists", image], env=dict(env), check=False)
    if exists.returncode == 0:
        say(f"using the plugin image {image} (already built)")
        return image
    say(f"building the plugin image {image} on {base_image}: about a minute")
    with tempfile.TemporaryDirectory(prefix="pl-dicom-summary-") as tmp:
        context = Path(tmp) / "context"
        shutil.copytree(PLUGIN_DIR, context, ignore=shutil.ignore_patterns(*_IGNORED))
        _run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
             "--wheel-dir", str(context / "wheels"), str(context)],
            env, "building the plugin's wheels",
        )  # fmt: skip
        _run(
            ["podman", "build", "--quiet", "--network", "host", "--pull=never",
             "--build-arg", f"BASE={base_image}", "-t", image,
             "-f", str(context / "Containerfile"), str(context)],
            env, "podman build of the plugin image",
        )  # fmt: skip
    remove_stale_images(env, image, PLUGIN_IMAGE_REPOSITORY)
    return image


def _run(argv: list[str], env: Mapping[str, str], what: str) -> None:
    done = subprocess.run(
        argv, env=dict(env), capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False
    )
    if done.returncode != 0:
        raise ConfigError(f"{what} failed (exit {done.returncode}): {done.stderr.strip()[-1500:]}")
