"""`explain` on Gateway ports: the port, the HTTPRoute rule and match that win, and why."""

from __future__ import annotations

import pytest

from ingress_ctl.explaining import explain
from ingress_ctl.model.gateways import GatewayPort
from ingress_ctl.model.routing import Backend, ObjectRef, PathType, Routing
from tests.gateway_models import gateway_routing, http_port, match, service_backend, split

WEB = service_backend("web", ("10.0.0.1", 8080))
API = service_backend("api", ("10.0.0.2", 8080))
BROKEN = Backend(name="builtin_500", status=500)


def routing(*ports: GatewayPort) -> Routing:
    return gateway_routing(
        *ports,
        backends=(WEB, API, BROKEN),
        splits=(split("split_web", (WEB.name, 3), (API.name, 1)),),
    )


ROUTING = routing(
    http_port(
        8080,
        match(
            "shop.example.com",
            "/api",
            API.name,
            headers={"x-canary": "yes"},
            rule="spec.rules[0].matches[0]",
        ),
        match(
            "shop.example.com",
            "/api",
            "split_web",
            PathType.PREFIX,
            method="POST",
            rule="spec.rules[1].matches[0]",
        ),
        match("*.example.com", "/", WEB.name, rule="spec.rules[2].matches[0]"),
        match("", "/broken", BROKEN.name, rule="spec.rules[3].matches[0]"),
    )
)


def test_a_chain_names_the_candidates_tried_and_the_winner() -> None:
    lines = explain(ROUTING, url="http://shop.example.com:8080/api/x?a=1", method="POST")
    assert lines == [
        "request: POST host 'shop.example.com', path '/api/x'",
        "gateway: Gateway default/gw port 8080 (HTTP), frontend gw_8080",
        "lookup: exact host 'shop.example.com', route key 'shop.example.com/api/'",
        "tried: HTTPRoute default/web spec.rules[0].matches[0] (path prefix '/api', header x-canary = 'yes'): a condition fails",
        "matched: HTTPRoute default/web spec.rules[1].matches[0]: path prefix '/api', method POST",
        "split: split_web: be_default_web_80 3/4, be_default_api_80 1/4",
        "backend: be_default_web_80 (Service default/web:80)",
        "servers: 10.0.0.1:8080",
        "backend: be_default_api_80 (Service default/api:80)",
        "servers: 10.0.0.2:8080",
    ]


def test_a_header_picks_the_first_match_and_other_hosts_fall_through() -> None:
    lines = explain(ROUTING, url="http://shop.example.com:8080/api", headers={"X-Canary": "yes"})
    assert (
        "matched: HTTPRoute default/web spec.rules[0].matches[0]: path prefix '/api', header x-canary = 'yes'"
        in lines
    )
    lines = explain(ROUTING, url="http://shop.example.com:8080/other")
    assert lines[2:4] == [
        "lookup: wildcard host '*.example.com', route key '*.example.com/'",
        "matched: HTTPRoute default/web spec.rules[2].matches[0]: path prefix '/'",
    ]
    assert explain(ROUTING, url="http://x.org:8080/broken")[-1] == (
        "backend: builtin_500 (built-in: answers 500)"
    )
    assert explain(ROUTING, url="http://x.org:8080/none")[-2:] == [
        "matched: nothing (no host level has a match for this request)",
        "backend: none: answers 404",
    ]


def test_several_gateways_on_one_port_need_a_choice() -> None:
    other = http_port(8080, match("", "/", API.name)).model_copy(
        update={
            "gateway": ObjectRef(kind="Gateway", namespace="team", name="edge"),
            "address": "10.0.0.9",
        }
    )
    both = routing(http_port(8080, match("", "/", WEB.name)), other)
    with pytest.raises(ValueError, match="pick one with --gateway"):
        explain(both, url="http://a.example.com:8080/")
    assert explain(both, url="http://a.example.com:8080/", gateway="team/edge")[-2] == (
        "backend: be_default_api_80 (Service default/api:80)"
    )
