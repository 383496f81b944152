"""Gateway TLS through the real HAProxy: misdirected requests (SNI vs Host), TLS termination
for TLSRoutes, client certificate validation. Real TLS (certificates of a test CA), real
backends on 127.0.0.x."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from ingress_ctl.haproxy import naming
from ingress_ctl.model.gateways import (
    ClientValidation,
    GatewayPort,
    ListenerCertificate,
    ListenerProtocol,
    SNIRoute,
)
from ingress_ctl.model.routing import CABundle, Mode
from ingress_ctl.translation.certificates import parse_pem
from tests.backends import Backend as StreamBackend
from tests.backends import running
from tests.certs import Issued, TestCA
from tests.conftest import free_port, short_tmp_dir
from tests.gateway_models import (
    GATEWAY,
    ROUTE,
    gateway_routing,
    https_port,
    match,
    service_backend,
    tcp_port,
)
from tests.test_gateway_haproxy import GatewayProxy, echo_backends, gateway_proxy
from tests.test_tls_haproxy import connect_tls, https_get

pytestmark = pytest.mark.haproxy

NAMES = ("v1", "v2", "v3")


@pytest.fixture(scope="module")
def tls_echoes() -> Iterator[dict[str, tuple[str, int]]]:
    yield from echo_backends(NAMES, 91)


@pytest.fixture
async def gateway(
    haproxy_bin: str, tls_echoes: dict[str, tuple[str, int]]
) -> AsyncIterator[GatewayProxy]:
    async for found in gateway_proxy(haproxy_bin, tls_echoes):
        yield found


def answer(port: int, *, sni: str, host: str) -> str | int:
    """The echo backend that answered a GET over TLS with this SNI name and Host, else the
    status."""
    response = https_get(port, sni=sni, host=host, target="/detect").response
    assert response is not None
    if response.status != 200:
        return response.status
    backend: str = json.loads(response.body)["backend"]
    return backend


# The conformance suite's HTTPRouteHTTPSListenerDetectMisdirectedRequests, as a table:
# (SNI name, Host, what answers).
MISDIRECTED = [
    ("example.org", "example.org", "v1"),
    ("example.org", "second-example.org", 421),
    ("example.org", "unknown-example.org", 404),
    ("second-example.org", "second-example.org", "v2"),
    ("second-example.org", "example.org", 421),
    ("second-example.org", "unknown-example.org", 421),
    ("third-example.wildcard.org", "third-example.wildcard.org", "v3"),
    ("third-example.wildcard.org", "fifth-example.wildcard.org", "v3"),
    ("third-example.wildcard.org", "a.b.wildcard.org", "v3"),
    ("third-example.wildcard.org", "fourth-example.wildcard.org", 421),
    ("third-example.wildcard.org", "second-example.org", 421),
    ("third-example.wildcard.org", "unknown-example.org", 421),
    ("fourth-example.wildcard.org", "fourth-example.wildcard.org", "v1"),
    ("fourth-example.wildcard.org", "fifth-example.wildcard.org", 421),
    ("unknown-example.org", "example.org", "v1"),
    ("unknown-example.org", "unknown-example.org", 404),
    ("EXAMPLE.org", "Example.ORG:443", "v1"),
]


async def test_a_request_whose_host_another_listener_serves_is_misdirected(
    gateway: GatewayProxy,
) -> None:
    ca = TestCA()
    issued = ca.issue("example.org", "second-example.org", "*.wildcard.org")
    certificate = parse_pem(issued.chain_pem, issued.key_pem)
    b = {name: gateway.backend(name) for name in NAMES}
    port = free_port()
    listeners = ("fourth-example.wildcard.org", "second-example.org", "*.wildcard.org", "")
    served = https_port(
        port,
        tuple((host, certificate) for host in listeners),
        match("fourth-example.wildcard.org", "/detect", b["v1"].name),
        match("second-example.org", "/detect", b["v2"].name),
        match("example.org", "/detect", b["v1"].name),
        match("*.wildcard.org", "/detect", b["v3"].name),
    ).model_copy(update={"listener_hosts": listeners})
    await gateway.apply(
        gateway_routing(served, backends=tuple(b.values()), certificates=(certificate,))
    )
    seen = [(sni, host, answer(port, sni=sni, host=host)) for sni, host, _ in MISDIRECTED]
    assert seen == MISDIRECTED


REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def _tls_context(issued: Issued, folder: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    (folder / "c.pem").write_bytes(issued.chain_pem)
    (folder / "k.pem").write_bytes(issued.key_pem)
    context.load_cert_chain(folder / "c.pem", folder / "k.pem")
    return context


async def test_tls_listeners_terminate_or_pass_through_by_sni_on_one_port(
    gateway: GatewayProxy,
) -> None:
    """A Terminate listener's names are decrypted with its certificate and reach a plain
    backend; a Passthrough listener's names on the same port reach a TLS backend as they are."""
    ca = TestCA()
    terminated = ca.issue("tls.example.com", "*.example.net")
    certificate = parse_pem(terminated.chain_pem, terminated.key_pem)
    with ExitStack() as stack:
        folder = Path(stack.enter_context(short_tmp_dir()))
        secure = stack.enter_context(
            running(
                StreamBackend(
                    "secure",
                    "127.0.0.95",
                    free_port("127.0.0.95"),
                    tls=_tls_context(ca.issue("abc.example.com"), folder),
                )
            )
        )
        plain = stack.enter_context(
            running(StreamBackend("plain", "127.0.0.96", free_port("127.0.0.96")))
        )
        streams = {
            found.name: service_backend(found.name, (found.host, found.port), mode=Mode.TCP)
            for found in (secure, plain)
        }
        port = free_port()
        served = GatewayPort(
            gateway=GATEWAY,
            address=None,
            port=port,
            protocol=ListenerProtocol.TLS,
            certificates=(
                ListenerCertificate(host="tls.example.com", file=certificate.file),
                ListenerCertificate(host="*.example.net", file=certificate.file),
            ),
            sni_routes=(
                SNIRoute(
                    host="tls.example.com",
                    backend=streams["plain"].name,
                    source=ROUTE,
                    terminate=True,
                ),
                SNIRoute(host="abc.example.com", backend=streams["secure"].name, source=ROUTE),
                SNIRoute(
                    host="*.example.net",
                    backend=streams["plain"].name,
                    source=ROUTE,
                    terminate=True,
                ),
            ),
        )
        await gateway.apply(
            gateway_routing(served, backends=tuple(streams.values()), certificates=(certificate,))
        )
        handshake, raw = connect_tls(
            port, sni="tls.example.com", context=ca.client_context(), request=REQUEST
        )
        assert handshake.subject == "CN=tls.example.com"
        assert b"X-Backend: plain" in raw
        handshake, raw = connect_tls(port, sni="a.b.example.net", request=REQUEST)
        assert handshake.subject == "CN=tls.example.com"
        assert b"X-Backend: plain" in raw
        handshake, raw = connect_tls(port, sni="abc.example.com", request=REQUEST)
        assert handshake.subject == "CN=abc.example.com"  # the backend's own
        assert b"X-Backend: secure" in raw
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            connect_tls(port, sni="other.example.com", request=REQUEST)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as stream:
            stream.sendall(b"ping")  # not TLS at all
            assert stream.recv(100) == b""
        # a reload (one more port): the terminating frontend's socket is handed over
        outcome = await gateway.apply(
            gateway_routing(
                served,
                tcp_port(free_port(), streams["plain"].name),
                backends=tuple(streams.values()),
                certificates=(certificate,),
            )
        )
        assert outcome.action == "reload", outcome
        _, raw = connect_tls(port, sni="tls.example.com", request=REQUEST)
        assert b"X-Backend: plain" in raw


def _client(issued: Issued | None, folder: Path) -> ssl.SSLContext:
    """A client context that trusts anything and presents `issued` (if any)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if issued is not None:
        (folder / "client.pem").write_bytes(issued.chain_pem)
        (folder / "client-key.pem").write_bytes(issued.key_pem)
        context.load_cert_chain(folder / "client.pem", folder / "client-key.pem")
    return context


def served(port: int, context: ssl.SSLContext) -> str | None:
    """The echo backend that answered, None when the handshake (or the connection) failed."""
    try:
        response = https_get(port, sni="example.org", context=context).response
    except (ssl.SSLError, OSError, http.client.HTTPException):
        return None
    assert response is not None and response.status == 200, response
    backend: str = json.loads(response.body)["backend"]
    return backend


async def test_client_certificates_are_checked_as_the_port_says(gateway: GatewayProxy) -> None:
    """AllowValidOnly serves only clients with a certificate of the port's CA; the
    AllowInsecureFallback port serves every client."""
    server, trusted, other = TestCA("server CA"), TestCA("client CA"), TestCA("other CA")
    issued = server.issue("example.org")
    certificate = parse_pem(issued.chain_pem, issued.key_pem)
    b = gateway.backend("v1")
    bundle = CABundle(file=naming.certificate_file(trusted.pem), pem=trusted.pem.decode())
    strict, lenient = free_port(), free_port()
    ports = tuple(
        https_port(number, (("example.org", certificate),), match("", "/", b.name)).model_copy(
            update={"client_validation": ClientValidation(ca_file=bundle.file, optional=optional)}
        )
        for number, optional in ((strict, False), (lenient, True))
    )
    routing = gateway_routing(*ports, backends=(b,), certificates=(certificate,))
    await gateway.apply(routing.model_copy(update={"ca_bundles": (bundle,)}))
    with short_tmp_dir() as folder:
        (folder / "valid").mkdir()
        (folder / "other").mkdir()
        clients = {
            "valid": _client(trusted.issue("client"), folder / "valid"),
            "other CA": _client(other.issue("client"), folder / "other"),
            "none": _client(None, folder),
        }
        seen = {
            (name, port): served(port, context)
            for name, context in clients.items()
            for port in (strict, lenient)
        }
    assert seen == {
        ("valid", strict): "v1",
        ("other CA", strict): None,
        ("none", strict): None,
        ("valid", lenient): "v1",
        ("other CA", lenient): "v1",
        ("none", lenient): "v1",
    }
