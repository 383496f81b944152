"""ingress-nginx compatibility, seen by real requests through the real HAProxy (--nginx-compat).

The scenarios are those of ingress-nginx's own e2e annotation tests (CORS,
basic auth, affinity, canary, allow/deny lists ...), written again here as
HTTP-level assertions: each Ingress carries `nginx.ingress.kubernetes.io/`
keys only, and the expectation is what ingress-nginx answers, or the
difference docs/nginx-compat.md documents.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

import pytest

from ingress_ctl.model.routing import Certificate
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import Resolved
from ingress_ctl.translation import Translation
from ingress_ctl.translation.certificates import self_signed
from tests.conftest import echo_proxy, free_port
from tests.http import Response
from tests.manifests import Manifest, configmap, ingress, path, rule
from tests.test_annotations_haproxy import (
    ECHOES,
    HASHES,
    PASSWORD,
    Proxy,
    app,
    basic,
    pair,
    users_secret,
)

pytestmark = pytest.mark.haproxy

N = "nginx.ingress.kubernetes.io/"
CORS_ON = {N + "enable-cors": "true"}


FALLBACK = self_signed()


class CompatProxy(Proxy):
    """The module's HAProxy with HTTPS too (the fallback certificate) and the global ConfigMap
    `ingress/config` (`global_config`)."""

    https_port = free_port()
    global_config: Mapping[str, str] = MappingProxyType({})

    def settings(self, *, nginx_compat: bool, **flags: Any) -> Settings:
        base = super().settings(nginx_compat=nginx_compat, **flags)
        return base.model_copy(
            update={"https_port": self.https_port, "configmap": "ingress/config"}
        )

    def translate(
        self,
        *manifests: Manifest,
        settings: Settings,
        resolved: Resolved | None = None,
        certificate: Certificate | None = None,
    ) -> Translation:
        config = configmap("config", dict(self.global_config), namespace="ingress")
        return super().translate(
            config,
            *manifests,
            settings=settings,
            resolved=resolved,
            certificate=certificate or FALLBACK,
        )

    def https(self, host: str, target: str = "/", **headers: str) -> Response:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.https_port, timeout=5, context=context
        )
        try:
            connection.request("GET", target, headers={"Host": host, **headers})
            answer = connection.getresponse()
            found = {name.lower(): value for name, value in answer.getheaders()}
            return Response(answer.status, found, answer.read())
        finally:
            connection.close()


@pytest.fixture(scope="module")
def proxy(haproxy_bin: str) -> Iterator[CompatProxy]:
    with echo_proxy(haproxy_bin, ECHOES, first=51) as made:
        yield CompatProxy(made.pipeline, made.runner, made.echoes)


def origins(host: str, value: str) -> Manifest:
    return app(host, CORS_ON | {N + "cors-allow-origin": value})


CORS_INGRESSES = (
    app("default.cors", CORS_ON),
    origins("star.cors", "*"),
    origins("star-extra.cors", "*, foo.bar.com"),
    origins("blank.cors", "      "),
    origins("port.cors", "https://origin.cors.com:8080"),
    origins("two.cors", "https://origin.cors.com:8080, https://origin2.cors.com"),
    origins("some-bad.cors", "origin.cors.com:8080, https://origin2.cors.com, https://origin.com"),
    origins("all-bad.cors", "origin.cors.com:8080, *.example.com"),
    origins("ports.cors", "http://origin.cors.com:8080, http://origin.com:8080"),
    origins("wild.cors", "http://*.origin.cors.com, http://*.origin.com:8080"),
    origins(
        "commas.cors", "https://origin-123.cors.com:8080,   ,https://origin-321.cors.com:8080,"
    ),
    origins("schemes.cors", "test://localhost, tauri://localhost:3000"),
)
"""One Ingress per ingress-nginx CORS scenario (served together)."""

CORS_CASES = [
    # A plain enable-cors and `*`: a literal `*`, with or without an Origin.
    ("default.cors", None, "*"),
    ("default.cors", "https://any.example.com", "*"),
    ("star.cors", None, "*"),
    ("star-extra.cors", "http://foo.bar.com", "*"),
    ("blank.cors", "http://book.origin.com", "*"),
    # Explicit lists: only an origin of the list is echoed, port and scheme included.
    ("port.cors", "https://origin.cors.com:8080", "https://origin.cors.com:8080"),
    ("port.cors", "https://origin.cors.com", None),
    ("port.cors", None, None),
    ("two.cors", "https://origin2.cors.com", "https://origin2.cors.com"),
    ("two.cors", "http://origin2.cors.com", None),
    ("two.cors", "https://foo.bar.com", None),
    ("ports.cors", "http://origin.com:8080", "http://origin.com:8080"),
    ("ports.cors", "http://origin.com", None),
    ("commas.cors", "https://origin-321.cors.com:8080", "https://origin-321.cors.com:8080"),
    ("commas.cors", "https://unknown.cors.com:8080", None),
    ("schemes.cors", "tauri://localhost:3000", "tauri://localhost:3000"),
    ("schemes.cors", "test://localhost", "test://localhost"),
    # Entries that do not parse are dropped; the others still work.
    ("some-bad.cors", "origin.cors.com:8080", None),
    ("some-bad.cors", "https://origin.com", "https://origin.com"),
    # Fail closed: a value without any valid entry allows no origin (never `*`).
    ("all-bad.cors", "https://evil.example.com", None),
    ("all-bad.cors", "https://a.example.com", None),
    ("all-bad.cors", None, None),
    # Wildcards: one label, the port as written.
    ("wild.cors", "http://foo.origin.cors.com", "http://foo.origin.cors.com"),
    ("wild.cors", "http://bar-foo.origin.cors.com", "http://bar-foo.origin.cors.com"),
    ("wild.cors", "http://bar.foo.origin.cors.com", None),
    ("wild.cors", "http://origin.cors.com", None),
    ("wild.cors", "http://bar.origin.com:8080", "http://bar.origin.com:8080"),
    ("wild.cors", "http://abc.origin.com", None),
    ("wild.cors", "http://abc.origin.com:9090", None),
    ("wild.cors", "http://evil.com/.origin.cors.com", None),
]


@pytest.fixture(scope="module")
def cors_served(proxy: Proxy) -> list[str]:
    translation = proxy.serve(*CORS_INGRESSES, nginx_compat=True)
    return [f"{problem.field}: {problem.reason}" for problem in translation.problems]


@pytest.mark.parametrize(("host", "sent", "allowed"), CORS_CASES)
def test_cors_allow_origin(
    proxy: Proxy, cors_served: list[str], host: str, sent: str | None, allowed: str | None
) -> None:
    headers = {} if sent is None else {"Origin": sent}
    answer = proxy.request(host, headers=headers)
    assert answer.status == 200
    assert answer.headers.get("access-control-allow-origin") == allowed


def test_cors_values_that_do_not_parse_are_problems(cors_served: list[str]) -> None:
    field = f"metadata.annotations[{N}cors-allow-origin]"
    assert sorted(line for line in cors_served if line.startswith(field)) == [
        f"{field}: 'origin.cors.com:8080' is not an origin like https://a.example.com[:port]; "
        "'*.example.com' is not an origin like https://a.example.com[:port]; no origin is "
        "allowed until it is fixed",
        f"{field}: 'origin.cors.com:8080' is not an origin like https://a.example.com[:port]; "
        "that entry is ignored",
    ]


def test_cors_credentials_only_for_listed_origins(proxy: Proxy, cors_served: list[str]) -> None:
    star = proxy.request("default.cors", headers={"Origin": "https://evil.example.com"})
    assert "access-control-allow-credentials" not in star.headers
    listed = proxy.request("two.cors", headers={"Origin": "https://origin2.cors.com"})
    assert listed.headers["access-control-allow-credentials"] == "true"
    assert listed.headers["vary"] == "origin"


def test_cors_two_origin_headers_are_never_echoed(proxy: Proxy, cors_served: list[str]) -> None:
    """An allowed Origin and another one: HAProxy must not echo either."""
    with socket.create_connection(("127.0.0.1", proxy.pipeline.port), timeout=5) as sock:
        sock.sendall(
            b"GET / HTTP/1.1\r\nHost: two.cors\r\nOrigin: https://origin2.cors.com\r\n"
            b"Origin: https://evil.example.com\r\nConnection: close\r\n\r\n"
        )
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head = reply.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 200")
    assert b"access-control-allow-origin" not in head


def test_cors_headers_on_the_basic_auth_challenge(proxy: Proxy) -> None:
    htpasswd = "\n".join(f"{user}:{hashed}" for user, hashed in HASHES.items())
    auth = {N + "auth-type": "basic", N + "auth-secret": "users", N + "auth-realm": "Staff"}
    listed = {N + "cors-allow-origin": "https://app.example.com"}
    proxy.serve(
        users_secret("users", htpasswd),
        app("auth.cors", CORS_ON | auth | listed),
        nginx_compat=True,
    )
    origin = {"Origin": "https://app.example.com"}
    challenge = proxy.request("auth.cors", headers=origin)
    assert challenge.status == 401
    assert challenge.headers["www-authenticate"] == 'Basic realm="Staff"'
    assert challenge.headers["access-control-allow-origin"] == "https://app.example.com"
    assert challenge.headers["access-control-allow-credentials"] == "true"
    preflight = origin | {"Access-Control-Request-Method": "POST"}
    answer = proxy.request("auth.cors", method="OPTIONS", headers=preflight)
    assert (answer.status, answer.headers["access-control-allow-origin"]) == (
        204,
        "https://app.example.com",
    )
    granted = proxy.request("auth.cors", headers=origin | basic("alice", PASSWORD))
    assert granted.status == 200
    assert granted.headers["access-control-allow-origin"] == "https://app.example.com"
    stranger = proxy.request("auth.cors", headers={"Origin": "https://evil.example.com"})
    assert stranger.status == 401 and "access-control-allow-origin" not in stranger.headers


STICKY = {N + "affinity": "cookie", N + "session-cookie-name": "SERVERID"}


def cookie_of(answer: Response) -> str:
    assert answer.status == 200, answer.status
    return answer.headers["set-cookie"]


def cookie_path(answer: Response) -> list[str]:
    """Every Path attribute of the answer's cookie (browsers take the last)."""
    attributes = [part.strip() for part in cookie_of(answer).split(";")[1:]]
    return [part[5:] for part in attributes if part.lower().startswith("path=")]


def test_affinity_cookie_path_is_the_ingress_path(proxy: CompatProxy) -> None:
    proxy.serve(
        *pair(proxy),
        app("path.sticky", STICKY, path("/something", "pair")),
        app("two.sticky", STICKY, path("/something", "pair"), path("/somewhereelse", "pair")),
        app("set.sticky", STICKY | {N + "session-cookie-path": "/foo/bar"}, path("/", "pair")),
        ingress("a", rule("separate.sticky", path("/foo/bar", "pair")), annotations=STICKY),
        ingress("b", rule("separate.sticky", path("/foo", "pair"))),
        app("root.sticky", STICKY, path("/", "pair")),
        nginx_compat=True,
    )
    assert cookie_path(proxy.request("path.sticky", "/something")) == ["/something"]
    assert cookie_path(proxy.request("two.sticky", "/something")) == ["/something"]
    assert cookie_path(proxy.request("two.sticky", "/somewhereelse")) == ["/somewhereelse"]
    assert cookie_path(proxy.request("set.sticky", "/x")) == ["/foo/bar"]
    assert cookie_path(proxy.request("separate.sticky", "/foo/bar")) == ["/foo/bar"]
    assert "set-cookie" not in proxy.request("separate.sticky", "/foo").headers
    assert cookie_of(proxy.request("root.sticky")).startswith("SERVERID=")
    assert cookie_path(proxy.request("root.sticky")) == ["/"]
    secure = cookie_of(proxy.https("two.sticky", "/somewhereelse"))
    assert secure.endswith("; Secure") and "path=/somewhereelse;" in secure


def test_affinity_cookie_attributes(proxy: CompatProxy) -> None:
    proxy.serve(
        *pair(proxy),
        app(
            "expires.sticky",
            STICKY
            | {N + "session-cookie-expires": "172800", N + "session-cookie-max-age": "259200"},
            path("/", "pair"),
        ),
        app("domain.sticky", STICKY | {N + "session-cookie-domain": "foo.bar"}, path("/", "pair")),
        app("secure.sticky", STICKY | {N + "session-cookie-secure": "true"}, path("/", "pair")),
        app("plain.sticky", STICKY | {N + "session-cookie-secure": "false"}, path("/", "pair")),
        nginx_compat=True,
    )
    assert "Max-Age=259200" in cookie_of(proxy.request("expires.sticky"))
    assert "domain=foo.bar" in cookie_of(proxy.request("domain.sticky")).lower()
    assert "domain" not in cookie_of(proxy.request("plain.sticky")).lower()
    assert "; Secure" in cookie_of(proxy.request("secure.sticky"))
    assert "Secure" not in cookie_of(proxy.request("plain.sticky"))
    assert cookie_of(proxy.https("plain.sticky")).endswith("; Secure")
    assert cookie_of(proxy.https("secure.sticky")).count("Secure") == 1


def test_affinity_cookie_is_secure_behind_a_trusted_tls_proxy(proxy: CompatProxy) -> None:
    proxy.global_config = {"trusted-proxy-cidrs": "127.0.0.1/32"}
    try:
        proxy.serve(*pair(proxy), app("lb.sticky", STICKY, path("/", "pair")), nginx_compat=True)
        https = {"X-Forwarded-Proto": "https"}
        assert "Secure" in cookie_of(proxy.request("lb.sticky", headers=https))
        assert "Secure" not in cookie_of(proxy.request("lb.sticky"))
    finally:
        proxy.global_config = {}


def canary_pair(proxy: CompatProxy, behavior: str | None) -> list[Manifest]:
    """A main Ingress with affinity on Service `pair` (both echoes) and a canary on `two`,
    forced by `ForceCanary: yes`, 1 percent by weight."""
    canary = {
        N + "canary": "true",
        N + "canary-by-header": "ForceCanary",
        N + "canary-by-header-value": "yes",
        N + "canary-weight": "1",
    }
    if behavior is not None:
        canary[N + "affinity-canary-behavior"] = behavior
    return [
        *pair(proxy),
        ingress("main", rule("canary.sticky", path("/info", "pair")), annotations=STICKY),
        ingress("canary", rule("canary.sticky", path("/info", "two")), annotations=canary),
    ]


@pytest.mark.parametrize("behavior", [None, "sticky"])
def test_canary_with_affinity_keeps_the_session_on_the_canary(
    proxy: CompatProxy, behavior: str | None
) -> None:
    translation = proxy.serve(*canary_pair(proxy, behavior), nginx_compat=True)
    assert [problem for problem in translation.problems if problem.severity == "error"] == []
    forced = proxy.request("canary.sticky", "/info", headers={"ForceCanary": "yes"})
    assert forced.backend == "two"
    cookie = cookie_of(forced).split(";")[0]
    assert cookie.startswith("SERVERID=")
    again = [
        proxy.request("canary.sticky", "/info", headers={"Cookie": cookie}).backend
        for _ in range(20)
    ]
    assert again == ["two"] * 20
    main = proxy.request("canary.sticky", "/info", headers={"ForceCanary": "never"})
    assert main.backend in ("one", "two") and "set-cookie" in main.headers
    # `never` keeps the 1 % weight roll out: the main Service's own cookie is what is checked
    main_cookie = {"Cookie": cookie_of(main).split(";")[0], "ForceCanary": "never"}
    stays = {
        proxy.request("canary.sticky", "/info", headers=main_cookie).backend for _ in range(10)
    }
    assert stays == {main.backend}


def test_canary_with_legacy_affinity_sets_no_cookie_on_the_canary(proxy: CompatProxy) -> None:
    proxy.serve(*canary_pair(proxy, "legacy"), nginx_compat=True)
    forced = proxy.request("canary.sticky", "/info", headers={"ForceCanary": "yes"})
    assert forced.backend == "two" and "set-cookie" not in forced.headers


ACCESS = (
    app("allow.access", {N + "allowlist-source-range": "10.0.0.0/8"}),
    app("deny.access", {N + "denylist-source-range": "10.1.2.3"}),
)


@pytest.mark.parametrize(
    ("forwarded", "allowed", "denied"),
    [
        (None, 403, 200),
        ("10.1.2.3", 200, 403),
        ("10.9.9.9", 200, 200),
        ("192.168.1.1", 403, 200),
        ("10.1.2.3, 127.0.0.1", 200, 403),
        ("192.168.1.1, 10.1.2.3", 200, 403),
        ("not-an-address", 403, 403),
    ],
)
def test_access_lists_read_the_address_a_trusted_proxy_forwarded(
    proxy: CompatProxy, forwarded: str | None, allowed: int, denied: int
) -> None:
    """ingress-nginx with use-forwarded-headers: the client address the load balancer saw."""
    proxy.global_config = {"trusted-proxy-cidrs": "127.0.0.1/32"}
    try:
        proxy.serve(*ACCESS, nginx_compat=True)
        headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
        assert proxy.request("allow.access", headers=headers).status == allowed
        assert proxy.request("deny.access", headers=headers).status == denied
    finally:
        proxy.global_config = {}


def test_access_lists_ignore_forwarded_addresses_of_untrusted_clients(proxy: CompatProxy) -> None:
    proxy.serve(*ACCESS, nginx_compat=True)
    forged = {"X-Forwarded-For": "10.1.2.3"}
    assert proxy.request("allow.access", headers=forged).status == 403
    assert proxy.request("deny.access", headers=forged).status == 200


def canary_of(weight: str, total: str | None = None, **more: str) -> Manifest:
    annotations = {N + "canary": "true", N + "canary-weight": weight}
    if total is not None:
        annotations[N + "canary-weight-total"] = total
    annotations |= {N + key.replace("_", "-"): value for key, value in more.items()}
    host = f"w{weight}-{total or 100}.canary"
    return ingress(
        f"c-{weight}-{total or 100}", rule(host, path("/", "two")), annotations=annotations
    )


def main_of(host: str) -> Manifest:
    return ingress(f"m-{host}", rule(host, path("/", "one")))


def test_canary_weights_and_totals(proxy: CompatProxy) -> None:
    cases = {
        ("0", None): {"one"},
        ("100", None): {"two"},
        ("200", "200"): {"two"},
        ("100", "200"): {"one", "two"},
    }
    manifests = [
        made
        for weight, total in cases
        for made in (main_of(f"w{weight}-{total or 100}.canary"), canary_of(weight, total))
    ]
    translation = proxy.serve(*manifests, nginx_compat=True)
    assert [problem for problem in translation.problems if problem.severity == "error"] == []
    for (weight, total), expected in cases.items():
        seen = {proxy.request(f"w{weight}-{total or 100}.canary").backend for _ in range(40)}
        assert seen == expected, (weight, total)


def test_canary_by_header_pattern(proxy: CompatProxy) -> None:
    canary = ingress(
        "pattern",
        rule("pattern.canary", path("/", "two")),
        annotations={
            N + "canary": "true",
            N + "canary-by-header": "CanaryByHeader",
            N + "canary-by-header-pattern": "^(beta|alpha)-[0-9]+$",
        },
    )
    proxy.serve(main_of("pattern.canary"), canary, nginx_compat=True)

    def backend(value: str) -> str | None:
        return proxy.request("pattern.canary", headers={"CanaryByHeader": value}).backend

    assert backend("beta-12") == "two"
    assert backend("alpha-3") == "two"
    assert backend("gamma-1") == "one"
    assert backend("beta-") == "one"


def test_x_forwarded_prefix_and_body_buffer_size(proxy: CompatProxy) -> None:
    translation = proxy.serve(
        app("prefix.test", {N + "x-forwarded-prefix": "/test/value"}),
        app("empty.test", {N + "x-forwarded-prefix": ""}),
        app("buffer.test", {N + "client-body-buffer-size": "16k"}),
        nginx_compat=True,
    )
    assert translation.problems == ()
    headers = proxy.echoed("prefix.test")["headers"]
    assert headers["x-forwarded-prefix"] == "/test/value"
    assert "x-forwarded-prefix" not in proxy.echoed("empty.test")["headers"]
    body = b"x" * 100_000
    assert proxy.request("buffer.test", method="POST", body=body).status == 200


def test_upstream_hash_by_request_uri_connects_to_the_same_pod(proxy: CompatProxy) -> None:
    proxy.serve(
        *pair(proxy),
        app("hash.test", {N + "upstream-hash-by": "$request_uri"}, path("/", "pair")),
        nginx_compat=True,
    )
    for target in ("/a", "/b?x=1", "/c/d"):
        assert len({proxy.request("hash.test", target).backend for _ in range(10)}) == 1
    spread = {proxy.request("hash.test", f"/{index}").backend for index in range(30)}
    assert spread == {"one", "two"}


@pytest.mark.parametrize(
    ("variable", "varied"),
    [
        ("$http_x_user_id", lambda index: {"headers": {"X-User-Id": str(index)}}),
        ("$cookie_session", lambda index: {"headers": {"Cookie": f"session={index}"}}),
        ("$arg_user", lambda index: {"target": f"/?user={index}"}),
        ("$remote_addr", None),
    ],
)
def test_upstream_hash_by_a_request_property(
    proxy: CompatProxy, variable: str, varied: Callable[[int], dict[str, Any]] | None
) -> None:
    proxy.serve(
        *pair(proxy),
        app("hashed.test", {N + "upstream-hash-by": variable}, path("/", "pair")),
        nginx_compat=True,
    )
    if varied is None:  # one client address: always the same pod
        assert len({proxy.request("hashed.test").backend for _ in range(10)}) == 1
        return
    for index in range(3):
        same = {proxy.request("hashed.test", **varied(index)).backend for _ in range(6)}
        assert len(same) == 1, (variable, index)
    spread = {proxy.request("hashed.test", **varied(index)).backend for index in range(30)}
    assert spread == {"one", "two"}


def test_basic_auth_from_an_auth_map_secret(proxy: CompatProxy) -> None:
    users = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "map", "namespace": "default"},
        "stringData": dict(HASHES),
    }
    auth = {N + "auth-type": "basic", N + "auth-secret": "map", N + "auth-secret-type": "auth-map"}
    translation = proxy.serve(users, app("map.auth", auth), nginx_compat=True)
    assert translation.problems == ()
    assert proxy.request("map.auth").status == 401
    for user in HASHES:
        assert proxy.request("map.auth", headers=basic(user, PASSWORD)).status == 200, user
    assert proxy.request("map.auth", headers=basic("alice", "nope")).status == 401


def test_custom_headers_from_a_config_map(proxy: CompatProxy) -> None:
    headers = {
        "My-Custom-Header": "42",
        "My-Custom-Header-Dollar": "$remote_addr",
        "Bad Header": "x",
        "X-Percent": "%[src]",
    }
    translation = proxy.serve(
        configmap("custom-headers", headers),
        configmap("elsewhere", {"X-A": "1"}, namespace="other"),
        app("custom.headers", {N + "custom-headers": "default/custom-headers"}),
        app("missing.headers", {N + "custom-headers": "default/none"}),
        app("foreign.headers", {N + "custom-headers": "other/elsewhere"}),
        nginx_compat=True,
    )
    reasons = sorted(problem.reason for problem in translation.problems)
    assert reasons == [
        "ConfigMap default/custom-headers: key 'Bad Header': 'Bad Header' is not a header name "
        "(RFC 7230 token without %); that header is not set",
        "ConfigMap default/custom-headers: key 'X-Percent': '%[src]' holds % (quotes, "
        "backslash, %); that header is not set",
        "ConfigMap default/none: not found; requests answer 503 until it is fixed",
        "ConfigMap other/elsewhere: only ConfigMaps of the Ingress's namespace; requests "
        "answer 503 until it is fixed",
    ]
    answer = proxy.request("custom.headers")
    assert answer.status == 200
    assert answer.headers["my-custom-header"] == "42"
    assert answer.headers["my-custom-header-dollar"] == "$remote_addr"
    assert "x-percent" not in answer.headers
    assert proxy.request("missing.headers").status == 503
    assert proxy.request("foreign.headers").status == 503


def test_redirects_app_root_and_upstream_vhost(proxy: CompatProxy) -> None:
    url = "http://redirect.example.com"
    proxy.serve(
        app("permanent.redirect", {N + "permanent-redirect": url}, path("/something", "one")),
        app(
            "code.redirect",
            {N + "permanent-redirect": url, N + "permanent-redirect-code": "302"},
            path("/something", "one"),
        ),
        app("temporal.redirect", {N + "temporal-redirect": url}),
        app("approot.test", {N + "app-root": "/foo"}),
        app("vhost.test", {N + "upstream-vhost": "upstreamvhost.bar.com"}),
        app("fromtowww.bar.com", {N + "from-to-www-redirect": "true"}),
        nginx_compat=True,
    )
    permanent = proxy.request("permanent.redirect", "/something")
    assert (permanent.status, permanent.headers["location"]) == (301, url)
    code = proxy.request("code.redirect", "/something")
    assert (code.status, code.headers["location"]) == (302, url)
    temporal = proxy.request("temporal.redirect")
    assert (temporal.status, temporal.headers["location"]) == (302, url)
    root = proxy.request("approot.test")
    assert (root.status, root.headers["location"]) == (302, "/foo")
    assert proxy.request("approot.test", "/other").status == 200
    assert proxy.echoed("vhost.test")["headers"]["host"] == "upstreamvhost.bar.com"
    www = proxy.request("www.fromtowww.bar.com", "/foo")
    assert www.status == 308
    assert www.headers["location"] == "http://fromtowww.bar.com/foo"  # nginx adds :80


def announced(proxy: CompatProxy, host: str, length: int) -> bytes:
    """The status line of a POST announcing `length` bytes (sent in full when it is let in)."""
    with socket.create_connection(("127.0.0.1", proxy.pipeline.port), timeout=10) as sock:
        sock.sendall(
            f"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: {length}\r\n"
            "Expect: 100-continue\r\nConnection: close\r\n\r\n".encode()
        )
        head = sock.recv(65536)
        if head.startswith(b"HTTP/1.1 100"):
            sock.sendall(b"x" * length)
            head = head.split(b"\r\n\r\n", 1)[1] or sock.recv(65536)
        return head.split(b"\r\n", 1)[0]


def test_body_size_and_limits(proxy: CompatProxy) -> None:
    proxy.serve(
        app("body.test", {N + "proxy-body-size": "8m"}),
        app("unlimited.test", {N + "proxy-body-size": "0"}),
        app("rps.test", {N + "limit-rps": "2"}),
        app("rpm.test", {N + "limit-rpm": "3"}),
        nginx_compat=True,
    )
    assert proxy.request("body.test", method="POST", body=b"x" * 1024).status == 200
    assert announced(proxy, "body.test", 8 * 1024 * 1024).startswith(b"HTTP/1.1 200")
    assert announced(proxy, "body.test", 8 * 1024 * 1024 + 1).startswith(b"HTTP/1.1 413")
    assert announced(proxy, "unlimited.test", 64 * 1024 * 1024).startswith(b"HTTP/1.1 200")
    assert [proxy.request("rps.test").status for _ in range(4)] == [200, 200, 503, 503]
    assert [proxy.request("rpm.test").status for _ in range(5)] == [200] * 3 + [503] * 2


def test_rewrite_target(proxy: CompatProxy) -> None:
    idiom = {N + "use-regex": "true", N + "rewrite-target": "/$2"}
    translation = proxy.serve(
        app("rewrite.test", {N + "rewrite-target": "/"}, path("/something", "one")),
        app("idiom.test", idiom, path("/something(/|$)(.*)", "one", kind="ImplementationSpecific")),
        app(
            "moved.test",
            {N + "rewrite-target": "/new/$2"},
            path("/api(/|$)(.*)", "one", kind="ImplementationSpecific"),
        ),
        nginx_compat=True,
    )
    assert translation.problems == ()
    assert proxy.echoed("idiom.test", "/something")["path"] == "/"
    assert proxy.echoed("idiom.test", "/something/")["path"] == "/"
    assert proxy.echoed("idiom.test", "/something/new?q=1")["path"] == "/new?q=1"
    assert proxy.request("idiom.test", "/somethingelse").status == 404
    assert proxy.echoed("moved.test", "/api/x/y")["path"] == "/new/x/y"
    assert proxy.echoed("rewrite.test", "/something")["path"] == "/"
    # Documented difference: nginx replaces the whole match (/something/x -> /).
    assert proxy.echoed("rewrite.test", "/something/x")["path"] == "/x"


def test_basic_auth_scenarios(proxy: CompatProxy) -> None:
    htpasswd = "\n".join(f"{user}:{hashed}" for user, hashed in HASHES.items())
    auth = {N + "auth-type": "basic", N + "auth-realm": "test auth"}
    translation = proxy.serve(
        users_secret("users", htpasswd),
        users_secret("garbage", "foo:bar\nbaz"),
        app("none.auth", {}),
        app("auth.auth", auth | {N + "auth-secret": "users"}),
        app("missing.auth", auth | {N + "auth-secret": "nothing"}),
        app("invalid.auth", auth | {N + "auth-secret": "garbage"}),
        nginx_compat=True,
    )
    assert sorted(problem.severity for problem in translation.problems) == ["error"] * 4
    assert proxy.request("none.auth").status == 200
    challenge = proxy.request("auth.auth")
    assert challenge.status == 401
    assert challenge.headers["www-authenticate"] == 'Basic realm="test auth"'
    assert proxy.request("auth.auth", headers=basic("alice", "wrong")).status == 401
    assert proxy.request("auth.auth", headers=basic("alice", PASSWORD)).status == 200
    # Documented difference: nginx answers 503 for a missing Secret; both fail closed.
    assert proxy.request("missing.auth", headers=basic("alice", PASSWORD)).status == 401
    assert proxy.request("invalid.auth", headers=basic("foo", "bar")).status == 401


def test_canary_by_cookie_and_header_values(proxy: CompatProxy) -> None:
    canary = ingress(
        "cookie",
        rule("cookie.canary", path("/", "two")),
        annotations={
            N + "canary": "true",
            N + "canary-by-cookie": "Canary-By-Cookie",
            N + "canary-by-header": "CanaryByHeader",
            N + "canary-by-header-value": "DoCanary",
        },
    )
    proxy.serve(main_of("cookie.canary"), canary, nginx_compat=True)

    def backend(**headers: str) -> str | None:
        return proxy.request("cookie.canary", headers=headers).backend

    assert backend(Cookie="Canary-By-Cookie=always") == "two"
    assert backend(Cookie="Canary-By-Cookie=never") == "one"
    assert backend(Cookie="Canary-By-Cookie=badcookievalue") == "one"
    assert backend(CanaryByHeader="DoCanary") == "two"
    assert backend(CanaryByHeader="DontCanary", Cookie="Canary-By-Cookie=always") == "two"
    assert backend() == "one"
    assert proxy.request("other.canary").status == 404


def test_limit_connections(proxy: CompatProxy) -> None:
    """A request in progress (its body still coming) holds the one connection allowed."""
    proxy.serve(app("conn.test", {N + "limit-connections": "1"}), nginx_compat=True)
    with socket.create_connection(("127.0.0.1", proxy.pipeline.port), timeout=5) as held:
        held.sendall(b"POST / HTTP/1.1\r\nHost: conn.test\r\nContent-Length: 10\r\n\r\nabc")
        time.sleep(0.3)  # HAProxy takes the held request in before the others
        assert any(proxy.request("conn.test").status == 503 for _ in range(20))
        held.sendall(b"defghij")
        assert held.recv(65536).startswith(b"HTTP/1.1 200")
    assert any(proxy.request("conn.test").status == 200 for _ in range(20))


def test_rate_limits_count_each_client_behind_a_trusted_proxy(proxy: CompatProxy) -> None:
    """ingress-nginx with use-forwarded-headers limits each client, not the load balancer."""
    proxy.global_config = {"trusted-proxy-cidrs": "127.0.0.1/32"}
    try:
        proxy.serve(app("rps.behind", {N + "limit-rps": "2"}), nginx_compat=True)

        def statuses(client: str) -> list[int]:
            forwarded = {"X-Forwarded-For": client}
            return [proxy.request("rps.behind", headers=forwarded).status for _ in range(3)]

        assert statuses("10.0.0.1") == [200, 200, 503]
        assert statuses("10.0.0.2") == [200, 200, 503]
        assert proxy.request("rps.behind", headers={"X-Forwarded-For": "junk"}).status == 403
    finally:
        proxy.global_config = {}
