"""How `publish put` learns its layout: --layout, else RADSWIFT_OUTPUT_LAYOUT, else objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from radswift.errors import ConfigError
from radswift.publisher.config import PublisherConfig


def layout(tmp_path: Path, option: str | None = None, **env: str) -> str:
    base = {"RADSWIFT_KEY": "job-1", "RADSWIFT_SHARE": str(tmp_path), "RADSWIFT_WAIT": "none"}
    return PublisherConfig.from_env({**base, **env}, output_layout=option).output_layout


def test_the_default_layout_is_one_object_per_file(tmp_path: Path) -> None:
    assert layout(tmp_path) == "objects"
    assert layout(tmp_path, RADSWIFT_OUTPUT_LAYOUT="") == "objects"


def test_the_environment_chooses_and_the_option_wins(tmp_path: Path) -> None:
    assert layout(tmp_path, RADSWIFT_OUTPUT_LAYOUT="bundle") == "bundle"
    assert layout(tmp_path, "objects", RADSWIFT_OUTPUT_LAYOUT="bundle") == "objects"
    assert layout(tmp_path, "bundle") == "bundle"


@pytest.mark.parametrize("value", ["zip", "Bundle", "tar"])
def test_an_unknown_layout_is_a_configuration_error_naming_the_choices(
    tmp_path: Path, value: str
) -> None:
    with pytest.raises(ConfigError, match="use objects or bundle"):
        layout(tmp_path, RADSWIFT_OUTPUT_LAYOUT=value)
