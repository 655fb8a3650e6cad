"""Plain helpers of the Keystone tier (fixtures are in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from radswift.dev.keystone import KeystoneSwift

RADSWIFT = str(Path(sys.executable).with_name("radswift"))


@dataclass(frozen=True)
class CredentialForm:
    """One way to hand radswift Keystone credentials: OS_* variables or a ChRIS file."""

    name: str
    env: dict[str, str] = field(repr=False)
    file: Path | None = None
    secret: str = field(default="", repr=False)
    """The password or application-credential secret in it (to prove it never leaks)."""

    def cli_args(self) -> list[str]:
        return ["--credentials", str(self.file)] if self.file else []

    def publisher_env(self) -> dict[str, str]:
        return {**self.env, **({"RADSWIFT_CREDENTIALS_FILE": str(self.file)} if self.file else {})}


FORMS = (
    "file-password-default-domain-user",
    "file-password-radiology-user",
    "file-application-credential",
    "env-password-radiology-domains",
    "env-application-credential",
)


def make_form(name: str, stack: KeystoneSwift, where: Path) -> CredentialForm:
    """The credential form `name` for the stack's test identities."""
    ids = stack.identities
    path = where / f"{name}.cfg"
    if name == "file-password-default-domain-user":
        stack.write_password_file(path, ids.legacy_user)
        return CredentialForm(name, {}, path, ids.legacy_user.password)
    if name == "file-password-radiology-user":
        stack.write_password_file(path, ids.user, user_domain_key=True)
        return CredentialForm(name, {}, path, ids.user.password)
    if name == "file-application-credential":
        stack.write_app_credential_file(path)
        return CredentialForm(name, {}, path, ids.app_credential.secret)
    if name == "env-password-radiology-domains":
        return CredentialForm(name, stack.password_environ(), None, ids.user.password)
    if name == "env-application-credential":
        return CredentialForm(name, stack.app_credential_environ(), None, ids.app_credential.secret)
    raise ValueError(name)


def clean_env() -> dict[str, str]:
    """The test's environment without any credentials or radswift settings of its own."""
    drop = ("ST_", "OS_", "RADSWIFT_", "SWIFT_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


Run = Callable[..., subprocess.CompletedProcess[str]]


def make_tree(root: Path, files: int, size: int) -> Path:
    """`files` files of `size` distinct bytes each, in two sub-directories."""
    tree = root / "study"
    for index in range(files):
        path = tree / f"series-{index % 2}" / f"IM-{index:04d}.dcm"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(index.to_bytes(4, "big") * (size // 4))
    return tree


def same_tree(left: Path, right: Path) -> bool:
    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    return files(left) == files(right)
