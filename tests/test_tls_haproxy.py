"""TLS, passthrough, TCP services and the PROXY protocol through the real HAProxy.

Each test runs the controller's own path (manifests -> translate -> render ->
plan -> apply) against a real HAProxy on 127.0.0.1, with real TLS handshakes
from Python's `ssl` module and tiny in-process backends (tests/backends.py).
"""

from __future__ import annotations

import http.client
import io
import json
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from ipaddress import IPv4Address
from pathlib import Path
from time import perf_counter
from typing import Any

import pytest
from cryptography import x509

from ingress_ctl.haproxy.applying import Applier, Outcome
from ingress_ctl.haproxy.process import HAProxyProcess
from ingress_ctl.haproxy.rendering import render_state
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.state import ControllerStatus
from ingress_ctl.translation.certificates import parse_pem, self_signed
from tests.backends import Backend, ProxyHeader, running
from tests.certs import Issued, TestCA
from tests.conftest import free_port, short_tmp_dir
from tests.http import Response, get
from tests.manifests import (
    Manifest,
    configmap,
    endpoint,
    endpoint_slice,
    ingress,
    path,
    rule,
    run,
    service,
    service_port,
    tls,
    tls_secret,
)

pytestmark = pytest.mark.haproxy

CA = TestCA()
FALLBACK = self_signed()
PASSTHROUGH = {"ingress-ctl.io/ssl-passthrough": "true"}


class Proxy:
    """The controller's pipeline and a real HAProxy with HTTP and HTTPS on free ports."""

    def __init__(self, haproxy_bin: str, state_dir: Path) -> None:
        self.http_port, self.https_port = free_port(), free_port()
        self.state_dir = state_dir
        self.process = HAProxyProcess(binary=haproxy_bin, state_dir=state_dir)
        self.applier = Applier(
            process=self.process,
            state_dir=state_dir,
            status=ControllerStatus(mode="files"),
            metrics=Metrics(),
        )
        self.settings = Settings(
            bind_address=IPv4Address("127.0.0.1"),
            http_port=self.http_port,
            https_port=self.https_port,
            configmap="ingress/config",
            tcp_services_configmap="ingress/tcp",
        )

    async def apply(self, *manifests: Manifest, errors: tuple[str, ...] = ()) -> Outcome:
        """Apply these manifests; `errors` are the fields expected to have an error."""
        translation = run(*manifests, settings=self.settings, fallback_certificate=FALLBACK)
        found = tuple(p.field for p in translation.problems if p.severity == "error")
        assert found == errors, translation.problems
        current = self.applier.current
        rendered = render_state(
            translation.routing,
            settings=self.settings,
            previous=current.layout if current is not None else None,
        )
        outcome = await self.applier.apply(rendered)
        assert outcome.action in {"start", "reload", "runtime", "none"}, outcome
        return outcome

    async def reloads(self) -> int:
        return (await self.process.status()).reloads


@pytest.fixture
async def proxy(haproxy_bin: str) -> AsyncIterator[Proxy]:
    with short_tmp_dir() as state_dir:
        found = Proxy(haproxy_bin, state_dir)
        try:
            yield found
        finally:
            await found.process.stop()


@pytest.fixture
def backends() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def start(stack: ExitStack, name: str, host: str, tls: ssl.SSLContext | None = None) -> Backend:
    return stack.enter_context(running(Backend(name, host, free_port(host), tls=tls)))


def backend_service(found: Backend, **annotations: str) -> tuple[Manifest, Manifest]:
    """Service `found.name` (port 80) and its EndpointSlice: the backend's address."""
    return (
        service(found.name, service_port(80, target=found.port), annotations=annotations or None),
        endpoint_slice(
            f"{found.name}-1", found.name, endpoint(found.host), ports=((None, found.port),)
        ),
    )


def secret(name: str, issued: Issued) -> Manifest:
    return tls_secret(name, issued.chain_pem, issued.key_pem)


def config(**data: str) -> Manifest:
    return configmap("config", data, namespace="ingress")


def tcp_services(**data: str) -> Manifest:
    return configmap(
        "tcp", {key.replace("_", "."): value for key, value in data.items()}, namespace="ingress"
    )


@dataclass(frozen=True)
class Handshake:
    """What a TLS client saw: the peer's subject and protocol, and an HTTP answer if asked."""

    subject: str
    serial: int
    alpn: str | None
    response: Response | None = None


def connect_tls(
    port: int,
    *,
    sni: str | None,
    context: ssl.SSLContext | None = None,
    alpn: tuple[str, ...] = ("http/1.1",),
    request: bytes | None = None,
) -> tuple[Handshake, bytes]:
    """A TLS connection to 127.0.0.1:port with this SNI name; sends `request`, reads to EOF."""
    if context is None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(list(alpn))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=sni) as stream,
    ):
        der = stream.getpeercert(binary_form=True)
        assert der is not None
        peer = x509.load_der_x509_certificate(der)
        received = b""
        if request is not None:
            stream.sendall(request)
            while chunk := stream.recv(65536):
                received += chunk
        subject = peer.subject.rfc4514_string()
        return Handshake(subject, peer.serial_number, stream.selected_alpn_protocol()), received


def https_get(
    port: int,
    *,
    sni: str | None,
    host: str | None = None,
    target: str = "/",
    context: ssl.SSLContext | None = None,
) -> Handshake:
    """GET target over TLS with this SNI name and Host header (default: the SNI name)."""
    request = f"GET {target} HTTP/1.1\r\nHost: {host or sni}\r\nConnection: close\r\n\r\n"
    handshake, raw = connect_tls(port, sni=sni, context=context, request=request.encode())
    response = http.client.HTTPResponse(_Replay(raw))  # type: ignore[arg-type]
    response.begin()
    headers = {name.lower(): value for name, value in response.getheaders()}
    found = Response(status=response.status, headers=headers, body=response.read())
    return replace(handshake, response=found)


class _Replay:
    """Bytes already read, as the socket http.client.HTTPResponse wants."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def makefile(self, mode: str) -> io.BytesIO:
        return io.BytesIO(self._data)


def seen(response: Response | None) -> dict[str, Any]:
    """The JSON a tests/backends.py backend answered."""
    assert response is not None and response.status == 200, response
    found: dict[str, Any] = json.loads(response.body)
    return found


# --- TLS termination by SNI ---------------------------------------------------------------


async def test_the_sni_name_selects_the_certificate(proxy: Proxy, backends: ExitStack) -> None:
    web = start(backends, "web", "127.0.0.2")
    own, wildcard = CA.issue("a.example.com"), CA.issue("*.example.com")
    await proxy.apply(
        *backend_service(web),
        secret("own", own),
        secret("wild", wildcard),
        tls_secret("broken", b"garbage", own.key_pem),
        ingress(
            "site",
            rule("a.example.com", path("/", "web")),
            rule("b.example.com", path("/", "web")),
            rule("c.example.org", path("/", "web")),
            tls=[
                tls("own", "a.example.com"),
                tls("wild", "*.example.com"),
                tls("broken", "c.example.org"),
            ],
        ),
        errors=("spec.tls[2].secretName",),
    )
    port = proxy.https_port
    verified = https_get(port, sni="a.example.com", context=CA.client_context(), target="/x")
    assert verified.subject == "CN=a.example.com"
    assert seen(verified.response)["request"] == "GET /x HTTP/1.1"
    assert https_get(port, sni="b.example.com", context=CA.client_context()).subject == (
        "CN=*.example.com"
    )
    assert connect_tls(port, sni="c.example.org")[0].subject == FALLBACK.subject  # bad Secret
    assert connect_tls(port, sni="unknown.test")[0].subject == FALLBACK.subject
    assert connect_tls(port, sni=None)[0].subject == FALLBACK.subject
    assert connect_tls(port, sni="a.example.com", alpn=("h2", "http/1.1"))[0].alpn == "h2"


async def test_the_host_header_selects_the_route_and_the_sni_name_only_the_certificate(
    proxy: Proxy, backends: ExitStack
) -> None:
    web, api = start(backends, "web", "127.0.0.2"), start(backends, "api", "127.0.0.3")
    own = CA.issue("a.example.com")
    await proxy.apply(
        *backend_service(web),
        *backend_service(api),
        secret("own", own),
        ingress(
            "site",
            rule("a.example.com", path("/", "web")),
            rule("api.example.com", path("/", "api")),
            tls=[tls("own", "a.example.com")],
        ),
    )
    found = https_get(proxy.https_port, sni="a.example.com", host="api.example.com")
    assert found.subject == "CN=a.example.com"
    assert seen(found.response)["backend"] == "api"


async def test_redirects_hsts_and_forwarded_headers(proxy: Proxy, backends: ExitStack) -> None:
    web = start(backends, "web", "127.0.0.2")
    own = CA.issue("a.example.com", "b.example.com")
    manifests = (
        *backend_service(web),
        secret("own", own),
        ingress("site", rule("a.example.com", path("/", "web")), tls=[tls("own", "a.example.com")]),
        ingress(
            "plain",
            rule("b.example.com", path("/", "web")),
            tls=[tls("own", "b.example.com")],
            annotations={"ingress-ctl.io/ssl-redirect": "false", "ingress-ctl.io/hsts": "false"},
        ),
    )
    await proxy.apply(*manifests)

    redirected = get(proxy.http_port, "/shop?q=1", host="A.example.com:8080")
    assert redirected.status == 308
    assert redirected.headers["location"] == f"https://a.example.com:{proxy.https_port}/shop?q=1"
    assert "strict-transport-security" not in redirected.headers

    secure = https_get(proxy.https_port, sni="a.example.com").response
    assert secure is not None
    assert secure.headers["strict-transport-security"] == "max-age=31536000;includeSubDomains"
    headers = seen(secure)["headers"]
    assert headers["x-forwarded-proto"] == ["https"]
    assert headers["x-forwarded-port"] == [str(proxy.https_port)]
    assert headers["x-forwarded-host"] == ["a.example.com"]
    assert headers["x-forwarded-for"] == ["127.0.0.1"]

    plain = get(proxy.http_port, "/", host="b.example.com")
    assert plain.status == 200 and "strict-transport-security" not in plain.headers
    b_secure = https_get(proxy.https_port, sni="b.example.com").response
    assert b_secure is not None and "strict-transport-security" not in b_secure.headers

    spoofed = {
        "X-Forwarded-For": "6.6.6.6",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil",
    }
    untrusted = seen(_get_with(proxy.http_port, "b.example.com", spoofed))["headers"]
    assert untrusted["x-forwarded-for"] == ["127.0.0.1"]
    assert (untrusted["x-forwarded-proto"], untrusted["x-forwarded-host"]) == (
        ["http"],
        ["b.example.com"],
    )
    assert _get_with(proxy.http_port, "a.example.com", spoofed).status == 308

    # The first trusted proxy turns on the conditional X-Forwarded-* rules (a reload);
    # other changes of the list are map changes (runtime).
    outcome = await proxy.apply(*manifests, config(**{"trusted-proxy-cidrs": "10.0.0.0/8"}))
    assert outcome.action == "reload"
    assert _get_with(proxy.http_port, "a.example.com", spoofed).status == 308
    reloads = await proxy.reloads()
    outcome = await proxy.apply(*manifests, config(**{"trusted-proxy-cidrs": "127.0.0.0/8"}))
    assert outcome.action == "runtime" and await proxy.reloads() == reloads
    trusted = seen(_get_with(proxy.http_port, "b.example.com", spoofed))["headers"]
    assert trusted["x-forwarded-for"] == ["6.6.6.6", "127.0.0.1"]  # the chain, two lines
    assert (trusted["x-forwarded-proto"], trusted["x-forwarded-host"]) == (["https"], ["evil"])
    assert _get_with(proxy.http_port, "a.example.com", spoofed).status == 200  # TLS upstream


def _get_with(port: int, host: str, headers: dict[str, str]) -> Response:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/", headers={"Host": host, **headers})
        answer = connection.getresponse()
        found = {name.lower(): value for name, value in answer.getheaders()}
        return Response(status=answer.status, headers=found, body=answer.read())
    finally:
        connection.close()


# --- Source IP: the PROXY protocol in and out --------------------------------------------


async def test_proxy_protocol_from_a_load_balancer_and_to_a_backend(
    proxy: Proxy, backends: ExitStack
) -> None:
    web = start(backends, "web", "127.0.0.2")
    await proxy.apply(
        *backend_service(web, **{"ingress-ctl.io/send-proxy-protocol": "v2"}),
        ingress("site", rule("a.example.com", path("/", "web"))),
        config(**{"use-proxy-protocol": "true"}),
    )
    with socket.create_connection(("127.0.0.1", proxy.http_port), timeout=5) as client:
        client.sendall(
            f"PROXY TCP4 192.0.2.7 127.0.0.1 40000 {proxy.http_port}\r\n".encode()
            + b"GET / HTTP/1.1\r\nHost: a.example.com\r\nConnection: close\r\n\r\n"
        )
        raw = b""
        while chunk := client.recv(65536):
            raw += chunk
    body = json.loads(raw.split(b"\r\n\r\n", 1)[1])
    assert body["headers"]["x-forwarded-for"] == ["192.0.2.7"]
    assert body["proxy"] == ProxyHeader(2, "192.0.2.7", 40000, proxy.http_port).__dict__


# --- SSL passthrough next to termination --------------------------------------------------


async def test_passthrough_and_termination_share_the_https_port(
    proxy: Proxy, backends: ExitStack
) -> None:
    behind = CA.issue("secure.example.com")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*_files(proxy.state_dir, behind))
    vault = start(backends, "vault", "127.0.0.4", tls=context)
    web = start(backends, "web", "127.0.0.2")
    own = CA.issue("a.example.com")
    await proxy.apply(
        *backend_service(vault, **{"ingress-ctl.io/send-proxy-protocol": "v2"}),
        *backend_service(web),
        secret("own", own),
        ingress(
            "vault",
            rule("secure.example.com", path("/", "vault")),
            rule("*.example.com", path("/", "vault")),
            annotations=PASSTHROUGH,
        ),
        ingress("site", rule("a.example.com", path("/", "web")), tls=[tls("own", "a.example.com")]),
    )
    passed, echoed = connect_tls(
        proxy.https_port, sni="secure.example.com", context=CA.client_context(), request=b"hello"
    )
    assert passed.subject == "CN=secure.example.com"  # the backend's own certificate
    assert echoed == b"vault:hello"
    assert vault.proxy_headers[-1] is not None and vault.proxy_headers[-1].source == "127.0.0.1"

    assert connect_tls(proxy.https_port, sni="x.example.com", request=b"hi")[1] == b"vault:hi"
    # a.example.com is terminated: the passthrough wildcard does not catch it
    terminated = https_get(proxy.https_port, sni="a.example.com", context=CA.client_context())
    assert terminated.subject == "CN=a.example.com"
    assert seen(terminated.response)["headers"]["x-forwarded-for"] == ["127.0.0.1"]
    assert connect_tls(proxy.https_port, sni="other.test")[0].subject == FALLBACK.subject


def _files(directory: Path, issued: Issued) -> tuple[str, str]:
    chain, key = directory / "backend.crt", directory / "backend.key"
    chain.write_bytes(issued.chain_pem)
    key.write_bytes(issued.key_pem)
    return str(chain), str(key)


# --- TCP services -------------------------------------------------------------------------


async def test_tcp_services_round_trip_with_proxy_protocol_and_tls(
    proxy: Proxy, backends: ExitStack
) -> None:
    db = start(backends, "db", "127.0.0.5")
    plain, chained, secured = free_port(), free_port(), free_port()
    issued = CA.issue("db.example.com")
    await proxy.apply(
        *backend_service(db),
        secret("db-tls", issued),
        tcp_services(
            **{
                str(plain): "default/db:80",
                str(chained): "default/db:80:PROXY:PROXY",
                str(secured): "default/db:80",
                f"{secured}_tls": "default/db-tls",
            }
        ),
    )
    with socket.create_connection(("127.0.0.1", plain), timeout=5) as client:
        client.sendall(b"ping")
        assert client.recv(100) == b"db:ping"
    assert db.proxy_headers[-1] is None

    with socket.create_connection(("127.0.0.1", chained), timeout=5) as client:
        client.sendall(f"PROXY TCP4 198.51.100.9 127.0.0.1 5555 {chained}\r\nping".encode())
        assert client.recv(100) == b"db:ping"
    assert db.proxy_headers[-1] == ProxyHeader(1, "198.51.100.9", 5555, chained)

    handshake, echoed = connect_tls(
        secured, sni="db.example.com", context=CA.client_context(), request=b"ping"
    )
    assert (handshake.subject, echoed) == ("CN=db.example.com", b"db:ping")


# --- Certificates change through the runtime API ------------------------------------------


async def test_certificate_changes_are_applied_without_a_reload(
    proxy: Proxy, backends: ExitStack
) -> None:
    web = start(backends, "web", "127.0.0.2")
    first, renewed, other = (
        CA.issue("a.example.com"),
        CA.issue("a.example.com"),
        CA.issue("b.example.com"),
    )

    def cluster(*secrets: Manifest, hosts: tuple[str, ...] = ("a.example.com",)) -> list[Manifest]:
        rules = [rule(host, path("/", "web")) for host in hosts]
        entries = [tls(s["metadata"]["name"], h) for s, h in zip(secrets, hosts, strict=True)]
        return [*backend_service(web), *secrets, ingress("site", *rules, tls=entries)]

    await proxy.apply(*cluster(secret("a", first)))
    reloads = await proxy.reloads()

    started = perf_counter()
    outcome = await proxy.apply(*cluster(secret("a", renewed)))
    elapsed_ms = (perf_counter() - started) * 1000
    assert outcome.action == "runtime", outcome
    assert _serial(proxy.https_port, "a.example.com") == renewed.leaf.serial_number
    print(f"\ncertificate renewed through the runtime API in {elapsed_ms:.1f} ms")

    both = cluster(
        secret("a", renewed), secret("b", other), hosts=("a.example.com", "b.example.com")
    )
    assert (await proxy.apply(*both)).action == "runtime"
    assert _serial(proxy.https_port, "b.example.com") == other.leaf.serial_number

    assert (await proxy.apply(*cluster(secret("a", renewed)))).action == "runtime"
    assert connect_tls(proxy.https_port, sni="b.example.com")[0].subject == FALLBACK.subject
    assert await proxy.reloads() == reloads

    on_disk = {str(p.relative_to(proxy.state_dir)) for p in (proxy.state_dir / "certs").iterdir()}
    current = proxy.applier.current
    assert current is not None
    assert on_disk == {name for name in current.files if name.startswith("certs/")}
    assert all((proxy.state_dir / name).stat().st_mode & 0o777 == 0o600 for name in on_disk)
    assert parse_pem(renewed.chain_pem, renewed.key_pem).file in on_disk

    await proxy.process.reload()  # what runs is what the files say
    assert _serial(proxy.https_port, "a.example.com") == renewed.leaf.serial_number
    assert connect_tls(proxy.https_port, sni="b.example.com")[0].subject == FALLBACK.subject


def _serial(port: int, sni: str) -> int:
    return connect_tls(port, sni=sni, context=CA.client_context())[0].serial
