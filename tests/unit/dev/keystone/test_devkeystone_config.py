"""keystone.conf and the Swift proxy's Keystone filters, as generated text and values.

Pure functions only; the Keystone that runs them is tested in tests/integration/keystone.
"""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

from radswift.dev.keystone import KeystoneSettings, KeystoneUser, LocalKeystone
from radswift.dev.keystone.config import KeystonePaths, keystone_conf
from radswift.dev.keystone.server import KeystoneState
from radswift.dev.keystone.stack import keystone_proxy_auth


def _parse(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    return parser


def test_keystone_conf_keeps_everything_in_the_workdir(tmp_path: Path) -> None:
    conf = _parse(keystone_conf(KeystonePaths(workdir=tmp_path), KeystoneSettings()))
    assert conf["database"]["connection"] == f"sqlite:///{tmp_path}/keystone.db"
    assert conf["fernet_tokens"]["key_repository"] == str(tmp_path / "fernet-keys")
    assert conf["credential"]["key_repository"] == str(tmp_path / "credential-keys")
    assert conf["DEFAULT"]["log_file"] == str(tmp_path / "logs" / "keystone.log")


def test_keystone_conf_carries_the_token_lifetime_and_cheap_hashing(tmp_path: Path) -> None:
    settings = KeystoneSettings(token_expiration=15)
    conf = _parse(keystone_conf(KeystonePaths(workdir=tmp_path), settings))
    assert conf["token"]["provider"] == "fernet"
    assert conf["token"]["expiration"] == "15"
    assert conf["identity"]["password_hash_rounds"] == "4"
    assert conf["cache"]["backend"] == "dogpile.cache.memory"


def test_a_token_lifetime_under_five_seconds_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 5"):
        KeystoneSettings(token_expiration=2)


def _service_user() -> KeystoneUser:
    return KeystoneUser(
        id="u1", name="swift", domain_name="Default", password="service-pass-xyz",
        project_id="p1", project_name="service", project_domain_name="Default",
    )  # fmt: skip


def _keystone(tmp_path: Path) -> LocalKeystone:
    state = KeystoneState(
        workdir=tmp_path, host="127.0.0.1", port=35357, venv_dir=tmp_path / "venv",
        settings=KeystoneSettings(), admin_password="admin-pass-xyz",
    )  # fmt: skip
    return LocalKeystone(state)


def test_the_proxy_authenticates_with_authtoken_then_authorizes_with_keystoneauth(
    tmp_path: Path,
) -> None:
    auth = keystone_proxy_auth(_keystone(tmp_path), _service_user())
    assert [f.name for f in auth.filters] == ["authtoken", "keystoneauth"]
    authtoken, keystoneauth = (dict(f.options) for f in auth.filters)
    assert authtoken["paste.filter_factory"] == "keystonemiddleware.auth_token:filter_factory"
    assert authtoken["www_authenticate_uri"] == "http://127.0.0.1:35357/v3"
    assert authtoken["delay_auth_decision"] == "true"  # tempurl and anonymous ACLs still work
    assert keystoneauth["use"] == "egg:swift#keystoneauth"
    assert "member" in keystoneauth["operator_roles"].split(", ")


def test_passwords_stay_out_of_reprs(tmp_path: Path) -> None:
    keystone = _keystone(tmp_path)
    auth = keystone_proxy_auth(keystone, _service_user())
    shown = repr(auth) + repr(_service_user()) + repr(keystone) + repr(keystone._state)
    assert "service-pass-xyz" not in shown
    assert "admin-pass-xyz" not in shown
