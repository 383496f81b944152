"""Gateway ports through the real HAProxy, to real backends on 127.0.0.x.

Routing models are built directly (tests/gateway_models.py); each test applies its own
through the controller's Applier (a reload, or runtime commands when the plan allows).
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from ingress_ctl.explaining import explain
from ingress_ctl.haproxy.applying import Applier, Outcome
from ingress_ctl.haproxy.process import HAProxyProcess
from ingress_ctl.haproxy.rendering import render_state
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.policies import (
    BackendPolicy,
    GatewayRedirect,
    Header,
    HeaderEdits,
    PathRewrite,
    Policy,
    Protocol,
    RoutePolicy,
    Timeouts,
    Upstream,
)
from ingress_ctl.model.routing import Backend, Certificate, Mode, PathType, Routing
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.state import ControllerStatus
from ingress_ctl.translation.certificates import parse_pem
from tests.backends import Backend as StreamBackend
from tests.backends import running
from tests.certs import TestCA
from tests.conftest import EchoBackends, free_port, short_tmp_dir
from tests.gateway_models import (
    gateway_routing,
    http_port,
    https_port,
    match,
    service_backend,
    split,
    tcp_port,
    tls_port,
)
from tests.h2_backend import serving
from tests.http import Response, request
from tests.test_tls_haproxy import connect_tls, https_get

pytestmark = pytest.mark.haproxy

ECHOES = ("web", "api", "canary", "admin", "wild", "deep", "any", "other")


class GatewayProxy:
    """A real HAProxy fed through the Applier, and echo backends by name."""

    def __init__(self, haproxy_bin: str, state_dir: Path, echoes: dict[str, tuple[str, int]]):
        self.echoes = echoes
        self.process = HAProxyProcess(binary=haproxy_bin, state_dir=state_dir)
        self.applier = Applier(
            process=self.process,
            state_dir=state_dir,
            status=ControllerStatus(mode="files"),
            metrics=Metrics(),
        )
        self.settings = Settings(bind_address=IPv4Address("127.0.0.1"), http_port=free_port())

    def backend(self, name: str, policy: Policy | None = None) -> Backend:
        """The backend of the echo backend `name` (with a policy, a backend of its own)."""
        return service_backend(name, self.echoes[name], policy=policy)

    async def apply(self, routing: Routing) -> Outcome:
        current = self.applier.current
        rendered = render_state(
            routing, settings=self.settings, previous=current.layout if current else None
        )
        outcome = await self.applier.apply(rendered)
        assert outcome.action in {"start", "reload", "runtime", "none"}, outcome
        return outcome


def echo_backends(names: tuple[str, ...], first: int) -> Iterator[dict[str, tuple[str, int]]]:
    """Echo backends named `names` on 127.0.0.<first>, <first + 1>, ... (a fixture's body)."""
    addresses = {name: f"127.0.0.{first + i}" for i, name in enumerate(names)}
    found = {name: (address, free_port(address)) for name, address in addresses.items()}
    backends = EchoBackends()
    try:
        for name, (address, port) in found.items():
            backends.start(name=name, host=address, port=port)
        yield found
    finally:
        backends.stop()


async def gateway_proxy(
    haproxy_bin: str, echoes: dict[str, tuple[str, int]]
) -> AsyncIterator[GatewayProxy]:
    """A GatewayProxy in a state folder of its own, stopped at the end (a fixture's body)."""
    with short_tmp_dir() as state_dir:
        found = GatewayProxy(haproxy_bin, state_dir, echoes)
        try:
            yield found
        finally:
            await found.process.stop()


@pytest.fixture(scope="module")
def echoes() -> Iterator[dict[str, tuple[str, int]]]:
    yield from echo_backends(ECHOES, 71)


@pytest.fixture
async def proxy(
    haproxy_bin: str, echoes: dict[str, tuple[str, int]]
) -> AsyncIterator[GatewayProxy]:
    async for found in gateway_proxy(haproxy_bin, echoes):
        yield found


def answered(response: Response) -> dict[str, Any]:
    assert response.status == 200, (response.status, response.body[:200])
    found: dict[str, Any] = json.loads(response.body)
    return found


def backend_of(port: int, path: str, host: str, **options: Any) -> str | int:
    """The echo backend that answered, else the status."""
    response = request(port, path, host=host, **options)
    return answered(response)["backend"] if response.status == 200 else response.status


# --- matching precedence ----------------------------------------------------------------


PRECEDENCE = [
    ("/api", "shop.example.com", {}, "GET", "api"),  # Exact first
    ("/api", "shop.example.com", {"X-Canary": "yes"}, "GET", "api"),
    ("/api/v1", "shop.example.com", {"X-Canary": "yes"}, "GET", "canary"),
    ("/api/v1", "shop.example.com", {"X-Canary": "no"}, "GET", "web"),
    ("/api/v1?who=admin", "shop.example.com", {}, "GET", "admin"),
    ("/api/v1?who=admin", "shop.example.com", {"x-canary": "yes"}, "GET", "canary"),
    ("/api/v1", "shop.example.com", {}, "POST", "other"),
    ("/apiary", "shop.example.com", {}, "GET", "any"),  # element-wise: falls through to ""
    ("/static/x", "shop.example.com", {}, "DELETE", "other"),
    ("/static/x", "shop.example.com", {}, "GET", "any"),  # the chain fails: next level
    ("/deep/x", "a.b.example.com", {}, "GET", "deep"),
    ("/wild", "a.b.example.com", {}, "GET", "wild"),  # the shorter wildcard next
    ("/wild", "x.y.z.example.com", {}, "GET", "wild"),  # any number of labels
    ("/other", "x.example.com", {"x-wild": "1"}, "GET", "wild"),
    ("/other", "x.example.com", {}, "GET", "any"),
    ("/wild", "example.com", {}, "GET", "any"),  # a wildcard needs a label before it
    ("/wild", "SHOP.example.com", {}, "GET", "wild"),
]


async def test_matches_win_in_list_order_level_by_level(proxy: GatewayProxy) -> None:
    """HAProxy answers as the list order says, and `explain` says the same."""
    b = {name: proxy.backend(name) for name in ECHOES}
    port = free_port()
    routing = gateway_routing(
        http_port(
            port,
            match("shop.example.com", "/api", b["api"].name, PathType.EXACT),
            match("shop.example.com", "/api", b["canary"].name, headers={"x-canary": "yes"}),
            match("shop.example.com", "/api", b["admin"].name, query={"who": "admin"}),
            match("shop.example.com", "/api", b["other"].name, method="POST"),
            match("shop.example.com", "/api", b["web"].name),
            match("shop.example.com", "/static", b["other"].name, method="DELETE"),
            match("*.b.example.com", "/deep", b["deep"].name),
            match("*.example.com", "/", b["wild"].name, headers={"x-wild": "1"}),
            match("*.example.com", "/wild", b["wild"].name),
            match("", "/", b["any"].name),
        ),
        backends=tuple(b.values()),
    )
    await proxy.apply(routing)
    for path, host, headers, method, expected in PRECEDENCE:
        where = (path, host, headers, method)
        assert backend_of(port, path, host, headers=headers, method=method) == expected, where
        lines = explain(routing, url=f"http://{host}:{port}{path}", method=method, headers=headers)
        assert lines[-2] == f"backend: {b[expected].name} (Service default/{expected}:80)", where
    assert backend_of(port, "/api", "SHOP.example.com:1234") == "api"


async def test_no_match_answers_404_and_a_route_map_change_needs_no_reload(
    proxy: GatewayProxy,
) -> None:
    b = {name: proxy.backend(name) for name in ("web", "api")}
    port = free_port()
    first = gateway_routing(
        http_port(
            port,
            match("shop.example.com", "/", b["web"].name),
            match("*.example.org", "/", b["web"].name),
        ),
        backends=tuple(b.values()),
    )
    await proxy.apply(first)
    assert backend_of(port, "/", "other.example.com") == 404
    grown = gateway_routing(
        http_port(
            port,
            match("shop.example.com", "/api", b["api"].name),
            match("shop.example.com", "/", b["web"].name),
            match("*.example.com", "/", b["api"].name),
            match("*.example.org", "/", b["web"].name),
        ),
        backends=tuple(b.values()),
    )
    before = (await proxy.process.status()).reloads
    outcome = await proxy.apply(grown)
    assert outcome.action == "runtime", outcome
    assert (await proxy.process.status()).reloads == before
    assert backend_of(port, "/api/x", "shop.example.com") == "api"
    assert backend_of(port, "/", "other.example.com") == "api"


async def test_a_cleartext_port_speaks_http2_with_prior_knowledge(proxy: GatewayProxy) -> None:
    """gRPC clients open cleartext HTTP/2 without an upgrade: HAProxy 2.6 takes the HTTP/2
    preface on a plain bind."""
    web = proxy.backend("web")
    port = free_port()
    await proxy.apply(gateway_routing(http_port(port, match("", "/", web.name)), backends=(web,)))
    result = subprocess.run(
        [
            "curl",
            "-s",
            "--http2-prior-knowledge",
            "-H",
            "Host: grpc.example.com",
            "-o",
            "-",
            "-w",
            "\n%{http_version}",
            f"http://127.0.0.1:{port}/x",
        ],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    body, _, version = result.stdout.rpartition("\n")
    assert version == "2"
    assert json.loads(body)["backend"] == "web"


# --- filters ----------------------------------------------------------------------------


async def test_header_modifiers_and_url_rewrites(proxy: GatewayProxy) -> None:
    edited = proxy.backend(
        "web",
        Policy(
            route=RoutePolicy(
                request_headers=HeaderEdits(
                    set=(Header(name="x-set", value="set value"),),
                    add=(Header(name="x-add", value="added"),),
                    delete=("x-gone",),
                ),
                response_headers=HeaderEdits(
                    set=(Header(name="x-served-by", value="gateway"),),
                    add=(Header(name="x-extra", value="1"),),
                    delete=("content-type",),
                ),
            )
        ),
    )
    rewritten = proxy.backend(
        "api",
        Policy(
            route=RoutePolicy(
                upstream_vhost="internal.example.com",
                rewrite=PathRewrite(regex="^/old(/.*)?$", replacement="/new\\1"),
            )
        ),
    )
    full = proxy.backend(
        "admin", Policy(route=RoutePolicy(rewrite=PathRewrite(regex="^.*$", replacement="/full")))
    )
    port = free_port()
    await proxy.apply(
        gateway_routing(
            http_port(
                port,
                match("", "/old", rewritten.name),
                match("", "/replace", full.name),
                match("", "/", edited.name),
            ),
            backends=(edited, rewritten, full),
        )
    )
    response = request(port, "/x", host="a.example.com", headers={"x-gone": "1", "x-set": "old"})
    seen = answered(response)["headers"]
    assert seen["x-set"] == "set value" and seen["x-add"] == "added" and "x-gone" not in seen
    assert response.headers["x-served-by"] == "gateway" and response.headers["x-extra"] == "1"
    assert "content-type" not in response.headers
    seen = answered(request(port, "/old/a?q=1", host="a.example.com"))
    assert seen["path"] == "/new/a?q=1" and seen["host"] == "internal.example.com"
    assert answered(request(port, "/old", host="a.example.com"))["path"] == "/new"
    assert answered(request(port, "/replace/a/b", host="a.example.com"))["path"] == "/full"


def location(port: int, path: str, *, host: str = "a.example.com") -> tuple[int, str]:
    response = request(port, path, host=host)
    return response.status, response.headers.get("location", "")


async def test_redirects_follow_the_gateway_api_port_and_scheme_rules(proxy: GatewayProxy) -> None:
    def redirecting(name: str, **fields: Any) -> Backend:
        return proxy.backend(
            name, Policy(route=RoutePolicy(gateway_redirect=GatewayRedirect(**fields)))
        )

    backends = {
        "/scheme": redirecting("web", scheme="https"),
        "/host": redirecting("web", hostname="other.example.com", code=301),
        "/port": redirecting("web", port=8443, code=303),
        "/port80": redirecting("web", port=80, code=307),
        "/https-port": redirecting("web", scheme="https", port=8443, code=308),
        "/full": redirecting("web", path="/replaced%20path"),
        "/prefix": redirecting("web", prefix=("/prefix", "/new")),
        "/strip": redirecting("web", prefix=("/strip/", "/")),
    }
    port = free_port()
    await proxy.apply(
        gateway_routing(
            http_port(port, *(match("", path, b.name) for path, b in backends.items())),
            backends=tuple(backends.values()),
        )
    )
    assert location(port, "/scheme/x?q=1") == (302, "https://a.example.com/scheme/x?q=1")
    assert location(port, "/host") == (301, f"http://other.example.com:{port}/host")
    assert location(port, "/port/y") == (303, "http://a.example.com:8443/port/y")
    assert location(port, "/port80") == (307, "http://a.example.com/port80")
    assert location(port, "/https-port") == (308, "https://a.example.com:8443/https-port")
    assert location(port, "/full/x?a=b") == (
        302,
        f"http://a.example.com:{port}/replaced%20path?a=b",
    )
    assert location(port, "/prefix") == (302, f"http://a.example.com:{port}/new")
    assert location(port, "/prefix/") == (302, f"http://a.example.com:{port}/new/")
    assert location(port, "/prefix/a/b?c") == (302, f"http://a.example.com:{port}/new/a/b?c")
    assert location(port, "/strip") == (302, f"http://a.example.com:{port}/")
    assert location(port, "/strip/a") == (302, f"http://a.example.com:{port}/a")


async def test_timeouts_answer_504_and_unresolved_backends_500(proxy: GatewayProxy) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.80", 0))
        silent.listen()
        slow = service_backend(
            "slow",
            silent.getsockname(),
            policy=Policy(backend=BackendPolicy(timeouts=Timeouts(server=300))),
        )
        broken = Backend(name="builtin_500", status=500)
        port = free_port()
        await proxy.apply(
            gateway_routing(
                http_port(port, match("", "/slow", slow.name), match("", "/", broken.name)),
                backends=(slow, broken),
            )
        )
        assert request(port, "/slow", host="a.example.com").status == 504
        response = request(port, "/x", host="a.example.com")
        assert (response.status, response.text) == (500, "500 Internal Server Error")


async def test_h2c_backends(proxy: GatewayProxy) -> None:
    address, backend_port = "127.0.0.81", free_port("127.0.0.81")
    with serving(address, backend_port):
        h2c = service_backend(
            "h2c",
            (address, backend_port),
            policy=Policy(backend=BackendPolicy(upstream=Upstream(protocol=Protocol.H2C))),
        )
        port = free_port()
        await proxy.apply(
            gateway_routing(http_port(port, match("", "/", h2c.name)), backends=(h2c,))
        )
        assert answered(request(port, "/", host="a.example.com"))["http_version"] == "2"


# --- splits -------------------------------------------------------------------------------


async def test_splits_share_requests_by_weight(proxy: GatewayProxy) -> None:
    b = {name: proxy.backend(name) for name in ("web", "api", "other")}
    port = free_port()
    routing = gateway_routing(
        http_port(port, match("", "/", "split_web")),
        backends=tuple(b.values()),
        splits=(split("split_web", (b["web"].name, 3), (b["api"].name, 1), (b["other"].name, 0)),),
    )
    await proxy.apply(routing)
    seen = Counter(backend_of(port, "/", "a.example.com") for _ in range(400))
    assert set(seen) == {"web", "api"}, seen
    assert 240 <= seen["web"] <= 360, seen  # 300 expected; 6 standard deviations either way
    reweighted = routing.model_copy(
        update={
            "splits": (
                split("split_web", (b["web"].name, 0), (b["api"].name, 1), (b["other"].name, 1)),
            )
        }
    )
    outcome = await proxy.apply(reweighted)
    assert outcome.action == "runtime", outcome
    seen = Counter(backend_of(port, "/", "a.example.com") for _ in range(200))
    assert set(seen) == {"api", "other"}, seen


# --- TLS ----------------------------------------------------------------------------------


async def test_https_ports_choose_the_certificate_by_sni(
    proxy: GatewayProxy, tmp_path: Path
) -> None:
    ca = TestCA()
    shop, other = ca.issue("shop.example.com"), ca.issue("*.example.org", subject="wildcard")
    certificates = [parse_pem(i.chain_pem, i.key_pem) for i in (shop, other)]
    web = proxy.backend("web")
    moved = proxy.backend(
        "web", Policy(route=RoutePolicy(gateway_redirect=GatewayRedirect(hostname="b.example.org")))
    )
    insecure = proxy.backend(
        "web", Policy(route=RoutePolicy(gateway_redirect=GatewayRedirect(scheme="http", code=301)))
    )
    port = free_port()
    await proxy.apply(
        gateway_routing(
            https_port(
                port,
                (("shop.example.com", certificates[0]), ("*.example.org", certificates[1])),
                match("", "/moved", moved.name),
                match("", "/insecure", insecure.name),
                match("", "/", web.name),
            ),
            backends=(web, moved, insecure),
            certificates=tuple(certificates),
        )
    )
    found = https_get(port, sni="shop.example.com", context=ca.client_context())
    assert found.subject == "CN=shop.example.com"
    assert found.response is not None and json.loads(found.response.body)["backend"] == "web"
    assert https_get(port, sni="a.example.org").subject == "CN=wildcard"
    assert https_get(port, sni="unknown.example.net").subject == "CN=shop.example.com"  # first
    handshake, _ = connect_tls(port, sni="shop.example.com", alpn=("h2", "http/1.1"))
    assert handshake.alpn == "h2"
    redirected = https_get(port, sni="a.example.org", target="/moved/x?y").response
    assert redirected is not None and redirected.status == 302
    assert redirected.headers["location"] == f"https://b.example.org:{port}/moved/x?y"
    redirected = https_get(port, sni="a.example.org", target="/insecure").response
    assert redirected is not None and redirected.status == 301
    assert redirected.headers["location"] == "http://a.example.org/insecure"


async def test_tls_passthrough_by_sni_and_tcp(proxy: GatewayProxy) -> None:
    ca = TestCA()
    with ExitStack() as stack:
        contexts = {}
        for name, host in (("exact", "db.example.com"), ("wild", "x.example.com")):
            issued = ca.issue(host)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            folder = Path(stack.enter_context(short_tmp_dir()))
            (folder / "c.pem").write_bytes(issued.chain_pem)
            (folder / "k.pem").write_bytes(issued.key_pem)
            context.load_cert_chain(folder / "c.pem", folder / "k.pem")
            contexts[name] = context
        exact = stack.enter_context(
            running(
                StreamBackend("exact", "127.0.0.82", free_port("127.0.0.82"), tls=contexts["exact"])
            )
        )
        wild = stack.enter_context(
            running(
                StreamBackend("wild", "127.0.0.83", free_port("127.0.0.83"), tls=contexts["wild"])
            )
        )
        plain = stack.enter_context(
            running(StreamBackend("plain", "127.0.0.84", free_port("127.0.0.84")))
        )
        streams = {
            found.name: service_backend(found.name, (found.host, found.port), mode=Mode.TCP)
            for found in (exact, wild, plain)
        }
        tls, tcp, closed = free_port(), free_port(), free_port()
        await proxy.apply(
            gateway_routing(
                tls_port(
                    tls,
                    ("db.example.com", streams["exact"].name),
                    ("*.example.com", streams["wild"].name),
                ),
                tcp_port(tcp, streams["plain"].name),
                tcp_port(closed, None),
                backends=tuple(streams.values()),
            )
        )
        request_line = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        _, raw = connect_tls(tls, sni="db.example.com", request=request_line)
        assert b"X-Backend: exact" in raw
        _, raw = connect_tls(tls, sni="a.b.example.com", request=request_line)
        assert b"X-Backend: wild" in raw
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            connect_tls(tls, sni="db.example.org", request=request_line)
        with socket.create_connection(("127.0.0.1", tcp), timeout=5) as stream:
            stream.sendall(b"ping")
            assert stream.recv(100) == b"plain:ping"
        with socket.create_connection(("127.0.0.1", closed), timeout=5) as stream:
            stream.sendall(b"ping")
            assert stream.recv(100) == b""


async def test_conditions_with_quotes_commas_and_dashes_match_exactly(proxy: GatewayProxy) -> None:
    b = {name: proxy.backend(name) for name in ("web", "api", "other")}
    port = free_port()
    await proxy.apply(
        gateway_routing(
            http_port(
                port,
                match("", "/", b["api"].name, headers={"x-a'b": 'a "quoted" value, with $HOME'}),
                match("", "/", b["other"].name, query={'we$ird"(name),': "-v"}, method="PUT"),
                match("", "/", b["web"].name),
            ),
            backends=tuple(b.values()),
        )
    )
    host = "a.example.com"
    assert backend_of(port, "/", host, headers={"x-a'b": 'a "quoted" value, with $HOME'}) == "api"
    assert backend_of(port, "/", host, headers={"x-a'b": "a"}) == "web"
    assert backend_of(port, '/?we$ird"(name),=-v', host, method="PUT") == "other"
    assert backend_of(port, '/?we$ird"(name),=-v', host) == "web"
    assert backend_of(port, "/?we$ird=-v", host, method="PUT") == "web"


async def test_a_certificate_for_another_sni_name_is_added_without_a_reload(
    proxy: GatewayProxy,
) -> None:
    ca = TestCA()
    shop, other = ca.issue("shop.example.com"), ca.issue("*.example.org", subject="wildcard")
    first, second = (parse_pem(i.chain_pem, i.key_pem) for i in (shop, other))
    web = proxy.backend("web")
    port = free_port()

    def serving(*certificates: tuple[str, Certificate]) -> Routing:
        return gateway_routing(
            https_port(port, certificates, match("", "/", web.name)),
            backends=(web,),
            certificates=tuple(c for _, c in certificates),
        )

    await proxy.apply(serving(("shop.example.com", first)))
    assert https_get(port, sni="a.example.org").subject == "CN=shop.example.com"
    reloads = (await proxy.process.status()).reloads
    outcome = await proxy.apply(serving(("shop.example.com", first), ("*.example.org", second)))
    assert outcome.action == "runtime", outcome
    assert https_get(port, sni="a.example.org").subject == "CN=wildcard"
    assert https_get(port, sni="shop.example.com").subject == "CN=shop.example.com"
    outcome = await proxy.apply(serving(("shop.example.com", first)))
    assert outcome.action == "runtime", outcome
    assert https_get(port, sni="a.example.org").subject == "CN=shop.example.com"
    assert (await proxy.process.status()).reloads == reloads
