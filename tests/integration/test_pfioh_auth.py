"""Token auth on the REST API: the same rules as the legacy protocol (400 without a
bearer token, 401 with a wrong one), /healthz always open, both token file formats."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pfioh_helpers import new_key, serve, tar_bytes

from radswift.services.ioh import IohSettings
from radswift.services.ioh.auth import load_tokens
from radswift.store.local import LocalStore


@pytest.fixture(params=["ini", "lines"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "tokens"
    if request.param == "ini":
        path.write_text("[AUTH TOKENS]\nalice = tok-alice\nbob = tok-bob\n")
    else:
        path.write_text("# one per line\ntok-alice\n\ntok-bob\n")
    settings = IohSettings(tokens=load_tokens(path))
    with serve(LocalStore(tmp_path / "store"), settings) as base:
        yield base


def test_healthz_needs_no_token(url: str) -> None:
    assert httpx.get(f"{url}/healthz").status_code == 200


@pytest.mark.parametrize("route", ["/metrics", "/openapi.json", "/api/v1/keys/k"])
def test_every_other_route_needs_a_token(url: str, route: str) -> None:
    missing = httpx.get(f"{url}{route}")
    assert missing.status_code == 400 and missing.json()["error"] == "missing_token"
    wrong = httpx.get(f"{url}{route}", headers={"Authorization": "Bearer tok-mallory"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_token"
    assert wrong.headers["www-authenticate"] == "Bearer"
    basic = httpx.get(f"{url}{route}", headers={"Authorization": "Basic dG9rLWFsaWNl"})
    assert basic.status_code == 400


def test_a_valid_token_in_any_case_of_the_scheme_passes(url: str) -> None:
    key = new_key()
    for scheme, token in (("Bearer", "tok-alice"), ("bearer", "tok-bob"), ("BEARER", "tok-bob")):
        headers = {"Authorization": f"{scheme} {token}"}
        assert httpx.get(f"{url}/metrics", headers=headers).status_code == 200
    pushed = httpx.post(
        f"{url}/api/v1/keys/{key}/input",
        content=tar_bytes({"a": b"1"}),
        headers={"Authorization": "Bearer tok-alice", "Content-Type": "application/x-tar"},
    )
    assert pushed.status_code == 201


def test_a_refused_push_stores_nothing(url: str, tmp_path: Path) -> None:
    key = new_key()
    reply = httpx.post(
        f"{url}/api/v1/keys/{key}/input",
        content=tar_bytes({"a": b"1"}),
        headers={"Authorization": "Bearer nope", "Content-Type": "application/x-tar"},
    )
    assert reply.status_code == 401
    ok = httpx.get(f"{url}/api/v1/keys/{key}", headers={"Authorization": "Bearer tok-bob"})
    assert ok.status_code == 404
