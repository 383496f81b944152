"""Hostile HTTPRoute CORS and retry values cannot inject configuration.

Hypothesis draws the filter's origins, methods and headers from printable text of any
kind and from anything at all (control characters, newlines): translation refuses a
value (`CORSValueError`, the route's UnsupportedValue) or the policy renders into files
that the real `haproxy -c` accepts, every line one a template can print. Retries: any
codes and attempts are refused in translation or accepted by `haproxy -c`.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingress_ctl.model.gateway_objects import CORSFilter, HTTPRouteRetry
from ingress_ctl.model.policies import BackendPolicy, Cors, Policy, RoutePolicy
from ingress_ctl.translation.gateway.cors import CORSValueError, gateway_cors
from ingress_ctl.translation.gateway.filters import Unsupported, rule_policy
from tests.gateway_models import gateway_routing, http_port, match, service_backend
from tests.haproxy.test_gateway_properties import ANYTHING, PRINTABLE, check

pytestmark = pytest.mark.haproxy

VALUES = st.one_of(
    ANYTHING,
    st.sampled_from(("*", "https://*.a.com", "https://a.com:8443", "x-h", "GET")),
    PRINTABLE.map(lambda text: "https://" + text),
)
LISTS = st.lists(VALUES, max_size=3).map(tuple)


def rendered(cors: Cors | None, haproxy_bin: str, backend: BackendPolicy | None = None) -> bool:
    policy = Policy(backend=backend or BackendPolicy(), route=RoutePolicy(cors=cors))
    web = service_backend("web", ("10.0.0.1", 8080), policy=policy)
    return check(
        gateway_routing(http_port(8080, match("", "/", web.name)), backends=(web,)), haproxy_bin
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    origins=LISTS,
    methods=LISTS,
    headers=LISTS,
    expose=LISTS,
    credentials=st.booleans(),
    max_age=st.none() | st.integers(1, 2**31 - 1),
)
def test_hostile_cors_values_are_refused_or_render_safely(
    origins: tuple[str, ...],
    methods: tuple[str, ...],
    headers: tuple[str, ...],
    expose: tuple[str, ...],
    credentials: bool,
    max_age: int | None,
    haproxy_bin: str,
) -> None:
    found = CORSFilter(
        allowOrigins=origins,
        allowMethods=methods,
        allowHeaders=headers,
        exposeHeaders=expose,
        allowCredentials=credentials,
        maxAge=max_age,
    )
    try:
        cors = gateway_cors(found)
    except CORSValueError:
        return
    assert rendered(cors, haproxy_bin)


def test_a_newline_in_an_origin_is_refused_at_the_sink(haproxy_bin: str) -> None:
    """The property can fail: a value translation let through with a newline is caught."""
    cors = Cors(origins=("https://a.com\n    http-request deny",), deep_wildcards=True)
    assert not rendered(cors, haproxy_bin)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    codes=st.lists(st.integers(100, 599), max_size=4),
    attempts=st.none() | st.integers(-5, 1000),
    backoff=st.none() | VALUES,
)
def test_any_retry_is_refused_or_accepted_by_haproxy(
    codes: list[int], attempts: int | None, backoff: str | None, haproxy_bin: str
) -> None:
    retry = HTTPRouteRetry(codes=tuple(codes), attempts=attempts, backoff=backoff)
    try:
        policy = rule_policy((), prefix=None, retry=retry, where="rule")
    except Unsupported:
        return
    assert rendered(None, haproxy_bin, policy.backend)
