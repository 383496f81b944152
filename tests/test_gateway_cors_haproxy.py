"""The Gateway API's CORS through the real HAProxy, to real echo backends on 127.0.0.x.

The policies are what translation/gateway/cors.py makes of HTTPRoute CORS filters (the
table tests check that part): origins whose `*` matches labels to the left, `*` methods
and headers echoed with credentials, max-age and exposed headers on preflight answers.
"""

from __future__ import annotations

import pytest

from ingress_ctl.model.policies import Cors, Policy, RoutePolicy
from tests.conftest import free_port
from tests.gateway_models import gateway_routing, http_port, match
from tests.http import request
from tests.test_gateway_haproxy import GatewayProxy, answered, echoes, proxy

pytestmark = pytest.mark.haproxy
__all__ = ("echoes", "proxy")

LISTED = Cors(
    origins=("https://www.foo.com", "https://*.bar.com"),
    methods=("GET", "OPTIONS"),
    headers=("x-header-1", "x-header-2"),
    expose=("x-header-3",),
    credentials=True,
    max_age=3600,
    deep_wildcards=True,
    echo_wildcards=True,
    refuse_preflights=True,
)
ANY = Cors(
    origins=("*",),
    methods=("*",),
    headers=("*",),
    expose=(),
    credentials=True,
    max_age=5,
    deep_wildcards=True,
    echo_wildcards=True,
    refuse_preflights=True,
)


def preflight(origin: str, method: str = "GET", headers: str | None = None) -> dict[str, str]:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    return asked | ({"Access-Control-Request-Headers": headers} if headers else {})


async def test_gateway_cors_preflight_and_simple_requests(proxy: GatewayProxy) -> None:
    listed = proxy.backend("web", Policy(route=RoutePolicy(cors=LISTED)))
    anyone = proxy.backend("api", Policy(route=RoutePolicy(cors=ANY)))
    port = free_port()
    await proxy.apply(
        gateway_routing(
            http_port(port, match("", "/listed", listed.name), match("", "/any", anyone.name)),
            backends=(listed, anyone),
        )
    )
    for origin in ("https://www.foo.com", "https://www.bar.com", "https://x.www.bar.com"):
        answer = request(port, "/listed", method="OPTIONS", headers=preflight(origin))
        assert answer.status == 204, origin
        assert answer.headers["access-control-allow-origin"] == origin
        assert answer.headers["access-control-allow-methods"] == "GET, OPTIONS"
        assert answer.headers["access-control-allow-headers"] == "x-header-1, x-header-2"
        assert answer.headers["access-control-expose-headers"] == "x-header-3"
        assert answer.headers["access-control-max-age"] == "3600"
        assert answer.headers["access-control-allow-credentials"] == "true"
        simple = request(port, "/listed", headers={"Origin": origin})
        assert answered(simple)["backend"] == "web"
        assert simple.headers["access-control-allow-origin"] == origin
    for stranger in ("https://bar.com", "https://foobar.com", "http://www.bar.com"):
        refused = request(port, "/listed", method="OPTIONS", headers=preflight(stranger))
        assert refused.status == 403 and "access-control-allow-origin" not in refused.headers
        simple = request(port, "/listed", headers={"Origin": stranger})
        assert simple.status == 200 and "access-control-allow-origin" not in simple.headers

    asked = preflight("https://other.foo.com:8443", "PUT", "x-header-1, x-header-2")
    echoed = request(port, "/any", method="OPTIONS", headers=asked)
    assert echoed.status == 204
    assert echoed.headers["access-control-allow-origin"] == "https://other.foo.com:8443"
    assert echoed.headers["access-control-allow-methods"] == "PUT"
    assert echoed.headers["access-control-allow-headers"] == "x-header-1, x-header-2"
    assert echoed.headers["access-control-allow-credentials"] == "true"
    assert echoed.headers["access-control-max-age"] == "5"
    bare = request(port, "/any", method="OPTIONS", headers=preflight("https://a.example", "DELETE"))
    assert bare.headers["access-control-allow-methods"] == "DELETE"
    assert "access-control-allow-headers" not in bare.headers
    simple = request(port, "/any", method="PUT", headers={"Origin": "https://a.example"})
    assert answered(simple)["backend"] == "api"
    assert simple.headers["access-control-allow-origin"] == "https://a.example"
    assert simple.headers["vary"] == "origin"
