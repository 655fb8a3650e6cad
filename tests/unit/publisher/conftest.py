"""Fixtures of the publisher's tests; also lets them import the fakes in tests/fakes."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from radswift.publisher.emissary import build_emissary

_TESTS = str(Path(__file__).resolve().parents[2])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)


@pytest.fixture(scope="session")
def emissary_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The emissary, compiled once per session (skipped, visibly, without gcc)."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed: cannot build the emissary")
    return build_emissary(tmp_path_factory.mktemp("emissary") / "radswift-emissary")
