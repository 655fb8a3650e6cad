"""The local Swift's generated configuration: the proxy pipeline and its pluggable auth."""

from __future__ import annotations

import configparser
from pathlib import Path

from radswift.dev.swift.config import (
    NodeLayout,
    PipelineFilter,
    ProxyAuth,
    TempauthUser,
    backend_conf,
    proxy_conf,
    tempauth,
)

PORTS = {"proxy": 8080, "account": 6202, "container": 6201, "object": 6200}


def layout(memcached: str | None = "127.0.0.1:11211") -> NodeLayout:
    return NodeLayout(
        swift_dir=Path("/w/etc"),
        devices=Path("/w/data"),
        host="127.0.0.1",
        ports=PORTS,
        run_user="someone",
        memcached=memcached,
    )


def parse(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    return parser


def pipeline(conf: configparser.ConfigParser) -> list[str]:
    return conf["pipeline:main"]["pipeline"].split()


def test_tempauth_sits_between_tempurl_and_copy_with_fernet_tokens() -> None:
    conf = parse(proxy_conf(layout(), tempauth()))
    names = pipeline(conf)
    assert names[:5] == ["catch_errors", "gatekeeper", "healthcheck", "proxy-logging", "cache"]
    assert names[-2:] == ["proxy-logging", "proxy-server"]
    assert names.index("tempurl") < names.index("tempauth") < names.index("copy")
    assert names.index("tempauth") < names.index("slo") < names.index("dlo")
    section = conf["filter:tempauth"]
    assert section["user_test_tester"] == "testing .admin"
    assert section["user_test2_tester2"] == "testing2"
    assert section["active_fernet_key_id"] == "1"
    assert len(section["fernet_key_1"]) == 44  # urlsafe base64 of 32 bytes


def test_every_pipeline_name_has_a_section() -> None:
    conf = parse(proxy_conf(layout(), tempauth()))
    for name in pipeline(conf)[:-1]:
        assert f"filter:{name}" in conf, name
    assert conf["app:proxy-server"]["use"] == "egg:swift#proxy"


def test_without_memcached_the_cache_filter_is_left_out() -> None:
    conf = parse(proxy_conf(layout(memcached=None), tempauth()))
    assert "cache" not in pipeline(conf)
    assert "filter:cache" not in conf


def test_a_custom_auth_replaces_tempauth_in_place() -> None:
    auth = ProxyAuth(
        filters=(
            PipelineFilter(name="authtoken", options={"paste.filter_factory": "km:ff"}),
            PipelineFilter(name="keystoneauth", options={"use": "egg:swift#keystoneauth"}),
        ),
        proxy_options={"account_autocreate": "false"},
    )
    conf = parse(proxy_conf(layout(), auth))
    names = pipeline(conf)
    assert "tempauth" not in names
    assert names.index("tempurl") + 1 == names.index("authtoken")
    assert names.index("authtoken") + 1 == names.index("keystoneauth")
    assert names.index("keystoneauth") + 1 == names.index("copy")
    assert conf["filter:authtoken"]["paste.filter_factory"] == "km:ff"
    assert conf["app:proxy-server"]["account_autocreate"] == "false"


def test_each_tempauth_instance_gets_its_own_fernet_key() -> None:
    users = (TempauthUser(account="a", name="u", key="k", admin=True),)
    first, second = tempauth(users), tempauth(users)
    assert first.filters[0].options["fernet_key_1"] != second.filters[0].options["fernet_key_1"]


def test_backends_bind_loopback_without_mount_check() -> None:
    conf = parse(backend_conf(layout(), "object"))
    assert conf["DEFAULT"]["bind_ip"] == "127.0.0.1"
    assert conf["DEFAULT"]["bind_port"] == "6200"
    assert conf["DEFAULT"]["mount_check"] == "false"
    assert conf["DEFAULT"]["devices"] == "/w/data"
    assert "container-updater" in parse(backend_conf(layout(), "container"))
