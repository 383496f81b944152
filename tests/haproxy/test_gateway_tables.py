"""The Gateway lookup tables answer what the first matching match says (hypothesis), and
the tables' map files and chains for the tricky cases (a table test)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ingress_ctl.haproxy.gateway_tables import (
    Level,
    Request,
    build_port_table,
    first_match,
    host_rank,
    lookup,
    precedence_ordered,
)
from ingress_ctl.model.gateways import GatewayPort, HTTPMatch, ListenerProtocol, ValueMatch
from ingress_ctl.model.routing import ObjectRef, PathType

GATEWAY = ObjectRef(kind="Gateway", namespace="default", name="gw")
ROUTE = ObjectRef(kind="HTTPRoute", namespace="default", name="web")
HOSTS = ("a.example.com", "b.a.example.com", "x.b.a.example.com", "example.com", "other.org")
PATTERNS = (
    "",
    "a.example.com",
    "b.a.example.com",
    "*.example.com",
    "*.a.example.com",
    "*.b.a.example.com",
    "example.com",
    "*.org",
)
PATHS = ("/", "/a", "/a/", "/a/b", "/ab", "/a/b/c", "/b")
REQUEST_PATHS = ("/", "/a", "/a/", "/a/b", "/ab", "/a/b/c", "/a/bc", "/b", "/b/", "/c")
METHODS = ("GET", "POST")
NAMES = ("x-a", "x-b")
VALUES = ("1", "2")


def match(
    host: str,
    path: str,
    path_type: PathType = PathType.PREFIX,
    backend: str = "be",
    *,
    method: str | None = None,
    headers: tuple[ValueMatch, ...] = (),
    query: tuple[ValueMatch, ...] = (),
    index: int = 0,
) -> HTTPMatch:
    return HTTPMatch(
        host=host,
        path=path,
        path_type=path_type,
        method=method,
        headers=headers,
        query=query,
        backend=backend,
        source=ROUTE,
        rule=f"spec.rules[{index}].matches[0]",
    )


def port(*matches: HTTPMatch) -> GatewayPort:
    return GatewayPort(
        gateway=GATEWAY, address=None, port=8080, protocol=ListenerProtocol.HTTP, matches=matches
    )


VALUE_MATCHES = st.lists(
    st.builds(
        lambda n, v: ValueMatch(name=n, value=v), st.sampled_from(NAMES), st.sampled_from(VALUES)
    ),
    max_size=2,
).map(tuple)
MATCHES = st.lists(
    st.builds(
        match,
        st.sampled_from(PATTERNS),
        st.sampled_from(PATHS),
        st.sampled_from(PathType),
        st.sampled_from(("be1", "be2", "be3", "split1")),
        method=st.none() | st.sampled_from(METHODS),
        headers=VALUE_MATCHES,
        query=VALUE_MATCHES,
    ),
    max_size=12,
).map(lambda found: tuple(sorted(found, key=lambda m: host_rank(m.host))))
"""Random matches, in an order that puts hosts first (as the Gateway API's precedence does)."""
REQUESTS = st.builds(
    Request,
    host=st.sampled_from(HOSTS),
    path=st.sampled_from(REQUEST_PATHS),
    method=st.sampled_from(METHODS),
    headers=st.dictionaries(st.sampled_from(NAMES), st.sampled_from(VALUES)),
    query=st.dictionaries(st.sampled_from(NAMES), st.sampled_from(VALUES)),
)


@settings(max_examples=4000, deadline=None)
@given(MATCHES, st.lists(REQUESTS, min_size=1, max_size=8))
def test_the_table_lookup_is_the_first_match(
    matches: tuple[HTTPMatch, ...], requests: list[Request]
) -> None:
    gateway = port(*matches)
    assert precedence_ordered(matches)
    table = build_port_table(gateway)
    for request in requests:
        assert lookup(table, request).match == first_match(gateway, request), request


def test_an_unconditional_first_candidate_is_the_map_value() -> None:
    table = build_port_table(port(match("a.example.com", "/a", backend="be1")))
    assert {key: entry.value for key, entry in table.routes.items()} == {
        "a.example.com/a?": "be1",
        "a.example.com/a/": "be1",
    }
    assert table.chains == {Level.EXACT: (), Level.WILDCARD: (), Level.ANY: ()}


def test_a_chain_ends_at_the_first_unconditional_candidate_of_the_host() -> None:
    """A header match on /a/b, then an unconditional /a prefix: /a/b's key chains both, and a
    shorter unconditional prefix beyond it is not reached."""
    table = build_port_table(
        port(
            match(
                "a.example.com", "/a/b", backend="be1", headers=(ValueMatch(name="x-a", value="1"),)
            ),
            match("a.example.com", "/a", backend="be2"),
            match("a.example.com", "/", backend="be3"),
        )
    )
    entry = table.routes["a.example.com/a/b/"]
    assert [m.backend for m in entry.candidates] == ["be1", "be2"]
    (chain,) = table.chains[Level.EXACT]
    assert entry.value == chain.id
    assert [step.backend for step in chain.steps] == ["be1", "be2"]
    assert table.routes["a.example.com/"].value == "be3"


def test_nested_wildcards_fall_through_longest_first() -> None:
    table = build_port_table(
        port(
            match("*.b.a.example.com", "/x", backend="be1"),
            match("*.a.example.com", "/y", backend="be2"),
            match("*.example.com", "/", backend="be3"),
        )
    )
    assert table.wildcards == ("*.b.a.example.com", "*.a.example.com", "*.example.com")
    assert table.parents == {
        "*.b.a.example.com": "*.a.example.com",
        "*.a.example.com": "*.example.com",
    }
    assert table.depth == 3
    decision = lookup(table, Request(host="x.b.a.example.com", path="/y"))
    assert decision.match is not None and decision.match.backend == "be2"
    assert decision.level is Level.WILDCARD and decision.host_key == "*.a.example.com"


def test_a_wildcard_matches_several_labels_but_not_its_suffix_alone() -> None:
    gateway = port(match("*.example.com", "/", backend="be1"))
    table = build_port_table(gateway)
    assert lookup(table, Request(host="x.y.example.com", path="/")).match is not None
    assert lookup(table, Request(host="example.com", path="/")).match is None
    assert lookup(table, Request(host="xexample.com", path="/")).match is None
