"""Swift credentials: every way deployments hand them to us, and secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from radswift.errors import CredentialsError
from radswift.swift import credentials as credmod
from radswift.swift.credentials import (
    AuthKind,
    credentials_from_environ,
    credentials_from_file,
    is_v1_auth_url,
    normalize_interface,
    resolve_credentials,
)

SECRET = "s3cr3t-Value!%"

ST_ENV = {"ST_AUTH": "http://127.0.0.1:8080/auth/v1.0", "ST_USER": "test:tester", "ST_KEY": SECRET}
OS_PASSWORD_ENV = {
    "OS_AUTH_URL": "http://keystone:5000/v3",
    "OS_USERNAME": "alice",
    "OS_PASSWORD": SECRET,
    "OS_PROJECT_NAME": "radiology",
    "OS_PROJECT_DOMAIN_NAME": "Hospital",
    "OS_USER_DOMAIN_ID": "d0d0",
    "OS_REGION_NAME": "RegionTwo",
    "OS_INTERFACE": "internalURL",
}
OS_APPCRED_ENV = {
    "OS_AUTH_URL": "http://keystone:5000/v3",
    "OS_APPLICATION_CREDENTIAL_ID": "app-123",
    "OS_APPLICATION_CREDENTIAL_SECRET": SECRET,
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "swift-credentials.cfg"
    path.write_text(text)
    return path


# -- environment ----------------------------------------------------------------------


def test_swift_cli_environment_means_v1_tempauth() -> None:
    creds = credentials_from_environ(ST_ENV)
    assert creds is not None
    assert creds.kind is AuthKind.V1
    assert (creds.auth_url, creds.username, creds.password) == (
        ST_ENV["ST_AUTH"],
        "test:tester",
        SECRET,
    )


def test_st_variables_win_over_os_variables() -> None:
    creds = credentials_from_environ({**OS_PASSWORD_ENV, **ST_ENV})
    assert creds is not None and creds.kind is AuthKind.V1


def test_openstack_password_environment() -> None:
    creds = credentials_from_environ(OS_PASSWORD_ENV)
    assert creds is not None
    assert creds.kind is AuthKind.PASSWORD
    assert creds.username == "alice" and creds.password == SECRET
    assert creds.project_name == "radiology"
    assert creds.project_domain_name == "Hospital"
    assert creds.user_domain_id == "d0d0" and creds.user_domain_name == ""
    assert creds.region_name == "RegionTwo"
    assert creds.interface == "internal"


def test_domains_default_to_keystones_default_domain() -> None:
    env = {k: v for k, v in OS_PASSWORD_ENV.items() if "DOMAIN" not in k and "INTERFACE" not in k}
    creds = credentials_from_environ(env)
    assert creds is not None
    assert creds.project_domain_name == "Default" and creds.user_domain_name == "Default"
    assert creds.interface == "public"


def test_openstack_application_credential_environment() -> None:
    creds = credentials_from_environ(OS_APPCRED_ENV)
    assert creds is not None
    assert creds.kind is AuthKind.APPLICATION_CREDENTIAL
    assert creds.application_credential_id == "app-123"
    assert creds.application_credential_secret == SECRET


def test_preauthenticated_storage_url_and_token() -> None:
    env = {"OS_STORAGE_URL": "http://127.0.0.1:8080/v1/AUTH_test/", "OS_AUTH_TOKEN": SECRET}
    creds = credentials_from_environ(env)
    assert creds is not None
    assert creds.kind is AuthKind.PREAUTHENTICATED
    assert creds.storage_url == "http://127.0.0.1:8080/v1/AUTH_test"
    assert creds.token == SECRET


def test_openstack_variables_with_a_v1_auth_url_mean_tempauth() -> None:
    env = {"OS_AUTH_URL": "http://h:8080/auth/v1.0", "OS_USERNAME": "a:b", "OS_PASSWORD": SECRET}
    creds = credentials_from_environ(env)
    assert creds is not None
    assert (creds.kind, creds.username, creds.password) == (AuthKind.V1, "a:b", SECRET)


def test_no_relevant_variables_means_none() -> None:
    assert credentials_from_environ({"HOME": "/root", "OS_REGION_NAME": "x"}) is None


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"ST_AUTH": "http://x/auth/v1.0", "ST_USER": "u"}, "ST_KEY"),
        ({"ST_AUTH": "http://x/auth/v1.0", "ST_KEY": SECRET}, "ST_USER"),
        ({"OS_AUTH_URL": "http://k/v3", "OS_USERNAME": "u", "OS_PROJECT_NAME": "p"}, "OS_PASSWORD"),
        (
            {"OS_AUTH_URL": "http://k/v3", "OS_USERNAME": "u", "OS_PASSWORD": SECRET},
            "OS_PROJECT_NAME",
        ),
        (
            {"OS_AUTH_URL": "http://k/v3", "OS_APPLICATION_CREDENTIAL_ID": "a"},
            "OS_APPLICATION_CREDENTIAL_SECRET",
        ),
    ],
)
def test_incomplete_environment_names_the_missing_variable(
    env: dict[str, str], missing: str
) -> None:
    with pytest.raises(CredentialsError, match=missing) as caught:
        credentials_from_environ(env)
    assert SECRET not in str(caught.value)


# -- the ChRIS credentials file ---------------------------------------------------------


def test_historical_file_with_project_means_keystone_password(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[AUTHORIZATION]
osAuthUrl = http://keystone:5000/v3
username  = chris
password  = {SECRET}

[PROJECT]
osProjectDomain = Default
osProjectName   = chris-project
""",
    )
    creds = credentials_from_file(path)
    assert creds.kind is AuthKind.PASSWORD
    assert creds.auth_url == "http://keystone:5000/v3"
    assert (creds.username, creds.password) == ("chris", SECRET)
    assert (creds.project_name, creds.project_domain_name) == ("chris-project", "Default")
    assert creds.user_domain_name == "Default"
    assert creds.source == str(path)


def test_application_credential_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[AUTHORIZATION]
osAuthUrl = http://keystone:5000/v3

[SECRET]
applicationId     = 0123abcd
applicationSecret = {SECRET}
""",
    )
    creds = credentials_from_file(path)
    assert creds.kind is AuthKind.APPLICATION_CREDENTIAL
    assert creds.application_credential_id == "0123abcd"
    assert creds.application_credential_secret == SECRET


def test_v1_auth_url_in_file_means_tempauth_user_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"[AUTHORIZATION]\nosAuthUrl = http://127.0.0.1:8080/auth/v1.0\n"
        f"username = test:tester\npassword = {SECRET}\n",
    )
    creds = credentials_from_file(path)
    assert creds.kind is AuthKind.V1
    assert (creds.username, creds.password) == ("test:tester", SECRET)


def test_file_is_lenient_about_case_whitespace_and_quotes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""[ authorization ]
   OS_AUTH_URL   =   "http://keystone:5000/v3"
USERNAME:chris
Password = '{SECRET}'
[project]
os_project_name = p1
""",
    )
    creds = credentials_from_file(path)
    assert creds.kind is AuthKind.PASSWORD
    assert creds.auth_url == "http://keystone:5000/v3"
    assert creds.password == SECRET
    assert creds.project_name == "p1"


def test_percent_signs_in_passwords_are_not_interpolated(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[AUTHORIZATION]\nosAuthUrl = http://h/auth/v1.0\nusername = u\npassword = a%(b)s%%\n",
    )
    assert credentials_from_file(path).password == "a%(b)s%%"


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        (f"[AUTHORIZATION]\nusername = u\npassword = {SECRET}\n", "osAuthUrl"),
        (f"[AUTHORIZATION]\nosAuthUrl = http://k/v3\npassword = {SECRET}\n", "username"),
        ("[AUTHORIZATION]\nosAuthUrl = http://k/v3\nusername = u\n", "password"),
        (
            f"[AUTHORIZATION]\nosAuthUrl = http://k/v3\nusername = u\npassword = {SECRET}\n",
            "osProjectName",
        ),
        (
            f"[AUTHORIZATION]\nosAuthUrl = http://k/v3\n[SECRET]\napplicationSecret = {SECRET}\n",
            "applicationId",
        ),
        (
            "[AUTHORIZATION]\nosAuthUrl = http://k/v3\n[SECRET]\napplicationId = a\n",
            "applicationSecret",
        ),
    ],
)
def test_malformed_file_names_the_missing_field_not_its_neighbours(
    tmp_path: Path, text: str, missing: str
) -> None:
    with pytest.raises(CredentialsError, match=missing) as caught:
        credentials_from_file(write(tmp_path, text))
    assert SECRET not in str(caught.value)


def test_unparsable_file_error_quotes_no_line(tmp_path: Path) -> None:
    path = write(tmp_path, f"password = {SECRET}\n")
    with pytest.raises(CredentialsError, match="line 1") as caught:
        credentials_from_file(path)
    assert SECRET not in str(caught.value)
    path = write(tmp_path, f"[AUTHORIZATION]\nosAuthUrl = http://k/v3\n{SECRET}\n")
    with pytest.raises(CredentialsError, match="line") as caught:
        credentials_from_file(path)
    assert SECRET not in str(caught.value)


def test_missing_file_is_a_credentials_error(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="does not exist"):
        credentials_from_file(tmp_path / "absent.cfg")


# -- resolution order ---------------------------------------------------------------------


def test_explicit_file_wins_over_environment(tmp_path: Path) -> None:
    path = write(
        tmp_path, "[AUTHORIZATION]\nosAuthUrl = http://f/auth/v1.0\nusername = f\npassword = p\n"
    )
    assert resolve_credentials(ST_ENV, path).auth_url == "http://f/auth/v1.0"


def test_environment_wins_over_default_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path, "[AUTHORIZATION]\nosAuthUrl = http://f/auth/v1.0\nusername = f\npassword = p\n"
    )
    monkeypatch.setattr(credmod, "DEFAULT_CREDENTIALS_FILE", path)
    assert resolve_credentials(ST_ENV, None).username == "test:tester"
    assert resolve_credentials({}, None).username == "f"


def test_nothing_found_says_what_was_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(credmod, "DEFAULT_CREDENTIALS_FILE", tmp_path / "absent.cfg")
    with pytest.raises(CredentialsError) as caught:
        resolve_credentials({}, None)
    message = str(caught.value)
    for looked_for in ("ST_AUTH", "OS_AUTH_URL", "OS_STORAGE_URL", "absent.cfg"):
        assert looked_for in message


# -- secrets stay hidden ---------------------------------------------------------------


@pytest.mark.parametrize(
    "env",
    [
        ST_ENV,
        OS_PASSWORD_ENV,
        OS_APPCRED_ENV,
        {"OS_STORAGE_URL": "http://s/v1/AUTH_a", "OS_AUTH_TOKEN": SECRET},
    ],
)
def test_repr_str_and_description_never_show_a_secret(env: dict[str, str]) -> None:
    creds = credentials_from_environ(env)
    assert creds is not None
    for text in (repr(creds), str(creds), creds.describe(), f"{creds}", f"{creds!r}"):
        assert SECRET not in text


def test_credentials_are_frozen() -> None:
    creds = credentials_from_environ(ST_ENV)
    with pytest.raises(AttributeError):
        creds.password = "x"  # type: ignore[misc, union-attr]


# -- small rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "v1"),
    [
        ("http://127.0.0.1:8080/auth/v1.0", True),
        ("http://h/auth/v1.0/", True),
        ("https://swift.example.org/v1.0", True),
        ("http://keystone:5000/v3", False),
        ("http://keystone:5000/", False),
    ],
)
def test_v1_auth_urls_are_recognized(url: str, v1: bool) -> None:
    assert is_v1_auth_url(url) is v1


@pytest.mark.parametrize(
    ("given", "expected"),
    [("", "public"), ("publicURL", "public"), ("internal", "internal"), ("ADMIN", "admin")],
)
def test_interfaces_accept_v2_spellings(given: str, expected: str) -> None:
    assert normalize_interface(given) == expected


def test_unknown_interface_is_refused() -> None:
    with pytest.raises(CredentialsError, match="interface"):
        normalize_interface("private")
