"""The object-store endpoint is chosen by region and interface when the catalog has several.

The catalog gets, for this test only, bogus endpoints (a loopback port nobody listens
on, each region/interface its own port) beside the real ones:

    RegionOne  public, internal, admin   real (registered at start)
    RegionTwo  public                    bogus A
    RegionTwo  internal                  real
    RegionTwo  admin                     bogus B

Only the right choice can succeed: a wrong one has its connections refused (only the
bogus endpoints refuse connections).
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ks_util import Run, make_form

from radswift.dev.keystone import KeystoneSwift

pytestmark = [pytest.mark.keystone, pytest.mark.slow]


@pytest.fixture
def dead_ports() -> Iterator[tuple[int, int]]:
    """Two ports bound but not listening: connecting is refused at once, and nobody else
    can take them while the test runs."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(2)]
    for sock in socks:
        sock.bind(("127.0.0.1", 0))
    yield socks[0].getsockname()[1], socks[1].getsockname()[1]
    for sock in socks:
        sock.close()


@pytest.fixture
def catalog(
    keystone_swift: KeystoneSwift,
    endpoints: Callable[..., str],
    dead_ports: tuple[int, int],
) -> dict[tuple[str, str], int | None]:
    """(region, interface) -> the bogus port it points at, or None for the real Swift."""
    bogus_a, bogus_b = dead_ports
    template = "http://127.0.0.1:{}/v1/AUTH_$(project_id)s"
    endpoints(template.format(bogus_a), interface="public", region="RegionTwo")
    endpoints(keystone_swift.object_store_url, interface="internal", region="RegionTwo")
    endpoints(template.format(bogus_b), interface="admin", region="RegionTwo")
    return {
        ("RegionOne", "public"): None,
        ("RegionOne", "admin"): None,
        ("RegionTwo", "public"): bogus_a,
        ("RegionTwo", "internal"): None,
        ("RegionTwo", "admin"): bogus_b,
    }


@pytest.mark.parametrize(
    ("region", "interface"),
    [
        ("RegionOne", "public"),
        ("RegionOne", "admin"),
        ("RegionTwo", "internal"),
        ("RegionTwo", "public"),
        ("RegionTwo", "admin"),
    ],
)
def test_the_endpoint_of_the_requested_region_and_interface_is_used(
    radswift: Run,
    keystone_swift: KeystoneSwift,
    catalog: dict[tuple[str, str], int | None],
    tmp_path: Path,
    region: str,
    interface: str,
) -> None:
    form = make_form("env-application-credential", keystone_swift, tmp_path)
    env = {**form.env, "OS_REGION_NAME": region, "OS_INTERFACE": interface}
    (tmp_path / "a.txt").write_text(f"{region} {interface}\n")
    key = f"ks-cat-{uuid.uuid4().hex[:8]}"
    result = radswift("cp", str(tmp_path / "a.txt"), f"swift://{key}/a.txt", env=env)
    bogus = catalog[(region, interface)]
    if bogus is None:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 69, result.stderr  # EX_UNAVAILABLE: StorageUnavailable
        said = f"cannot reach Swift at http://127.0.0.1:{bogus} (connection refused) after"
        assert said in result.stderr and "object-store endpoint of the Keystone" in result.stderr
        assert "Traceback" not in result.stderr


def test_the_region_and_interface_of_a_credentials_file_are_honoured(
    radswift: Run,
    keystone_swift: KeystoneSwift,
    catalog: dict[tuple[str, str], int | None],
    tmp_path: Path,
) -> None:
    creds = keystone_swift.write_app_credential_file(tmp_path / "app.cfg")
    text = creds.read_text().replace(
        "[AUTHORIZATION]\n", "[AUTHORIZATION]\nosRegionName = RegionTwo\nosInterface = internal\n"
    )
    creds.write_text(text)
    (tmp_path / "a.txt").write_text("from a file\n")
    key = f"ks-cat-{uuid.uuid4().hex[:8]}"
    result = radswift(
        "cp", str(tmp_path / "a.txt"), f"swift://{key}/a.txt", "--credentials", str(creds), env={}
    )
    assert result.returncode == 0, result.stderr


def test_a_region_without_an_object_store_is_a_configuration_error(
    radswift: Run, keystone_swift: KeystoneSwift, catalog: object, tmp_path: Path
) -> None:
    form = make_form("env-password-radiology-domains", keystone_swift, tmp_path)
    env = {**form.env, "OS_REGION_NAME": "RegionNowhere"}
    result = radswift("ls", f"swift://ks-cat-{uuid.uuid4().hex[:8]}/", env=env)
    assert result.returncode == 78, result.stderr  # EX_CONFIG: CredentialsError
    assert "RegionNowhere" in result.stderr
    assert "Traceback" not in result.stderr
