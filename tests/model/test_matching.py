"""Matching: rule hosts and paths, host keys, and the lookup table HAProxy's maps hold.

Request-level tests go manifests -> translate() -> build_table() -> lookup(),
the Python twin of the rendered HAProxy map logic.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ingress_ctl.model.matching import (
    _ASCII_LOWER,
    _HOST,
    ANY_HOST,
    WHOLE_PATH,
    Table,
    _host_matches,
    _is_ip,
    _libc_reads_as_ip,
    ascii_lower,
    build_table,
    host_key,
    lookup,
    parse_host,
    parse_path,
    prefix_base,
    route_entries,
)
from ingress_ctl.model.routing import ObjectRef, PathType, Route, Routing, VirtualHost
from tests.manifests import ingress, path, rule, run, service, service_port, where

# --- parse_host ---------------------------------------------------------------


@given(st.text() | st.from_regex(r"[A-Za-z\u212a\u0130]{0,20}", fullmatch=True))
def test_ascii_lower_is_the_table_on_any_text(text: str) -> None:
    """The fast form (`str.lower` on ASCII text) lowers exactly as the table does."""
    assert ascii_lower(text) == text.translate(_ASCII_LOWER)


NUMBERS_AND_DOTS = st.from_regex(
    r"(0x[0-9a-fA-F]{0,9}|[0-9]{1,11}|[0-9a-fx]{1,4})(\.(0x[0-9a-f]{0,4}|[0-9]{1,4}|[a-fx0-9]{1,3})){0,4}",
    fullmatch=True,
)


@given(NUMBERS_AND_DOTS | st.from_regex(_HOST, fullmatch=True))
def test_is_ip_asks_libc_only_of_names_that_can_be_numbers(raw: str) -> None:
    """The shortcut (a character no number holds) gives libc's answer on every DNS name."""
    host = ascii_lower(raw)
    if _HOST.fullmatch(host):
        assert _is_ip(host) == _libc_reads_as_ip(host)


LABEL_LIKE = st.sampled_from(["a" * 62, "b" * 63, "c" * 64, "-", "x-", "-x", "*", "0", "é", ""])
HOST_LIKE = (
    st.from_regex(_HOST, fullmatch=True)
    | st.text(alphabet="az09-.*_A\n \u00e9\u212a", max_size=40)
    | st.lists(LABEL_LIKE, min_size=1, max_size=4).map(".".join)
)


@example("c" * 64)
@example("*.a.*.b")
@example("*.*.a")
@example("a.b\n")
@settings(max_examples=300)
@given(HOST_LIKE | HOST_LIKE.map(lambda host: host + "\n"))
def test_the_host_check_is_the_python_pattern(host: str) -> None:
    """pydantic-core's engine accepts exactly what `_HOST.fullmatch` accepts (a trailing
    newline, a label of 64 characters, a wildcard inside included)."""
    assert _host_matches(host) == bool(_HOST.fullmatch(host))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("foo.com", "foo.com"),
        ("FOO.Example.COM", "foo.example.com"),
        ("*.foo.com", "*.foo.com"),
        ("*.Foo.COM", "*.foo.com"),
        ("localhost", "localhost"),
        ("a-b.c-d.example", "a-b.c-d.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("0.example.com", "0.example.com"),
        ("*.1.2.3", "*.1.2.3"),
        ("a" * 63 + ".com", "a" * 63 + ".com"),
    ],
)
def test_parse_host_accepts(raw: str, expected: str) -> None:
    assert parse_host(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "is not a DNS name"),
        ("*", "is not a DNS name"),
        ("*.", "is not a DNS name"),
        ("**.foo.com", "is not a DNS name"),
        ("*foo.com", "is not a DNS name"),
        ("foo.*.com", "is not a DNS name"),
        ("*.*.foo.com", "is not a DNS name"),
        ("foo.com.", "is not a DNS name"),
        (".foo.com", "is not a DNS name"),
        ("foo..com", "is not a DNS name"),
        ("-foo.com", "is not a DNS name"),
        ("foo-.com", "is not a DNS name"),
        ("foo_bar.com", "is not a DNS name"),
        ("foo com", "is not a DNS name"),
        (" foo.com", "is not a DNS name"),
        ('foo"com', "is not a DNS name"),
        ("foo'com", "is not a DNS name"),
        ("foo.com\n", "is not a DNS name"),
        ("foo.com\nbar.com", "is not a DNS name"),
        ("foo.com\x00", "is not a DNS name"),
        ("foo.com:80", "is not a DNS name"),
        ("foo.com/path", "is not a DNS name"),
        ("user@foo.com", "is not a DNS name"),
        ("@", "is not a DNS name"),
        ("#foo", "is not a DNS name"),
        ("::1", "is not a DNS name"),
        ("[::1]", "is not a DNS name"),
        ("fóó.com", "is not a DNS name"),
        ("\u212aube.example.com", "is not a DNS name"),  # Kelvin sign lowercases to "k"
        ("a" * 64 + ".com", "is not a DNS name"),
        (".".join(["a" * 63] * 4) + ".com", "is not a DNS name"),  # 258 characters
        ("1.2.3.4", "is an IP address"),
        ("127.0.0.1", "is an IP address"),
        ("10.0.0", "is an IP address"),
    ],
)
def test_parse_host_rejects(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_host(raw)


# --- parse_path -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, "/"),
        ("", "/"),
        ("/", "/"),
        ("/foo", "/foo"),
        ("/foo/", "/foo/"),
        ("/Foo/Bar", "/Foo/Bar"),
        ("/.well-known/acme-challenge", "/.well-known/acme-challenge"),
        ("/foo.", "/foo."),
        ("/a..b", "/a..b"),
        ("/~user/a-b_c", "/~user/a-b_c"),
        ("/a;b=c,d", "/a;b=c,d"),
        ("/a:b@c", "/a:b@c"),
        ("/%41%42", "/%41%42"),
        ("/" + "a" * 2047, "/" + "a" * 2047),
    ],
)
def test_parse_path_accepts(raw: str | None, expected: str) -> None:
    assert parse_path(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("foo", "must start with '/'"),
        ("foo/bar", "must start with '/'"),
        ("*", "must start with '/'"),
        ("/foo bar", "URL path characters"),
        ("/foo\tbar", "URL path characters"),
        ("/foo\n", "URL path characters"),
        ("/foo\r\nX-Evil: 1", "URL path characters"),
        ("/foo\x00", "URL path characters"),
        ("/foo?x=1", "URL path characters"),
        ("/foo#frag", "URL path characters"),
        ('/a"b', "URL path characters"),
        ("/a'b", "URL path characters"),
        ("/a\\b", "URL path characters"),
        ("/a<b>", "URL path characters"),
        ("/a{b}", "URL path characters"),
        ("/é", "URL path characters"),
        ("/caf\u00e9", "URL path characters"),
        ("/" + "a" * 2048, "URL path characters"),
        ("//", "must not contain '//'"),
        ("//foo", "must not contain '//'"),
        ("/foo//bar", "must not contain '//'"),
        ("/a/../b", "must not contain '/../'"),
        ("/../etc", "must not contain '/../'"),
        ("/a/./b", "must not contain '/./'"),
        ("/a%2fb", "must not contain '%2f'"),
        ("/a%2Fb", "must not contain '%2F'"),
        ("/..", "must not end with a dot segment"),
        ("/a/..", "must not end with a dot segment"),
        ("/.", "must not end with a dot segment"),
        ("/a/.", "must not end with a dot segment"),
    ],
)
def test_parse_path_rejects(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_path(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("/", ""), ("/foo", "/foo"), ("/foo/", "/foo"), ("/aaa/bbb/", "/aaa/bbb")],
)
def test_prefix_base_drops_the_trailing_slash(raw: str, expected: str) -> None:
    assert prefix_base(raw) == expected


# --- host_key -------------------------------------------------------------------

HOSTS = {"foo.com", "*.foo.com", "*.com", ANY_HOST}


@pytest.mark.parametrize(
    ("request_host", "hosts", "expected"),
    [
        ("foo.com", HOSTS, "foo.com"),
        ("FOO.Com", HOSTS, "foo.com"),
        ("foo.com:8080", HOSTS, "foo.com"),
        ("FOO.COM:443", HOSTS, "foo.com"),
        ("bar.foo.com", HOSTS, "*.foo.com"),
        ("Bar.FOO.com:80", HOSTS, "*.foo.com"),
        ("baz.bar.foo.com", HOSTS, ANY_HOST),
        ("other.com", HOSTS, "*.com"),
        ("foo.org", HOSTS, ANY_HOST),
        ("foo", HOSTS, ANY_HOST),
        ("", HOSTS, ANY_HOST),
        (":80", HOSTS, ANY_HOST),
        ("[::1]:80", HOSTS, ANY_HOST),
        ("foo.com.", HOSTS, ANY_HOST),
        ("*.foo.com", HOSTS, "*.foo.com"),
        ("bar.foo.com", {"foo.com"}, ANY_HOST),
        ("foo.com", {"*.foo.com"}, ANY_HOST),
        ("foo.com", set(), ANY_HOST),
        # HAProxy's `lower` only folds ASCII: the Kelvin sign must not become "k".
        ("\u212a.foo.com", {"k.foo.com"}, ANY_HOST),
    ],
)
def test_host_key(request_host: str, hosts: set[str], expected: str) -> None:
    assert host_key(request_host=request_host, hosts=hosts) == expected


# --- build_table / lookup on a hand-made Routing ------------------------------------

SOURCE = ObjectRef(kind="Ingress", namespace="default", name="x")


def _route(host: str, route_path: str, kind: PathType, backend: str) -> Route:
    return Route(
        host=host, path=route_path, path_type=kind, backend=backend, source=SOURCE, rule="r"
    )


ROUTING = Routing(
    hosts=(
        VirtualHost(
            host="",
            routes=(_route("", "/", PathType.PREFIX, "be_any"),),
        ),
        VirtualHost(
            host="foo.com",
            routes=(
                _route("foo.com", "/a", PathType.PREFIX, "be_a"),
                _route("foo.com", "/a", PathType.EXACT, "be_a_exact"),
                _route("foo.com", "/a/b/", PathType.PREFIX, "be_ab"),
                _route("foo.com", "/c/", PathType.EXACT, "be_c"),
            ),
            default_backend="be_foo_default",
        ),
        VirtualHost(host="*.foo.com", routes=(_route("*.foo.com", "/", PathType.PREFIX, "be_w"),)),
    ),
    default_backend="builtin_404",
    default_source="built-in 404",
)


def test_build_table_contents() -> None:
    table = build_table(ROUTING)
    assert {key: route.backend for key, route in table.exact.items()} == {
        "foo.com/a": "be_a_exact",  # Exact written after the Prefix: it wins the tie
        "foo.com/a/b": "be_ab",
        "foo.com/c/": "be_c",
    }
    assert [(key, route.backend) for key, route in table.prefix] == [
        ("foo.com/a/b/", "be_ab"),
        ("*.foo.com/", "be_w"),
        ("foo.com/a/", "be_a"),
        ("@/", "be_any"),
    ]
    assert table.hosts == {
        "@": "builtin_404",
        "foo.com": "be_foo_default",
        "*.foo.com": "builtin_404",
    }


def test_build_table_is_deterministic() -> None:
    assert build_table(ROUTING) == build_table(ROUTING)


ROUTES = [route for vhost in ROUTING.hosts for route in vhost.routes]
KEYS = st.text(alphabet="ab/", max_size=4)


@given(
    st.dictionaries(KEYS, st.sampled_from(ROUTES)),
    st.lists(st.tuples(KEYS, st.sampled_from(ROUTES))),
)
def test_route_entries_are_longest_first_then_by_key_equal_keys_in_table_order(
    exact: dict[str, Route], prefix: list[tuple[str, Route]]
) -> None:
    entries = [(key + WHOLE_PATH, route) for key, route in exact.items()] + prefix
    expected = sorted(entries, key=lambda item: (-len(item[0]), item[0]))
    assert route_entries(Table(exact=exact, prefix=list(prefix))) == expected


@pytest.mark.parametrize(
    ("host", "request_path", "key", "backend", "route_path", "reason"),
    [
        ("foo.com", "/a", "foo.com", "be_a_exact", "/a", "exact path '/a'"),
        ("foo.com", "/a?x=1", "foo.com", "be_a_exact", "/a", "exact path '/a'"),
        ("foo.com", "/a/", "foo.com", "be_a", "/a", "longest prefix '/a'"),
        ("foo.com", "/a/x", "foo.com", "be_a", "/a", "longest prefix '/a'"),
        ("foo.com", "/a/b", "foo.com", "be_ab", "/a/b/", "prefix equal to the path '/a/b/'"),
        ("foo.com", "/a/b/c", "foo.com", "be_ab", "/a/b/", "longest prefix '/a/b/'"),
        ("foo.com", "/c/", "foo.com", "be_c", "/c/", "exact path '/c/'"),
        (
            "foo.com",
            "/c",
            "foo.com",
            "be_foo_default",
            None,
            "no path matched: the host's default backend",
        ),
        (
            "foo.com",
            "/ab",
            "foo.com",
            "be_foo_default",
            None,
            "no path matched: the host's default backend",
        ),
        ("x.foo.com", "/anything", "*.foo.com", "be_w", "/", "longest prefix '/'"),
        ("x.y.foo.com", "/a", "@", "be_any", "/", "longest prefix '/'"),
        ("bar.com", "/", "@", "be_any", "/", "longest prefix '/'"),
    ],
)
def test_lookup_explains(
    host: str,
    request_path: str,
    key: str,
    backend: str,
    route_path: str | None,
    reason: str,
) -> None:
    match = lookup(build_table(ROUTING), routing=ROUTING, host=host, path=request_path)
    assert (match.host_key, match.backend, match.reason) == (key, backend, reason)
    assert (match.route.path if match.route else None) == route_path


def test_lookup_without_any_host_rules_uses_the_controller_default() -> None:
    routing = Routing(
        hosts=(
            VirtualHost(host="foo.com", routes=(_route("foo.com", "/", PathType.PREFIX, "be"),)),
        ),
        default_backend="be_fallback",
        default_source="--default-backend-service",
    )
    match = lookup(build_table(routing), routing=routing, host="bar.com", path="/")
    assert (match.host_key, match.route, match.backend, match.reason) == (
        ANY_HOST,
        None,
        "be_fallback",
        "no host matched: --default-backend-service",
    )


# --- The Kubernetes documentation's path matching examples ------------------------
#
# https://kubernetes.io/docs/concepts/services-networking/ingress/#examples
# Each case lists the rule paths (kind, path); the expected value is the index
# of the path that serves the request, or None for the default backend.

P, E, I = "Prefix", "Exact", "ImplementationSpecific"

DOCS_EXAMPLES = [
    # Kind    Path(s)                                    Request      Matches?
    ("prefix-root-all", [(P, "/")], "/", 0),
    ("prefix-root-all", [(P, "/")], "/foo", 0),
    ("prefix-root-all", [(P, "/")], "/foo/bar/baz", 0),
    ("prefix-root-all", [(P, "/")], "/foo/", 0),
    ("exact-same", [(E, "/foo")], "/foo", 0),
    ("exact-other", [(E, "/foo")], "/bar", None),
    ("exact-no-trailing-slash", [(E, "/foo")], "/foo/", None),
    ("exact-slash-vs-none", [(E, "/foo/")], "/foo", None),
    ("prefix-foo", [(P, "/foo")], "/foo", 0),
    ("prefix-foo", [(P, "/foo")], "/foo/", 0),
    ("prefix-foo-slash", [(P, "/foo/")], "/foo", 0),
    ("prefix-foo-slash", [(P, "/foo/")], "/foo/", 0),
    ("prefix-not-string-prefix", [(P, "/aaa/bb")], "/aaa/bbb", None),
    ("prefix-same", [(P, "/aaa/bbb")], "/aaa/bbb", 0),
    ("prefix-ignores-trailing-slash", [(P, "/aaa/bbb/")], "/aaa/bbb", 0),
    ("prefix-matches-trailing-slash", [(P, "/aaa/bbb")], "/aaa/bbb/", 0),
    ("prefix-matches-subpath", [(P, "/aaa/bbb")], "/aaa/bbb/ccc", 0),
    ("prefix-not-string-prefix", [(P, "/aaa/bbb")], "/aaa/bbbxyz", None),
    ("prefix-longest", [(P, "/"), (P, "/aaa")], "/aaa/ccc", 1),
    ("prefix-longest", [(P, "/"), (P, "/aaa"), (P, "/aaa/bbb")], "/aaa/bbb", 2),
    ("prefix-longest", [(P, "/"), (P, "/aaa"), (P, "/aaa/bbb")], "/ccc", 0),
    ("prefix-default-backend", [(P, "/aaa")], "/ccc", None),
    ("mixed-exact-wins", [(P, "/foo"), (E, "/foo")], "/foo", 1),
    # Same cases, paths listed in the other order: order in the manifest is irrelevant.
    ("prefix-longest-reversed", [(P, "/aaa/bbb"), (P, "/aaa"), (P, "/")], "/aaa/bbb", 0),
    ("prefix-longest-reversed", [(P, "/aaa/bbb"), (P, "/aaa"), (P, "/")], "/aaa/x", 1),
    ("prefix-longest-reversed", [(P, "/aaa/bbb"), (P, "/aaa"), (P, "/")], "/ccc", 2),
    ("mixed-exact-wins-reversed", [(E, "/foo"), (P, "/foo")], "/foo", 0),
    ("mixed-prefix-below-exact", [(P, "/foo"), (E, "/foo")], "/foo/", 0),
    ("mixed-prefix-below-exact", [(P, "/foo"), (E, "/foo")], "/foo/x", 0),
    # ImplementationSpecific is Prefix (our documented choice).
    ("implementation-specific", [(I, "/foo")], "/foo", 0),
    ("implementation-specific", [(I, "/foo")], "/foo/bar", 0),
    ("implementation-specific", [(I, "/foo")], "/foobar", None),
    ("implementation-specific", [(I, "/foo/")], "/foo", 0),
    # Longest match across kinds; a longer Exact beats a shorter Prefix.
    ("exact-longer-than-prefix", [(P, "/foo"), (E, "/foo/bar")], "/foo/bar", 1),
    ("exact-longer-than-prefix", [(P, "/foo"), (E, "/foo/bar")], "/foo/bar/", 0),
    ("exact-longer-than-prefix", [(P, "/foo"), (E, "/foo/bar")], "/foo/barx", 0),
    ("prefix-longer-than-exact", [(E, "/foo"), (P, "/foo/bar")], "/foo/bar/x", 1),
    ("exact-slash-and-prefix", [(P, "/foo"), (E, "/foo/")], "/foo/", 1),
    ("exact-slash-and-prefix", [(P, "/foo"), (E, "/foo/")], "/foo", 0),
    ("exact-root", [(E, "/")], "/", 0),
    ("exact-root", [(E, "/")], "/foo", None),
    # Paths are case-sensitive; the query string is ignored.
    ("case-sensitive", [(E, "/Foo")], "/foo", None),
    ("case-sensitive", [(P, "/foo")], "/FOO", None),
    ("case-sensitive", [(P, "/foo")], "/Foo/bar", None),
    ("query-ignored", [(E, "/foo")], "/foo?x=1", 0),
    ("query-ignored", [(E, "/foo")], "/foo?", 0),
    ("query-ignored", [(P, "/foo")], "/foo?/bar", 0),
    ("query-ignored", [(E, "/foo/")], "/foo?x=/", None),
    ("query-ignored", [(P, "/aaa/bbb")], "/aaa/bbbxyz?/", None),
]


def _service_name(index: int) -> str:
    return f"p{index}"


@pytest.mark.parametrize("rule_host", ["foo.com", None])
@pytest.mark.parametrize(
    ("case", "paths", "request_path", "expected"),
    DOCS_EXAMPLES,
    ids=[f"{case}:{request}" for case, _, request, _ in DOCS_EXAMPLES],
)
def test_kubernetes_path_examples(
    case: str,
    paths: list[tuple[str, str]],
    request_path: str,
    expected: int | None,
    rule_host: str | None,
) -> None:
    manifests = [
        ingress(
            "docs",
            rule(
                rule_host,
                *(path(p, _service_name(i), 80, kind) for i, (kind, p) in enumerate(paths)),
            ),
        ),
        *(service(_service_name(i), service_port(80)) for i in range(len(paths))),
    ]
    translation = run(*manifests)
    assert translation.problems == ()
    wanted = "builtin_404" if expected is None else f"be_default_{_service_name(expected)}_80"
    assert where(translation, "foo.com", request_path) == wanted


# --- Hosts, end to end ------------------------------------------------------------

HOST_RULES = [
    ingress(
        "hosts",
        rule("foo.com", path("/", "exact-host")),
        rule("*.foo.com", path("/", "wildcard")),
        rule("Mixed.Case.ORG", path("/", "mixed")),
        rule(None, path("/", "any-host")),
    )
]


@pytest.mark.parametrize(
    ("request_host", "backend"),
    [
        ("foo.com", "exact-host"),
        ("FOO.COM", "exact-host"),
        ("Foo.Com", "exact-host"),
        ("foo.com:8080", "exact-host"),
        ("foo.com:", "exact-host"),
        ("bar.foo.com", "wildcard"),
        ("BAR.foo.COM", "wildcard"),
        ("bar.foo.com:443", "wildcard"),
        ("x-1.foo.com", "wildcard"),
        ("baz.bar.foo.com", "any-host"),
        ("a.b.c.foo.com", "any-host"),
        ("xfoo.com", "any-host"),
        ("foo.com.evil.org", "any-host"),
        ("foo.com.", "any-host"),
        ("mixed.case.org", "mixed"),
        ("MIXED.CASE.ORG:80", "mixed"),
        ("other.org", "any-host"),
        ("", "any-host"),
        ("1.2.3.4", "any-host"),
        ("1.2.3.4:80", "any-host"),
    ],
)
def test_hosts_exact_wildcard_any(request_host: str, backend: str) -> None:
    translation = run(*HOST_RULES)
    assert where(translation, request_host, "/x") == f"be_default_{backend}_80"


def test_wildcard_does_not_match_its_apex_nor_deeper_names() -> None:
    translation = run(ingress("w", rule("*.foo.com", path("/", "wildcard"))))
    assert [
        where(translation, host, "/")
        for host in ("bar.foo.com", "foo.com", "baz.bar.foo.com", "bar.foo.org")
    ] == ["be_default_wildcard_80", "builtin_404", "builtin_404", "builtin_404"]


@pytest.mark.parametrize(
    ("request_host", "request_path", "backend"),
    [
        # foo.com owns its requests even where only the wildcard has a path ...
        ("foo.com", "/api/x", "be_default_api_80"),
        ("foo.com", "/other", "builtin_404"),
        ("bar.foo.com", "/other", "be_default_wildcard_80"),
        ("bar.foo.com", "/api", "be_default_wildcard_80"),
        # ... and the wildcard owns its names even where only any-host rules have a path.
        ("bar.foo.com", "/any", "be_default_wildcard_80"),
        ("elsewhere.org", "/any", "be_default_any_80"),
        ("elsewhere.org", "/api", "builtin_404"),
    ],
)
def test_most_specific_host_key_owns_the_request(
    request_host: str, request_path: str, backend: str
) -> None:
    translation = run(
        ingress(
            "owner",
            rule("foo.com", path("/api", "api")),
            rule("*.foo.com", path("/", "wildcard")),
            rule(None, path("/any", "any")),
        )
    )
    assert where(translation, request_host, request_path) == backend


def test_host_key_owns_even_with_a_host_default_elsewhere() -> None:
    translation = run(
        ingress(
            "api",
            rule("foo.com", path("/api", "api")),
            default={"service": {"name": "foo-default", "port": {"number": 80}}},
        ),
        ingress("wild", rule("*.foo.com", path("/", "wildcard")), minute=5),
    )
    assert where(translation, "foo.com", "/nope") == "be_default_foo-default_80"
    assert where(translation, "x.foo.com", "/nope") == "be_default_wildcard_80"
