"""Token files and the bearer check of pfioh (pure logic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from radswift.errors import AuthorizationError, ConfigError, InvalidInput
from radswift.services.ioh.auth import check_authorization, load_tokens

TOKENS = frozenset({"alpha", "beta"})


def test_ini_token_file_accepts_every_value_of_its_section(tmp_path: Path) -> None:
    path = tmp_path / "t.cfg"
    path.write_text("[AUTH TOKENS]\nchris = alpha\nother = beta\n\n[OTHER]\nx = not-a-token\n")
    assert load_tokens(path) == TOKENS


def test_plain_token_file_is_one_token_per_line(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("# comment\nalpha\n\n  beta  \n")
    assert load_tokens(path) == TOKENS


def test_an_empty_or_missing_token_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("\n# nothing\n")
    with pytest.raises(ConfigError):
        load_tokens(tmp_path / "empty")
    with pytest.raises(ConfigError, match="cannot read"):
        load_tokens(tmp_path / "absent")


@pytest.mark.parametrize("header", ["Bearer alpha", "bearer beta", "BEARER  alpha "])
def test_a_known_token_passes_whatever_the_scheme_case(header: str) -> None:
    check_authorization(header, TOKENS)


@pytest.mark.parametrize("header", [None, "", "alpha", "Basic alpha", "Bearer", "Bearer  "])
def test_no_bearer_token_is_400(header: str | None) -> None:
    with pytest.raises(InvalidInput) as err:
        check_authorization(header, TOKENS)
    assert err.value.http_status == 400


@pytest.mark.parametrize("header", ["Bearer gamma", "Bearer alph", "Bearer alphaa"])
def test_a_wrong_token_is_401_and_the_message_does_not_echo_it(header: str) -> None:
    with pytest.raises(AuthorizationError) as err:
        check_authorization(header, TOKENS)
    assert err.value.http_status == 401
    assert header.split()[-1] not in err.value.message
