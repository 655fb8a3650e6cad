"""What radswift says when Swift (or its auth) cannot be reached: once, plainly, no secret.

Every message names what was tried as scheme://host:port (never a path, a query or a
credential), the cause in plain words, how often and how long it was tried, and the
setting to check. The servers here are real sockets on loopback: a closed port, one
that accepts and hangs up, one that speaks plain HTTP to a TLS client, and a fake
Keystone (clearly not Keystone) whose catalog points at a dead object-store endpoint.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from fakes.keystone import FakeKeystone, endpoint, password_creds
from radswift.errors import StorageUnavailable
from radswift.swift.client import SwiftClient
from radswift.swift.credentials import SwiftCredentials, credentials_from_environ
from radswift.swift.http import diagnose, origin_of
from radswift.swift.retry import RetryPolicy

PASSWORD = "Sekr1t-pw-7731"
TOKEN = "tok-Sekr1t-9911"
QUICK = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02)
KNOB = "(--retries or RADSWIFT_RETRIES)"


@contextmanager
def raw_server(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    """A loopback TCP server calling `handle` on every connection; yields its port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.05)  # so that the loop notices `stop` (close() does not wake it)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(2)
            with conn:
                handle(conn)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def read_request(conn: socket.socket) -> None:
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
    except OSError:
        return


def hang_up(conn: socket.socket) -> None:
    """Accept, read the request, close without a word."""
    read_request(conn)


def answer_plain_http(conn: socket.socket) -> None:
    """Whatever arrives (a TLS hello, say), answer in plain HTTP."""
    try:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    except OSError:
        return


def v1_creds(auth_url: str) -> SwiftCredentials:
    creds = credentials_from_environ({"ST_AUTH": auth_url, "ST_USER": "t:u", "ST_KEY": PASSWORD})
    assert creds is not None
    return creds


def preauth_creds(storage_url: str) -> SwiftCredentials:
    creds = credentials_from_environ({"OS_STORAGE_URL": storage_url, "OS_AUTH_TOKEN": TOKEN})
    assert creds is not None
    return creds


def failure_of(creds: SwiftCredentials, policy: RetryPolicy = QUICK) -> StorageUnavailable:
    """The error a HEAD of a container ends with (it must fail)."""
    client = SwiftClient.from_credentials(creds, workers=1, retry=policy)
    try:
        with pytest.raises(StorageUnavailable) as caught:
            client.head_container("k1")
    finally:
        client.close()
    error = caught.value
    assert error.__cause__ is None and error.__suppress_context__  # no traceback chain
    assert error.exit_code == 69 and error.http_status == 503
    assert error.reason == "StorageUnavailable"  # what pfioh's JSON error says
    return error


def assert_no_secret(message: str) -> None:
    assert PASSWORD not in message and TOKEN not in message


def test_a_closed_auth_port_names_host_port_cause_attempts_and_setting(dead_port: int) -> None:
    port = dead_port
    error = failure_of(v1_creds(f"http://127.0.0.1:{port}/auth/v1.0"))
    assert error.message.startswith(
        f"cannot reach Swift auth at http://127.0.0.1:{port} (connection refused) after 2 attempts "
    )
    assert error.message.endswith(f" {KNOB}; check ST_AUTH")
    assert error.message.count("cannot reach") == 1 and "failed" not in error.message
    assert "/auth/v1.0" not in error.message
    assert_no_secret(error.message)


def test_one_attempt_fails_at_once_and_says_so(dead_port: int) -> None:
    port = dead_port
    error = failure_of(v1_creds(f"http://127.0.0.1:{port}/auth/v1.0"), RetryPolicy(max_attempts=1))
    assert f"(connection refused) after 1 attempt {KNOB}; check ST_AUTH" in error.message


def test_a_closed_storage_port_names_the_host_not_the_account_path(dead_port: int) -> None:
    port = dead_port
    error = failure_of(preauth_creds(f"http://127.0.0.1:{port}/v1/AUTH_radiology?sig=abc"))
    assert error.message.startswith(
        f"cannot reach Swift at http://127.0.0.1:{port} (connection refused) after 2 attempts"
    )
    assert error.message.endswith("; check OS_STORAGE_URL")
    assert "AUTH_radiology" not in error.message and "sig=" not in error.message
    assert "k1" not in error.message  # the request does not matter when nothing answers
    assert_no_secret(error.message)


def test_a_server_that_hangs_up_is_a_lost_connection() -> None:
    with raw_server(hang_up) as port:
        error = failure_of(preauth_creds(f"http://127.0.0.1:{port}/v1/AUTH_x"))
    assert error.message.startswith(
        f"lost the connection to Swift at http://127.0.0.1:{port}"
        " (closed by the server without a response) after 2 attempts"
    )
    assert_no_secret(error.message)


def test_tls_to_a_plain_http_port_is_a_tls_error() -> None:
    with raw_server(answer_plain_http) as port:
        error = failure_of(v1_creds(f"https://127.0.0.1:{port}/auth/v1.0"))
    assert error.message.startswith(f"cannot reach Swift auth at https://127.0.0.1:{port} (TLS ")
    assert "plain http on this port?" in error.message
    assert_no_secret(error.message)


def test_a_dead_catalog_endpoint_says_where_the_storage_url_came_from(dead_port: int) -> None:
    dead = dead_port
    storage = endpoint("R1", "public", f"http://127.0.0.1:{dead}/v1/AUTH_p1")
    with FakeKeystone(secret=PASSWORD, endpoints=[storage], token_prefix=TOKEN) as keystone:
        kport = keystone.server_address[1]
        error = failure_of(password_creds(keystone.url, PASSWORD))
    assert error.message.startswith(
        f"cannot reach Swift at http://127.0.0.1:{dead} (connection refused) after 2 attempts"
    )
    catalog = f"public object-store endpoint of the Keystone catalog at http://127.0.0.1:{kport}"
    assert catalog in error.message
    assert "OS_INTERFACE" in error.message
    assert_no_secret(error.message)


def test_an_unreachable_keystone_names_os_auth_url(dead_port: int) -> None:
    port = dead_port
    error = failure_of(password_creds(f"http://127.0.0.1:{port}/v3", PASSWORD))
    assert error.message.startswith(
        f"cannot reach Keystone at http://127.0.0.1:{port} (connection refused) after 2 attempts"
    )
    assert error.message.endswith("; check OS_AUTH_URL")
    assert_no_secret(error.message)


def test_dns_failures_are_said_in_plain_words() -> None:
    lookup = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    assert diagnose(lookup).words == "DNS lookup failed: name or service not known"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://127.0.0.1:8080/auth/v1.0", "http://127.0.0.1:8080"),
        ("https://swift.example.org/v1/AUTH_x?temp_url_sig=s", "https://swift.example.org:443"),
        ("http://user:pw@host/v1", "http://host:80"),
        ("http://[::1]:8080/v1", "http://[::1]:8080"),
    ],
)
def test_an_origin_is_scheme_host_and_port_only(url: str, origin: str) -> None:
    assert origin_of(url) == origin
