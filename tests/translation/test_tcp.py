"""TCP services from the tcp-services ConfigMap: entries, PROXY fields, TLS, problems."""

from __future__ import annotations

import pytest

from ingress_ctl.model.routing import Mode, ProxyProtocol, TCPService
from ingress_ctl.model.settings import Settings
from ingress_ctl.translation import Translation
from ingress_ctl.translation.certificates import parse_pem, self_signed
from ingress_ctl.translation.tcp import parse_entry
from tests.certs import TestCA
from tests.manifests import (
    Manifest,
    configmap,
    endpoint,
    endpoint_slice,
    run,
    service,
    service_port,
    tls_secret,
)

SETTINGS = Settings(tcp_services_configmap="ingress/tcp", http_port=80, https_port=443)
FALLBACK = self_signed()
DB = (
    service("db", service_port(5432, "sql"), namespace="data"),
    endpoint_slice("db-1", "db", endpoint("10.0.0.7"), ports=(("sql", 5432),), namespace="data"),
)


def translate(data: dict[str, str], *extra: Manifest) -> Translation:
    return run(
        *DB,
        *extra,
        configmap("tcp", data, namespace="ingress"),
        settings=SETTINGS,
        fallback_certificate=FALLBACK,
    )


@pytest.mark.parametrize(
    ("value", "decode", "encode"),
    [
        ("data/db:5432", False, False),
        ("data/db:sql", False, False),
        ("data/db:5432:PROXY", True, False),
        ("data/db:5432::PROXY", False, True),
        ("data/db:5432:PROXY:PROXY", True, True),
        (" data/db:5432: ", False, False),
    ],
)
def test_entries_follow_the_ingress_nginx_convention(
    value: str, decode: bool, encode: bool
) -> None:
    entry = parse_entry(value)
    assert (str(entry.service), entry.decode, entry.encode) == (
        f"data/db:{value.split(':')[1]}",
        decode,
        encode,
    )


@pytest.mark.parametrize(
    "value",
    ["db:5432", "data/db", "data/db:5432:proxy", "data/db:5432:PROXY:PROXY:PROXY", "data/DB:1",
     "data/db:0", "data/db:70000", "data/db:5432 x", "data/db:5432\n    lua-load /x"],
)  # fmt: skip
def test_bad_entries_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        parse_entry(value)


def test_each_entry_is_a_listener_with_its_own_tcp_backend() -> None:
    translation = translate({"5432": "data/db:sql:PROXY:PROXY", "6432": "data/db:5432"})
    assert translation.problems == ()
    routing = translation.routing
    assert routing.tcp_services == (
        TCPService(port=5432, backend="tcp_5432", accept_proxy=True),
        TCPService(port=6432, backend="tcp_6432"),
    )
    for name, proxy in (("tcp_5432", ProxyProtocol.V1), ("tcp_6432", None)):
        backend = routing.backend(name)
        assert (backend.mode, backend.send_proxy) == (Mode.TCP, proxy)
        assert [(s.address, s.port) for s in backend.servers] == [("10.0.0.7", 5432)]


def test_the_service_annotation_chooses_the_proxy_version() -> None:
    annotated = service(
        "v2", service_port(80), annotations={"ingress-ctl.io/send-proxy-protocol": "v2"}
    )
    translation = translate({"7000": "default/v2:80::PROXY", "7001": "default/v2:80"}, annotated)
    routing = translation.routing
    assert routing.backend("tcp_7000").send_proxy is ProxyProtocol.V2
    assert routing.backend("tcp_7001").send_proxy is ProxyProtocol.V2


def test_bad_entries_are_problems_on_their_key_and_the_rest_is_served() -> None:
    translation = translate(
        {
            "5432": "data/db:sql",
            "80": "data/db:sql",
            "443": "data/db:sql",
            "10254": "data/db:sql",
            "0": "data/db:sql",
            "99999": "data/db:sql",
            "db": "data/db:sql",
            "7000": "nonsense",
            "7001": "data/missing:80",
            "8000.tls": "data/db-tls",
        }
    )
    assert [s.port for s in translation.routing.tcp_services] == [5432, 7001]
    assert [(p.field, p.reason) for p in translation.problems] == [
        ("data.0", "the key must be a port number (1-65535); entry ignored"),
        ("data.10254", "port 10254 is the controller's --status-port; entry ignored"),
        ("data.443", "port 443 is the controller's --https-port; entry ignored"),
        ("data.7000", "'nonsense' is not <namespace>/<service>:<port>[:PROXY|:][:PROXY] "
         "(3rd field: the listener accepts PROXY; 4th: PROXY is sent to the backend); "
         "entry ignored"),
        ("data.7001", "Service data/missing not found; connections are closed"),
        ("data.80", "port 80 is the controller's --http-port; entry ignored"),
        ("data.8000.tls", "no TCP service on this port; ignored"),
        ("data.99999", "the key must be a port number (1-65535); entry ignored"),
        ("data.db", "the key must be a port number (1-65535); entry ignored"),
    ]  # fmt: skip
    assert {str(p.source) for p in translation.problems} == {"ConfigMap ingress/tcp"}


def test_a_tls_key_terminates_tls_on_the_listener() -> None:
    issued = TestCA().issue("db.example.com")
    translation = translate(
        {
            "6432": "data/db:5432",
            "6432.tls": "data/db-tls",
            "6433": "data/db:5432",
            "6433.tls": "data/missing",
            "6434": "data/db:5432",
            "6434.tls": "not a secret name",
        },
        tls_secret("db-tls", issued.chain_pem, issued.key_pem, namespace="data"),
    )
    certificate = parse_pem(issued.chain_pem, issued.key_pem).file
    assert [(s.port, s.certificate) for s in translation.routing.tcp_services] == [
        (6432, certificate),
        (6433, FALLBACK.file),
        (6434, FALLBACK.file),
    ]
    assert {c.file for c in translation.routing.certificates} == {certificate, FALLBACK.file}
    assert [p.field for p in translation.problems] == ["data.6433.tls", "data.6434.tls"]


def test_without_a_default_certificate_a_broken_tls_listener_is_not_opened() -> None:
    translation = run(
        *DB,
        configmap("tcp", {"6433": "data/db:5432", "6433.tls": "data/missing"}, namespace="ingress"),
        settings=SETTINGS,
    )
    assert translation.routing.tcp_services == ()
    assert [p.reason for p in translation.problems] == [
        "Secret data/missing: not found; the default certificate is served",
        "there is no default certificate: the listener is not opened",
    ]


def test_a_missing_configmap_is_a_warning() -> None:
    translation = run(settings=SETTINGS)
    assert [(str(p.source), p.severity) for p in translation.problems] == [
        ("ConfigMap ingress/tcp", "warning")
    ]
    assert translation.routing.tcp_services == ()
