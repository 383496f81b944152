"""Every annotation's parser, by table: valid text -> typed value, invalid text -> the reason.

Every registered key has rows here (a test fails for a key without them), and
every refused value is refused with a reason that names what is wrong.
"""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest

from ingress_ctl.annotations import auth, reading
from ingress_ctl.annotations.cors import Origins
from ingress_ctl.annotations.registry import PREFIX, REGISTRY, Reader, clean
from ingress_ctl.model.policies import (
    Balance,
    Canary,
    HashKey,
    Header,
    PathRewrite,
    Protocol,
    SameSite,
)
from ingress_ctl.model.routing import ProxyProtocol

P = PREFIX
VALID: dict[str, list[tuple[str, Any]]] = {
    P + "ssl-redirect": [("true", True), ("FALSE", False)],
    P + "ssl-passthrough": [("true", True)],
    P + "hsts": [("false", False)],
    P + "hsts-max-age": [("0", 0), ("31536000", 31536000)],
    P + "hsts-include-subdomains": [("true", True)],
    P + "hsts-preload": [("true", True)],
    P + "send-proxy-protocol": [("v1", ProxyProtocol.V1), ("v2", ProxyProtocol.V2)],
    P + "timeout-connect": [("500ms", 500), ("5s", 5000), ("2m", 120000)],
    P + "timeout-server": [("30s", 30000), ("1500", 1500), ("1h", 3_600_000)],
    P + "timeout-queue": [("10s", 10000)],
    P + "timeout-tunnel": [("1d", 86_400_000)],
    P + "load-balance": [(b.value, b) for b in Balance],
    P + "pod-maxconn": [("1", 1), ("1000000", 1_000_000)],
    P + "affinity": [("cookie", "cookie"), ("none", "none")],
    P + "session-cookie-name": [("SERVERID", "SERVERID"), ("a.b-c_d", "a.b-c_d")],
    P + "session-cookie-path": [("/app", "/app")],
    P + "session-cookie-domain": [(".Example.com", "example.com")],
    P + "session-cookie-max-age": [("3600s", 3600), ("48h", 172800)],
    P + "session-cookie-samesite": [("lax", SameSite.LAX), ("None", SameSite.NONE)],
    P + "session-cookie-secure": [("true", True)],
    P + "session-cookie-httponly": [("false", False)],
    P + "backend-protocol": [(p.value, p) for p in Protocol],
    P + "backend-ca-secret": [("ca", (None, "ca")), ("team-a/ca.v1", ("team-a", "ca.v1"))],
    P + "health-check-path": [("/healthz", "/healthz")],
    P + "health-check-interval": [("5s", 5000)],
    P + "health-check-status": [("204", 204)],
    P + "allow-list": [
        ("10.0.0.0/8, 192.0.2.7", (ip_network("10.0.0.0/8"), ip_network("192.0.2.7/32"))),
        ("2001:db8::/32", (ip_network("2001:db8::/32"),)),
    ],
    P + "deny-list": [("10.1.2.3/8", (ip_network("10.0.0.0/8"),))],
    P + "auth-type": [("basic", "basic")],
    P + "auth-secret": [("users", (None, "users"))],
    P + "auth-realm": [("My Realm (staff)", "My Realm (staff)")],
    P + "rate-limit-requests": [("100", 100)],
    P + "rate-limit-period": [("1s", 1000), ("1m", 60000)],
    P + "rate-limit-connections": [("10", 10)],
    P + "rate-limit-status-code": [("429", 429), ("503", 503)],
    P + "proxy-body-size": [("512", 512), ("10m", 10 * 2**20), ("1G", 2**30), ("8K", 8192)],
    P + "rewrite-target": [("/", "/"), ("/v2/", "/v2/"), ("/a;b", "/a;b")],
    P + "path-rewrite": [
        (r"^/api/(.*) /v1/\1", PathRewrite(regex="^/api/(.*)", replacement=r"/v1/\1")),
        (r"^/(\d+)/(?:x|y)$ /n/\1", PathRewrite(regex=r"^/(\d+)/(?:x|y)$", replacement=r"/n/\1")),
    ],
    P + "request-set-header": [
        ("X-Env prod", (Header(name="x-env", value="prod"),)),
        ("X-A: a b\n\nX-B 1", (Header(name="x-a", value="a b"), Header(name="x-b", value="1"))),
    ],
    P + "request-add-header": [("X-Via edge", (Header(name="x-via", value="edge"),))],
    P + "request-del-header": [("X-A, x-b\nX-C", ("x-a", "x-b", "x-c"))],
    P + "response-set-header": [
        ("Cache-Control no-store", (Header(name="cache-control", value="no-store"),))
    ],
    P + "response-add-header": [
        ("X-Frame-Options DENY", (Header(name="x-frame-options", value="DENY"),))
    ],
    P + "response-del-header": [("Server", ("server",))],
    P + "upstream-vhost": [
        ("API.internal", "api.internal"),
        ("10.0.0.1:8080", "10.0.0.1:8080"),
        ("[::1]:80", "[::1]:80"),
    ],
    P + "cors-enable": [("true", True)],
    P + "cors-allow-origin": [
        ("*", Origins(("*",))),
        ("*, https://a.com", Origins(("*",))),
        (
            "https://a.example.com, http://B.example.com:8080",
            Origins(("https://a.example.com", "http://b.example.com:8080")),
        ),
        (
            "https://*.Example.com:8443, tauri://localhost",
            Origins(("https://*.example.com:8443", "tauri://localhost")),
        ),
        (
            "a.com, https://b.com, null",
            Origins(
                ("https://b.com",),
                (
                    "'a.com' is not an origin like https://a.example.com[:port]",
                    "'null' is refused: every sandboxed page and local file sends Origin: null",
                ),
            ),
        ),
    ],
    P + "cors-allow-methods": [("get, POST", ("GET", "POST"))],
    P + "cors-allow-headers": [
        ("*", ("*",)),
        ("X-Token, Content-Type", ("x-token", "content-type")),
    ],
    P + "cors-expose-headers": [("X-Total", ("x-total",))],
    P + "cors-allow-credentials": [("false", False)],
    P + "cors-max-age": [("600", 600)],
    P + "redirect": [
        ("https://example.com", "https://example.com"),
        ("http://Example.com:8080/a/b?x=1&y=2", "http://example.com:8080/a/b?x=1&y=2"),
    ],
    P + "redirect-code": [("301", 301), ("308", 308)],
    P + "app-root": [("/app", "/app")],
    P + "from-to-www-redirect": [("true", True)],
    P + "canary": [("true", True)],
    P + "canary-weight": [("0", 0), ("100", 100)],
    P + "canary-by-header": [("X-Canary", "x-canary")],
    P + "canary-by-header-value": [("beta users", "beta users")],
    P + "canary-by-cookie": [("canary", "canary")],
    P + "affinity-canary-behavior": [("sticky", "sticky"), ("legacy", "legacy")],
    P + "canary-weight-total": [("200", 200)],
    P + "canary-by-header-pattern": [("^beta-.*$", "^beta-.*$"), ("(v1|v2)?x", "(v1|v2)?x")],
    P + "auth-secret-type": [("auth-map", "auth-map"), ("auth-file", "auth-file")],
    P + "hash-by": [
        ("$request_uri", HashKey(source="uri")),
        ("$binary_remote_addr", HashKey(source="source")),
        ("$http_x_user_id", HashKey(source="header", name="x-user-id")),
        ("$cookie_session", HashKey(source="cookie", name="session")),
        ("$arg_user", HashKey(source="param", name="user")),
    ],
    P + "custom-headers": [("headers", (None, "headers")), ("apps/headers", ("apps", "headers"))],
}

INVALID: dict[str, list[tuple[str, str]]] = {
    P + "ssl-redirect": [("yes", "not true or false")],
    P + "ssl-passthrough": [("1", "not true or false")],
    P + "hsts": [("on", "not true or false")],
    P + "hsts-max-age": [("-1", "not a whole number")],
    P + "hsts-include-subdomains": [("", "not true or false")],
    P + "hsts-preload": [("x", "not true or false")],
    P + "send-proxy-protocol": [("v3", "not one of v1, v2")],
    P + "timeout-connect": [("5 s", "not a duration"), ("0s", "between 1ms")],
    P + "timeout-server": [("30y", "not a duration"), ("99999999999", "not a duration")],
    P + "timeout-queue": [("-1s", "not a duration")],
    P + "timeout-tunnel": [("25d", "between 1ms")],
    P + "load-balance": [("static-rr", "not one of roundrobin"), ("RoundRobin", "not one of")],
    P + "pod-maxconn": [("0", "between 1"), ("1e3", "not a whole number")],
    P + "affinity": [("ip", "not one of cookie, none")],
    P + "session-cookie-name": [
        ("a b", "not a cookie name"),
        ("a%b", "not a cookie name"),
        ("a'b", "not a cookie name"),
    ],
    P + "session-cookie-path": [
        ("app", "must start with '/'"),
        ("/a%20b", "holds %"),
        ("/;Domain=evil.example", "holds ; or ,"),
    ],
    P + "session-cookie-domain": [
        ("*.example.com", "wildcard"),
        ("exa mple.com", "not a DNS name"),
    ],
    P + "session-cookie-max-age": [("1500", "whole number of seconds")],
    P + "session-cookie-samesite": [("lenient", "not one of Strict, Lax, None")],
    P + "session-cookie-secure": [("maybe", "not true or false")],
    P + "session-cookie-httponly": [("no", "not true or false")],
    P + "backend-protocol": [("grpc", "not one of http, https, h2, h2c"), ("HTTP", "not one of")],
    P + "backend-ca-secret": [("a/b/c", "not a Secret name"), ("CA", "not a Secret name")],
    P + "health-check-path": [("/he alth", "must start with '/'")],
    P + "health-check-interval": [("fast", "not a duration")],
    P + "health-check-status": [("99", "between 100 and 599"), ("2xx", "not a whole number")],
    P + "allow-list": [
        ("10.0.0.0/33", "not an IP network"),
        (",", "names no network"),
        ("fe80::1%eth0", "not an IP network"),
    ],
    P + "deny-list": [("everyone", "not an IP network")],
    P + "auth-type": [("digest", "not one of basic")],
    P + "auth-secret": [("../etc", "not a Secret name")],
    P + "auth-realm": [
        ('say "hi"', "quotes"),
        ("100%", "%"),
        ("back\\slash", "backslash"),
        ("caf\u00e9", "printable ASCII"),
    ],
    P + "rate-limit-requests": [("0", "between 1"), ("ten", "not a whole number")],
    P + "rate-limit-period": [("500ms", "between 1s and 1d"), ("2d", "between 1s and 1d")],
    P + "rate-limit-connections": [("0", "between 1")],
    P + "rate-limit-status-code": [("418", "not one of 400"), ("200", "not one of 400")],
    P + "proxy-body-size": [
        ("0", "between 1 byte"),
        ("10mb", "not a size"),
        ("2048g", "between 1 byte"),
    ],
    P + "rewrite-target": [
        ("v2", "must start with '/'"),
        ("/a/../b", "must not contain"),
        ("/%2e", "%"),
    ],
    P + "path-rewrite": [
        ("^/api/(.*)", "not `<regex> <replacement>`"),
        (r"^/(.*) /\2", "has 1 groups"),
        ("^/(?=a)(.*) /", "only (?: groups"),
        ("(?i)^/a /", "only (?: groups"),
        ("^/(?P<x>.*) /", "not a regular expression of"),
        (r"^/\Qx /", r"\Q is not allowed"),
        ("^/( /", "not a regular expression"),
        ("^/a%20 /", "not a regular expression of"),
        ("^/a /b%41", "no %"),
        ("^/a' /b", "not a regular expression of"),
    ],
    P + "request-set-header": [
        ("X-A", "not `Name value`"),
        ("Content-Length 0", "cannot be edited"),
        ("Host evil", "cannot be edited"),
        ("X-A 100%", "%"),
        ("X(A) b", "not a header name"),
    ],
    P + "request-add-header": [("Transfer-Encoding chunked", "cannot be edited")],
    P + "request-del-header": [("Connection", "cannot be edited"), ("a b", "not a header name")],
    P + "response-set-header": [("X-A 'quoted'", "quotes")],
    P + "response-add-header": [(",", "not `Name value`")],
    P + "response-del-header": [(" , ", "is empty")],
    P + "upstream-vhost": [
        ("a.com:99999", "out of range"),
        ("*.a.com", "wildcard"),
        ("::1", "in brackets"),
        ("a.com/x", "not a DNS name"),
    ],
    P + "cors-enable": [("enable", "not true or false")],
    P + "cors-allow-origin": [
        ("https://a.com/path", "not an origin"),
        ("a.com:8080, *.a.com", "'*.a.com' is not an origin"),
        ("null", "sandboxed"),
        (" , ", "is empty"),
        ("https://*.com", "a wildcard needs a DNS name of two labels"),
        ("https://*.10.0.0.1", "a wildcard needs a DNS name"),
        ("https://a.com:99999", "out of range"),
        ("https://u@a.com", "not an origin"),
    ],
    P + "cors-allow-methods": [("GET;DELETE", "not an HTTP method")],
    P + "cors-allow-headers": [("X-A B", "not a header name")],
    P + "cors-expose-headers": [("X A", "not a header name"), ("X-%ci", "not a header name")],
    P + "cors-allow-credentials": [("1", "not true or false")],
    P + "cors-max-age": [("-5", "not a whole number")],
    P + "redirect": [
        ("/relative", "not an http:// or https:// URL"),
        ("https://user@example.com/", "user information"),
        ("https://example.com/%41", "holds %"),
        ("https://example.com/%[src]", "only URL path characters"),
        ("https://example.com/#frag", "fragment"),
        ("https://exa mple.com/", "not a URL"),
        ("javascript:alert(1)", "not an http:// or https:// URL"),
        ("https://example.com/?q='x'", "not a query"),
    ],
    P + "redirect-code": [("300", "not one of 301"), ("200", "between 300 and 399")],
    P + "app-root": [("app", "must start with '/'")],
    P + "from-to-www-redirect": [("www", "not true or false")],
    P + "canary": [("yes", "not true or false")],
    P + "canary-weight": [("10001", "between 0 and 10000")],
    P + "canary-by-header": [("X Canary", "not a header name")],
    P + "canary-by-header-value": [("a'b", "quotes")],
    P + "canary-by-cookie": [("a=b", "not a cookie name")],
    P + "affinity-canary-behavior": [("Sticky", "not one of sticky, legacy")],
    P + "canary-weight-total": [("0", "not between 1 and 10000")],
    P + "canary-by-header-pattern": [
        ("(a+)+", "repeats a group"),
        ("a.*b.*c+", "more than 2"),
        ("a b", "not a regular expression"),
        ("(?i)a", "only (?: groups"),
    ],
    P + "auth-secret-type": [("htpasswd", "not one of auth-file, auth-map")],
    P + "hash-by": [
        ("$host", "not one of"),
        ("$cookie_a)b", "not one of"),
        ("$http_", "not one of"),
    ],
    P + "custom-headers": [("a/b/c", "not a ConfigMap name")],
}

HOSTILE = ["\n", "a\rb", "a\x00b", "x\n    http-request deny", "\x7f", "a\tb"]
"""Control characters are refused before any parser runs (newlines only split multi-line keys)."""


def parse(key: str, raw: str) -> Any:
    annotation = REGISTRY[key]
    return annotation.parse(clean(raw, multiline=annotation.multiline))


def test_every_annotation_has_table_rows() -> None:
    assert set(VALID) == set(REGISTRY)
    assert set(INVALID) == set(REGISTRY)


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [(k, raw, value) for k, rows in VALID.items() for raw, value in rows],
)
def test_valid_values_parse_to_typed_values(key: str, raw: str, expected: Any) -> None:
    assert parse(key, raw) == expected
    assert parse(key, f"  {raw}\n") == expected  # YAML block scalars end with a newline


@pytest.mark.parametrize(
    ("key", "raw", "reason"), [(k, raw, why) for k, rows in INVALID.items() for raw, why in rows]
)
def test_invalid_values_are_refused_with_the_reason(key: str, raw: str, reason: str) -> None:
    with pytest.raises(ValueError) as error:
        parse(key, raw)
    assert reason in str(error.value), str(error.value)


@pytest.mark.parametrize("key", sorted(REGISTRY))
@pytest.mark.parametrize("raw", HOSTILE)
def test_control_characters_are_refused_everywhere(key: str, raw: str) -> None:
    with pytest.raises(ValueError):
        parse(key, raw)


def test_an_invalid_value_is_an_issue_naming_the_key_and_the_default_applies() -> None:
    found, issues = reading.gather({P + "timeout-server": "soon"}, "Ingress")
    reader = Reader(found)
    assert reading.backend_request(reader).policy.timeouts.server is None
    assert issues == []
    [issue] = reader.issues
    assert issue.field == f"metadata.annotations[{P}timeout-server]"
    assert issue.reason == (
        "'soon' is not a duration like 500ms, 30s, 5m, 1h or 1d; "
        "the default applies (ConfigMap timeout-server)"
    )


def test_canary_settings() -> None:
    found, _ = reading.gather(
        {P + "canary": "true", P + "canary-weight": "20", P + "canary-by-header": "X-Beta"},
        "Ingress",
    )
    request = reading.ingress_request(Reader(found))
    assert request.canary == Canary(weight=20, header="x-beta")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("bob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "Apache's {SHA}"),
        ("bob:$apr1$salt$Zl8EJyOAHNEEqUvp0TzEv.", "Apache's $apr1$"),
        ("bob:abNANd1rDfiNc", "not a bcrypt, SHA-crypt, yescrypt or MD5-crypt hash"),
        ("bob:plain", "not a bcrypt"),
        ("bob pw", "not `user:hash`"),
        ("b'b:$1$saltsalt$9xy1btjgzLYfb7hivXtC//", "not `user:hash`"),
    ],
)
def test_htpasswd_lines_that_haproxy_cannot_check_are_refused(line: str, reason: str) -> None:
    users, refused = auth.htpasswd(
        f"# comment\n\nalice:$1$saltsalt$9xy1btjgzLYfb7hivXtC//\n{line}\n"
    )
    assert [user.name for user in users] == ["alice"]
    [why] = refused
    assert why.startswith("line 4: ") and reason in why


CRYPT_HASHES = {
    "bcrypt-2y": "$2y$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW",
    "bcrypt-2b": "$2b$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW",
    "md5-crypt": "$1$saltsalt$9xy1btjgzLYfb7hivXtC//",
    "sha256-crypt": "$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA",
    "sha512-crypt": "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1",
    "yescrypt": "$y$j9T$saltsaltsaltsalt$.Zt5W26jjocuW0wIHGgB6AJelofw6GEpOypHGyow2y5",
}
"""crypt(3) hashes of `secret` (made with libxcrypt, which HAProxy links)."""


@pytest.mark.parametrize("kind", sorted(CRYPT_HASHES))
def test_htpasswd_takes_every_crypt_format_libxcrypt_checks(kind: str) -> None:
    users, refused = auth.htpasswd(f"u:{CRYPT_HASHES[kind]}")
    assert refused == []
    assert [(user.name, user.hash) for user in users] == [("u", CRYPT_HASHES[kind])]


def test_htpasswd_first_line_of_a_user_wins() -> None:
    users, refused = auth.htpasswd(f"u:{CRYPT_HASHES['md5-crypt']}\nu:{CRYPT_HASHES['bcrypt-2y']}")
    assert [user.hash for user in users] == [CRYPT_HASHES["md5-crypt"]]
    assert refused == ["line 2: user 'u' again; the first line wins"]


ROOT = Path(__file__).resolve().parents[2]


def test_docs_describe_every_annotation() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    text = "\n".join(page.read_text() for page in pages if page.exists())
    missing = [
        key for key in REGISTRY if f"`{key.removeprefix(PREFIX)}`" not in text and key not in text
    ]
    assert missing == []
