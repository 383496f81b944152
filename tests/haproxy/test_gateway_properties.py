"""Hostile Gateway values cannot inject configuration.

Hypothesis builds Gateway ports (matches with header, query and method conditions, SNI
routes, redirects, BackendTLSPolicy server names) whose values are printable text of any kind (quotes, spaces, `#`, `$`,
`%`, backslashes) or, in the second property, anything at all (control characters,
newlines). Rendering either refuses a value at its sink (`UnsafeValue`: nothing is written)
or makes files that the real `haproxy -c` accepts and whose every line a template can print,
each printed value one word.
"""

from __future__ import annotations

import string
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingress_ctl.haproxy.applying import write_files
from ingress_ctl.haproxy.escaping import UnsafeValue
from ingress_ctl.haproxy.rendering import render
from ingress_ctl.model.gateways import GatewayPort
from ingress_ctl.model.policies import (
    BackendPolicy,
    GatewayRedirect,
    Policy,
    Protocol,
    RoutePolicy,
    ServerIdentity,
    SubjectAltName,
    Upstream,
)
from ingress_ctl.model.routing import Backend, Mode, PathType, Routing
from ingress_ctl.model.settings import Settings
from tests.conftest import short_tmp_dir
from tests.gateway_models import gateway_routing, http_port, match, service_backend, tls_port
from tests.test_properties import (
    CONFIG_LINES,
    CRT_LIST_LINES,
    MAP_LINES,
    NASTY,
    foreign_lines,
)

pytestmark = pytest.mark.haproxy

PRINTABLE = st.one_of(
    st.sampled_from([n for n in NASTY if n.isascii() and n.isprintable()]),
    st.text(alphabet=string.printable.strip() + " ", min_size=1, max_size=12),
    st.sampled_from(
        (
            "x-a",
            "%[env(HOME)]",
            "a' if TRUE '",
            "a,b)",
            "(",
            "\\",
            "#x",
            "$HOME",
            "}",
            "{",
            "-m",
            "--",
            "or",
        )
    ),
)
ANYTHING = st.one_of(PRINTABLE, st.text(max_size=12), st.sampled_from(NASTY))
WEB = service_backend("web", ("10.0.0.1", 8080))
STREAM = service_backend("db", ("10.0.0.2", 5432), mode=Mode.TCP)


def redirect_backend(hostname: str, path: str) -> Backend:
    return service_backend(
        "web",
        policy=Policy(
            route=RoutePolicy(
                gateway_redirect=GatewayRedirect(hostname=hostname, prefix=(path, path))
            )
        ),
    )


def gateway(
    values: st.SearchStrategy[str], hosts: st.SearchStrategy[str]
) -> st.SearchStrategy[Routing]:
    """A routing whose condition values, redirect and SNI names are drawn from `values`, and
    match hosts and paths from `hosts`."""
    conditions = st.dictionaries(values, values, max_size=2)
    matches = st.lists(
        st.builds(
            match,
            hosts,
            st.one_of(st.just("/"), hosts.map(lambda h: "/" + h)),
            st.just(WEB.name),
            st.sampled_from(PathType),
            method=st.none() | values,
            headers=conditions,
            query=conditions,
        ),
        min_size=1,
        max_size=3,
    )

    def build(found: list, sni: str, hostname: str, path: str) -> Routing:  # type: ignore[type-arg]
        redirect = redirect_backend(hostname, "/" + path)
        ports: tuple[GatewayPort, ...] = (
            http_port(8080, *found, match("", "/r", redirect.name)),
            tls_port(9443, (sni, STREAM.name)),
        )
        return gateway_routing(*ports, backends=(WEB, STREAM, redirect))

    return st.builds(build, matches, hosts, values, values)


HOSTS = st.sampled_from(("a.example.com", "*.example.com", ""))


def check(routing: Routing, haproxy_bin: str) -> bool:
    """Whether the routing rendered (False: refused at a sink); asserts what it rendered."""
    try:
        files = render(routing, settings=Settings())
    except UnsafeValue:
        return False
    for name, text in files.items():
        patterns = (
            CONFIG_LINES
            if name == "haproxy.cfg"
            else MAP_LINES
            if name.endswith(".map")
            else CRT_LIST_LINES
            if name.endswith(".crt-list")
            else None
        )
        if patterns is not None:
            assert foreign_lines(text, patterns) == [], name
    with short_tmp_dir() as folder:
        write_files(folder, files)
        result = subprocess.run(
            [haproxy_bin, "-c", "-C", str(folder), "-f", "haproxy.cfg"],
            capture_output=True,
            text=True,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    return True


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(routing=gateway(PRINTABLE, HOSTS))
def test_printable_condition_values_render_safely(routing: Routing, haproxy_bin: str) -> None:
    """Any printable header or query name and value, method, redirect host and path renders
    (nothing refused) into a configuration HAProxy accepts, with no line of its own."""
    assert check(routing, haproxy_bin)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(routing=gateway(ANYTHING, st.one_of(HOSTS, ANYTHING)))
def test_any_value_is_rendered_safely_or_refused(routing: Routing, haproxy_bin: str) -> None:
    """Control characters, newlines, spaces or quotes in hosts and paths: refused at the sink
    or harmless."""
    check(routing, haproxy_bin)


def test_a_newline_in_a_header_name_is_refused(haproxy_bin: str) -> None:
    """The second property can fail: an injected line would be caught, so it is refused."""
    routing = gateway_routing(
        http_port(8080, match("", "/", WEB.name, headers={"x\n    http-request deny": "1"})),
        backends=(WEB,),
    )
    assert not check(routing, haproxy_bin)


def tls_backend(sni: str, names: list[tuple[str, str]]) -> Backend:
    """A backend reached over verified TLS whose server name and subjectAltNames are hostile
    (client certificate files are content hashes: naming.certificate_file)."""
    identity = ServerIdentity(
        sni=sni,
        verify_host=sni,
        subject_alt_names=tuple(
            SubjectAltName(type="dns" if kind == "dns" else "uri", value=value)
            for kind, value in names
        ),
    )
    upstream = Upstream(protocol=Protocol.HTTPS, system_ca=True, identity=identity)
    return service_backend("secure", policy=Policy(backend=BackendPolicy(upstream=upstream)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    backend=st.builds(
        tls_backend,
        ANYTHING,
        st.lists(st.tuples(st.sampled_from(("dns", "uri")), ANYTHING), max_size=2),
    )
)
def test_backend_tls_values_are_rendered_safely_or_refused(
    backend: Backend, haproxy_bin: str
) -> None:
    """A BackendTLSPolicy's SNI and names: refused at the sink or one word each (the
    subjectAltNames only ever reach haproxy.cfg as hex)."""
    routing = gateway_routing(http_port(8080, match("", "/", backend.name)), backends=(backend,))
    check(routing, haproxy_bin)
