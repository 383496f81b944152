"""Annotations through the real HAProxy: each feature seen by real requests.

One HAProxy serves the whole module; each test serves its own complete set of
manifests, then sends requests to echo backends on 127.0.0.41 and up (the
echo body names the backend and shows the path and headers it received).
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Iterator
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from ingress_ctl.haproxy import naming
from ingress_ctl.haproxy.applying import Outcome
from ingress_ctl.haproxy.rendering import render_state
from ingress_ctl.model.routing import Certificate
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import Resolved
from ingress_ctl.translation import Translation
from tests.backends import Backend, running
from tests.certs import TestCA
from tests.conftest import EchoProxy, echo_proxy, free_port
from tests.h2_backend import serving
from tests.http import Response, request, wait_for
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
)

pytestmark = pytest.mark.haproxy

P = "ingress-ctl.io/"
N = "nginx.ingress.kubernetes.io/"
ECHOES = ("one", "two")
PASSWORD = "secret"
HASHES = {
    "alice": "$2y$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW",
    "bob": "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1",
}
"""crypt(3) hashes of PASSWORD: bcrypt and SHA-512-crypt."""


class Proxy(EchoProxy):
    """The module's HAProxy and echo backends, driven synchronously."""

    def settings(self, *, nginx_compat: bool, **flags: Any) -> Settings:
        return Settings(
            bind_address=IPv4Address("127.0.0.1"),
            http_port=self.pipeline.port,
            nginx_compat=nginx_compat,
            **flags,
        )

    def translate(
        self,
        *manifests: Manifest,
        settings: Settings,
        resolved: Resolved | None = None,
        certificate: Certificate | None = None,
    ) -> Translation:
        return run(
            *self.services(*ECHOES),
            *manifests,
            settings=settings,
            resolved=resolved,
            fallback_certificate=certificate,
        )

    def serve(
        self,
        *manifests: Manifest,
        nginx_compat: bool = False,
        global_config: dict[str, str] | None = None,
        resolved: Resolved | None = None,
        certificate: Certificate | None = None,
        **flags: Any,
    ) -> Translation:
        """Serve exactly these manifests (plus our IngressClass and the echo Services), and
        the global ConfigMap `default/global` with `global_config` when given; ExternalNames
        resolve as `resolved` says; HTTPS has `certificate` as its default one; `flags` are
        more Settings."""
        if global_config is not None:
            flags["configmap"] = "default/global"
            manifests = (*manifests, configmap("global", global_config))
        settings = self.settings(nginx_compat=nginx_compat, **flags)
        extra: dict[str, Any] = {
            name: value
            for name, value in (("resolved", resolved), ("certificate", certificate))
            if value is not None
        }
        translation = self.translate(*manifests, settings=settings, **extra)
        current = self.pipeline.applier.current
        rendered = render_state(
            translation.routing,
            settings=settings,
            previous=current.layout if current is not None else None,
        )
        self.last: Outcome = self.runner.run(self.pipeline.apply(rendered))
        assert self.last.action in {"start", "reload", "runtime", "none"}, self.last
        return translation

    def down(self, port: int) -> bool:
        """Whether HAProxy's checks marked every server on `port` down."""
        [reply] = self.runner.run(self.pipeline.process.runtime(["show servers state"]))
        rows = [line.split() for line in reply.splitlines()[1:] if not line.startswith("#")]
        states = [row[5] for row in rows if len(row) > 18 and row[18] == str(port)]
        return bool(states) and all(state == "0" for state in states)

    def config(self) -> str:
        return (self.pipeline.state_dir / naming.CONFIG_FILE).read_text()

    def request(self, host: str, target: str = "/", **options: Any) -> Response:
        return request(self.pipeline.port, target, host=host, **options)

    def echoed(self, host: str, target: str = "/", **options: Any) -> dict[str, Any]:
        """The echo backend's description of the request it received."""
        response = self.request(host, target, **options)
        assert response.status == 200, (response.status, response.text)
        found: dict[str, Any] = response.json()
        return found


@pytest.fixture(scope="module")
def proxy(haproxy_bin: str) -> Iterator[Proxy]:
    with echo_proxy(haproxy_bin, ECHOES, first=41) as made:
        yield Proxy(made.pipeline, made.runner, made.echoes)


def app(
    host: str, annotations: dict[str, str], *paths: Manifest, name: str | None = None
) -> Manifest:
    """An Ingress for `host` (paths default to `/` on Service `one`) with these annotations."""
    return ingress(
        name or host.split(".", maxsplit=1)[0],
        rule(host, *(paths or (path("/", "one"),))),
        annotations=annotations,
    )


def errors(translation: Translation) -> list[str]:
    return [str(problem) for problem in translation.problems if problem.severity == "error"]


def users_secret(name: str, content: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "default"},
        "stringData": {"auth": content},
    }


def test_allow_and_deny_lists(proxy: Proxy) -> None:
    translation = proxy.serve(
        app("others.test", {P + "allow-list": "10.0.0.0/8"}),
        app("local.test", {P + "allow-list": "10.0.0.0/8, 127.0.0.0/8"}),
        app("denied.test", {P + "deny-list": "127.0.0.1"}),
        app("broken.test", {P + "allow-list": "127.0.0.0/88"}),
        app("open.test", {P + "deny-list": "10.0.0.0/8"}),
    )
    assert [problem.field for problem in translation.problems] == [
        f"metadata.annotations[{P}allow-list]"
    ]
    statuses = {
        host: proxy.request(host).status
        for host in ("others.test", "local.test", "denied.test", "broken.test", "open.test")
    }
    assert statuses == {
        "others.test": 403,
        "local.test": 200,
        "denied.test": 403,
        "broken.test": 403,
        "open.test": 200,
    }


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_basic_auth(proxy: Proxy) -> None:
    annotations = {P + "auth-type": "basic", P + "auth-secret": "users", P + "auth-realm": "Staff"}
    htpasswd = "\n".join(f"{user}:{hashed}" for user, hashed in HASHES.items())
    translation = proxy.serve(
        users_secret("users", htpasswd + "\ncarol:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n"),
        app("auth.test", annotations),
        app("closed.test", {P + "auth-type": "basic", P + "auth-secret": "missing"}),
    )
    users, missing = [problem.reason for problem in translation.problems]
    assert users.startswith("Secret default/users: line 3: user 'carol': Apache's {SHA}")
    assert (
        missing == "Secret default/missing: not found; every request answers 401 until it is fixed"
    )
    anonymous = proxy.request("auth.test")
    assert anonymous.status == 401
    assert anonymous.headers["www-authenticate"] == 'Basic realm="Staff"'
    assert proxy.request("auth.test", headers=basic("alice", "wrong")).status == 401
    assert proxy.request("auth.test", headers=basic("carol", PASSWORD)).status == 401
    for user in HASHES:
        assert proxy.request("auth.test", headers=basic(user, PASSWORD)).status == 200, user
    assert proxy.request("closed.test", headers=basic("alice", PASSWORD)).status == 401


def test_rate_limit(proxy: Proxy) -> None:
    proxy.serve(
        app("limited.test", {P + "rate-limit-requests": "3", P + "rate-limit-period": "10s"}),
        app("free.test", {}),
    )
    assert [proxy.request("limited.test").status for _ in range(6)] == [200] * 3 + [429] * 3
    assert [proxy.request("free.test").status for _ in range(6)] == [200] * 6


def test_nginx_limit_rps_answers_503(proxy: Proxy) -> None:
    proxy.serve(app("rps.test", {N + "limit-rps": "2"}), nginx_compat=True)
    assert [proxy.request("rps.test").status for _ in range(4)] == [200, 200, 503, 503]


@pytest.mark.parametrize(
    ("annotations", "rule_path", "kind", "asked", "seen"),
    [
        ({P + "rewrite-target": "/"}, "/api", "Prefix", "/api/x/y?q=1", "/x/y?q=1"),
        ({P + "rewrite-target": "/"}, "/api", "Prefix", "/api", "/"),
        ({P + "rewrite-target": "/"}, "/api/", "Prefix", "/api/", "/"),
        ({P + "rewrite-target": "/v2"}, "/api", "Prefix", "/api/x", "/v2/x"),
        ({P + "rewrite-target": "/v2"}, "/api", "Prefix", "/api", "/v2"),
        ({P + "rewrite-target": "/v2/"}, "/api", "Prefix", "/api/x", "/v2/x"),
        ({P + "rewrite-target": "/new"}, "/old", "Exact", "/old?a=b", "/new?a=b"),
        ({P + "rewrite-target": "/v2"}, "/", "Prefix", "/x", "/v2/x"),
        (
            {P + "path-rewrite": r"^/users/([0-9]+)$ /u/\1"},
            "/users",
            "Prefix",
            "/users/42",
            "/u/42",
        ),
        (
            {P + "path-rewrite": r"^/users/([0-9]+)$ /u/\1"},
            "/users",
            "Prefix",
            "/users/x",
            "/users/x",
        ),
        ({N + "rewrite-target": "/"}, "/api", "Prefix", "/api/x", "/x"),
    ],
)
def test_rewrites_reach_the_pods(
    proxy: Proxy,
    annotations: dict[str, str],
    rule_path: str,
    kind: str,
    asked: str,
    seen: str,
) -> None:
    translation = proxy.serve(
        app("rewrite.test", annotations, path(rule_path, "one", kind=kind)), nginx_compat=True
    )
    assert errors(translation) == []
    assert proxy.echoed("rewrite.test", asked)["path"] == seen


CORS = {
    P + "cors-enable": "true",
    P + "cors-allow-origin": "https://a.example.com, https://b.example.com",
    P + "cors-allow-methods": "GET, POST",
    P + "cors-allow-headers": "X-Token",
    P + "cors-expose-headers": "X-Total",
    P + "cors-max-age": "600",
}


def test_cors_preflight_is_answered_at_the_edge(proxy: Proxy) -> None:
    proxy.serve(
        app("cors.test", CORS | {P + "auth-type": "basic", P + "auth-secret": "none"}),
        app("star.test", {P + "cors-enable": "true", P + "cors-allow-credentials": "false"}),
    )
    preflight = {"Origin": "https://b.example.com", "Access-Control-Request-Method": "POST"}
    answer = proxy.request("cors.test", "/x", method="OPTIONS", headers=preflight)
    assert answer.status == 204
    assert {name: value for name, value in answer.headers.items() if "access-control" in name} == {
        "access-control-allow-origin": "https://b.example.com",
        "access-control-allow-methods": "GET, POST",
        "access-control-allow-headers": "x-token",
        "access-control-max-age": "600",
        "access-control-allow-credentials": "true",
        "access-control-expose-headers": "x-total",
    }
    stranger = preflight | {"Origin": "https://evil.example.com"}
    assert proxy.request("cors.test", method="OPTIONS", headers=stranger).status == 401
    star = proxy.request("star.test", method="OPTIONS", headers=stranger)
    assert (star.status, star.headers["access-control-allow-origin"]) == (204, "*")
    simple = proxy.request("star.test", headers={"Origin": "https://evil.example.com"})
    assert simple.status == 200 and simple.headers["access-control-allow-origin"] == "*"
    assert proxy.request("star.test").headers["access-control-allow-origin"] == "*"


def test_cors_headers_on_answers_of_the_pods(proxy: Proxy) -> None:
    proxy.serve(app("cors.test", CORS))
    allowed = proxy.request("cors.test", headers={"Origin": "https://a.example.com"})
    assert allowed.status == 200
    assert allowed.headers["access-control-allow-origin"] == "https://a.example.com"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert allowed.headers["access-control-expose-headers"] == "x-total"
    assert allowed.headers["vary"] == "origin"
    other = proxy.request("cors.test", headers={"Origin": "https://evil.example.com"})
    assert other.status == 200 and "access-control-allow-origin" not in other.headers


def pair(proxy: Proxy, name: str = "pair") -> list[Manifest]:
    """Service `name` whose endpoints are both echo backends (one slice each: ports differ)."""
    slices = [
        endpoint_slice(f"{name}-{echo}", name, endpoint(address), ports=((None, port),))
        for echo, (address, port) in proxy.echoes.items()
    ]
    return [service(name, service_port(80, target=8080)), *slices]


def test_cookie_affinity_keeps_a_client_on_its_server(proxy: Proxy) -> None:
    proxy.serve(
        *pair(proxy),
        app(
            "sticky.test",
            {P + "affinity": "cookie", P + "session-cookie-name": "S"},
            path("/", "pair"),
        ),
        app("loose.test", {}, path("/", "pair")),
    )
    assert {proxy.echoed("loose.test")["backend"] for _ in range(4)} == {"one", "two"}
    first = proxy.request("sticky.test")
    cookie = first.headers["set-cookie"]
    assert cookie.startswith("S=") and "HttpOnly" in cookie
    again = {"Cookie": cookie.split(";")[0]}
    assert {proxy.echoed("sticky.test", headers=again)["backend"] for _ in range(8)} == {
        first.json()["backend"]
    }


def test_headers_set_added_and_deleted(proxy: Proxy) -> None:
    proxy.serve(
        app(
            "headers.test",
            {
                P + "request-set-header": "X-Env prod\nX-Forwarded-User nobody",
                P + "request-add-header": "X-Via edge",
                P + "request-del-header": "X-Secret",
                P + "upstream-vhost": "internal.example",
                P + "response-set-header": "X-Frame-Options DENY",
                P + "response-del-header": "Server",
            },
        )
    )
    sent = {"X-Secret": "s3cret", "X-Env": "dev", "X-Via": "client"}
    response = proxy.request("headers.test", headers=sent)
    seen = response.json()
    assert seen["host"] == "internal.example"
    assert seen["headers"]["x-env"] == "prod"
    assert seen["headers"]["x-forwarded-user"] == "nobody"
    assert seen["headers"]["x-via"] == "client, edge"
    assert "x-secret" not in seen["headers"]
    assert response.headers["x-frame-options"] == "DENY"
    assert "server" not in response.headers


def test_redirects(proxy: Proxy) -> None:
    proxy.serve(
        app(
            "moved.test",
            {P + "redirect": "https://example.com/new?x=1", P + "redirect-code": "308"},
        ),
        app("root.test", {P + "app-root": "/app"}),
        app("old.test", {N + "permanent-redirect": "https://example.org/"}, name="old"),
        nginx_compat=True,
    )
    moved = proxy.request("moved.test", "/anything")
    assert (moved.status, moved.headers["location"]) == (308, "https://example.com/new?x=1")
    root = proxy.request("root.test", "/")
    assert (root.status, root.headers["location"]) == (302, "/app")
    assert proxy.echoed("root.test", "/other")["path"] == "/other"
    old = proxy.request("old.test")
    assert (old.status, old.headers["location"]) == (301, "https://example.org/")


def test_body_size(proxy: Proxy) -> None:
    proxy.serve(app("upload.test", {P + "proxy-body-size": "1k"}))
    assert proxy.request("upload.test", method="POST", body=b"x" * 1024).status == 200
    assert proxy.request("upload.test", method="POST", body=b"x" * 1025).status == 413


def test_backend_settings_are_rendered_and_slots_still_update_at_runtime(proxy: Proxy) -> None:
    annotations = {
        P + "timeout-server": "30s",
        P + "timeout-connect": "2s",
        P + "load-balance": "source",
        P + "pod-maxconn": "50",
    }
    tuned = app("tuned.test", annotations, path("/", "pair"))
    proxy.serve(*pair(proxy), tuned)
    config = proxy.config()
    for line in (
        "timeout server 30s",
        "timeout connect 2s",
        "balance source",
        "hash-type consistent",
        "default-server maxconn 50",
    ):
        assert f"\n    {line}\n" in config, line
    without_two = [made for made in pair(proxy) if made["metadata"]["name"] != "pair-two"]
    proxy.serve(*without_two, tuned)
    assert proxy.last.action == "runtime"
    assert {proxy.echoed("tuned.test")["backend"] for _ in range(4)} == {"one"}


def test_health_checks_take_failing_servers_out(proxy: Proxy) -> None:
    dead = free_port("127.0.0.1")
    one = (None, proxy.echoes["one"][1])
    checks = {P + "health-check-path": "/healthz", P + "health-check-interval": "100ms"}
    proxy.serve(
        service("mixed", service_port(80, target=8080)),
        endpoint_slice("mixed-one", "mixed", endpoint(proxy.echoes["one"][0]), ports=(one,)),
        endpoint_slice("mixed-dead", "mixed", endpoint("127.0.0.1"), ports=((None, dead),)),
        service("lone", service_port(80, target=8080)),
        endpoint_slice("lone-one", "lone", endpoint(proxy.echoes["one"][0]), ports=(one,)),
        app("checked.test", checks, path("/", "mixed")),
        app("strict.test", checks | {P + "health-check-status": "204"}, path("/", "lone")),
    )
    wait_for(lambda: proxy.down(dead) or None, timeout=5)  # three failed checks (fall 3)
    assert [proxy.request("checked.test").status for _ in range(6)] == [200] * 6
    wait_for(lambda: proxy.request("strict.test").status == 503 or None, timeout=5)


def ca_secret(name: str, pem: bytes) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "default"},
        "stringData": {"ca.crt": pem.decode()},
    }


def test_https_to_the_pods_verified_against_a_ca(proxy: Proxy, tmp_path: Path) -> None:
    ca = TestCA()
    issued = ca.issue("pod.internal")
    chain, key = tmp_path / "pod.crt", tmp_path / "pod.key"
    chain.write_bytes(issued.chain_pem)
    key.write_bytes(issued.key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key)
    host = "127.0.0.45"
    tls = {P + "backend-protocol": "https"}
    with running(Backend("tls-pod", host, free_port(host), tls=context)) as pod:
        translation = proxy.serve(
            service("secure", service_port(80, target=pod.port)),
            endpoint_slice("secure-1", "secure", endpoint(host), ports=((None, pod.port),)),
            ca_secret("right", ca.pem),
            ca_secret("wrong", TestCA("another CA").pem),
            app("plain.test", {}, path("/", "secure")),
            app("tls.test", tls, path("/", "secure")),
            app("verified.test", tls | {P + "backend-ca-secret": "right"}, path("/", "secure")),
            app("wrong.test", tls | {P + "backend-ca-secret": "wrong"}, path("/", "secure")),
            app("missing.test", tls | {P + "backend-ca-secret": "nope"}, path("/", "secure")),
        )
        assert [problem.reason for problem in translation.problems] == [
            "Secret default/nope: not found; requests answer 503 until it is fixed"
        ]
        assert proxy.request("plain.test").status == 502
        assert proxy.request("tls.test").backend == "tls-pod"
        assert proxy.request("verified.test").backend == "tls-pod"
        assert proxy.request("wrong.test").status == 503
        assert proxy.request("missing.test").status == 503


def test_canary_by_header_cookie_and_weight(proxy: Proxy) -> None:
    main = ingress(
        "main",
        rule("canary.test", path("/", "one"), path("/other", "one")),
        annotations={P + "request-set-header": "X-From main"},
    )
    canary = ingress(
        "beta",
        rule("canary.test", path("/", "two")),
        annotations={
            P + "canary": "true",
            P + "canary-weight": "30",
            P + "canary-by-header": "X-Canary",
            P + "canary-by-cookie": "canary",
        },
    )
    translation = proxy.serve(main, canary)
    assert errors(translation) == []

    def backend(**headers: str) -> str:
        return str(proxy.echoed("canary.test", headers=headers)["backend"])

    assert backend(**{"X-Canary": "always"}) == "two"
    assert backend(**{"X-Canary": "never", "Cookie": "canary=always"}) == "one"
    assert backend(Cookie="canary=always") == "two"
    assert [backend(Cookie="canary=never") for _ in range(20)] == ["one"] * 20
    shares = [backend() for _ in range(400)]
    assert 0.2 < shares.count("two") / len(shares) < 0.4
    assert {str(proxy.echoed("canary.test", "/other")["backend"]) for _ in range(20)} == {"one"}
    assert proxy.echoed("canary.test", headers={"X-Canary": "never"})["headers"]["x-from"] == "main"


def test_nginx_canary_by_header_value(proxy: Proxy) -> None:
    proxy.serve(
        ingress("main", rule("canary.test", path("/", "one"))),
        ingress(
            "beta",
            rule("canary.test", path("/", "two")),
            annotations={
                N + "canary": "true",
                N + "canary-by-header": "X-Group",
                N + "canary-by-header-value": "beta",
            },
        ),
        nginx_compat=True,
    )
    assert proxy.echoed("canary.test", headers={"X-Group": "beta"})["backend"] == "two"
    assert {
        proxy.echoed("canary.test", headers={"X-Group": "b"})["backend"] for _ in range(10)
    } == {"one"}


def test_from_to_www_redirects_unserved_peer_hosts(proxy: Proxy) -> None:
    www = {P + "from-to-www-redirect": "true"}
    proxy.serve(
        app("www.site.test", www, name="site"),
        app("shop.test", www),
        app("blog.test", www),
        app("www.blog.test", {}, name="blog-www"),
    )
    to_www = proxy.request("site.test", "/a/b?c=1")
    assert (to_www.status, to_www.headers["location"]) == (308, "http://www.site.test/a/b?c=1")
    from_www = proxy.request("www.shop.test", "/")
    assert (from_www.status, from_www.headers["location"]) == (308, "http://shop.test/")
    assert proxy.request("www.blog.test").status == 200


def test_http2_to_the_pods_and_server_timeouts(proxy: Proxy, tmp_path: Path) -> None:
    issued = TestCA().issue("pod.internal")
    cert, key = tmp_path / "pod.crt", tmp_path / "pod.key"
    cert.write_bytes(issued.chain_pem)
    key.write_bytes(issued.key_pem)
    clear, tls = ("127.0.0.46", free_port("127.0.0.46")), ("127.0.0.47", free_port("127.0.0.47"))
    with serving(*clear), serving(*tls, tls=(cert, key)):
        translation = proxy.serve(
            service("clear", service_port(80, target=clear[1])),
            endpoint_slice("clear-1", "clear", endpoint(clear[0]), ports=((None, clear[1]),)),
            service("tls", service_port(80, target=tls[1])),
            endpoint_slice("tls-1", "tls", endpoint(tls[0]), ports=((None, tls[1]),)),
            app("h1.test", {}, path("/", "clear")),
            app("h2c.test", {P + "backend-protocol": "h2c"}, path("/", "clear")),
            app("h2.test", {P + "backend-protocol": "h2"}, path("/", "tls")),
            app("quick.test", {P + "timeout-server": "300ms"}, path("/", "clear")),
        )
        assert errors(translation) == []

        assert proxy.request("h1.test").json()["http_version"] == "1.1"
        assert proxy.request("h2c.test").json()["http_version"] == "2"
        assert proxy.request("h2.test").json()["http_version"] == "2"
        assert proxy.request("h1.test", "/slow").status == 200
        assert proxy.request("quick.test", "/slow").status == 504
        assert proxy.request("quick.test").status == 200
