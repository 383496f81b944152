"""HTTPRoute CORS filters: manifests in, the backend's CORS policy or the route's status out."""

from __future__ import annotations

import pytest

from ingress_ctl.model.policies import Cors
from tests.translation.test_gateways import matches, parents, route, translated

RULE = """kind: HTTPRoute
metadata: {{name: r, namespace: infra}}
spec:
  parentRefs: [{{name: gw, sectionName: http}}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /cors}}}}]
    filters:
    - {{type: CORS, cors: {cors}}}
    backendRefs: [{{name: web, port: 8080}}]
"""


def cors_of(cors: str) -> tuple[Cors | None, dict[str, tuple[str, str]]]:
    found = translated(route(RULE.format(cors=cors)), gateway_address_pool="127.10.0.0/24")
    status = parents(found, "r")[0]
    by_path = {item[2]: item[3] for item in matches(found)}
    if "/cors" not in by_path:
        return None, status
    return found.routing.backend(by_path["/cors"]).policy.route.cors, status


GATEWAY = {"deep_wildcards": True, "echo_wildcards": True, "refuse_preflights": True}

ACCEPTED = [
    (
        "{allowOrigins: ['https://www.foo.com', 'https://*.bar.com'], allowMethods: [GET, OPTIONS],"
        " allowHeaders: [x-header-1, X-Header-2], exposeHeaders: [x-header-3],"
        " allowCredentials: true, maxAge: 3600}",
        Cors(
            origins=("https://www.foo.com", "https://*.bar.com"),
            methods=("GET", "OPTIONS"),
            headers=("x-header-1", "x-header-2"),
            expose=("x-header-3",),
            credentials=True,
            max_age=3600,
            **GATEWAY,
        ),
    ),
    (
        "{allowOrigins: ['*'], allowMethods: ['*'], allowHeaders: ['*']}",
        Cors(
            origins=("*",), methods=("*",), headers=("*",), credentials=False, max_age=5, **GATEWAY
        ),
    ),
    (
        "{allowOrigins: ['HTTP://*:8080', 'https://A.example.com:443']}",
        Cors(
            origins=("http://*:8080", "https://a.example.com:443"),
            methods=(),
            headers=(),
            credentials=False,
            max_age=5,
            **GATEWAY,
        ),
    ),
    ("{}", Cors(origins=(), methods=(), headers=(), credentials=False, max_age=5, **GATEWAY)),
]


@pytest.mark.parametrize(("cors", "expected"), ACCEPTED)
def test_cors_filters_become_the_backends_cors_policy(cors: str, expected: Cors) -> None:
    found, status = cors_of(cors)
    assert status["Accepted"] == ("True", "Accepted")
    assert found == expected


REFUSED = [
    "{allowOrigins: ['https://a.example.com/path']}",
    "{allowOrigins: ['ftp://a.example.com']}",
    "{allowOrigins: ['https://a.example.com:70000']}",
    "{allowOrigins: ['https://a b']}",
    "{allowMethods: [FETCH]}",
    "{allowMethods: ['*', GET]}",
    "{allowHeaders: ['x-%[env(HOME)]']}",
    "{exposeHeaders: ['*'], allowCredentials: true}",
]


@pytest.mark.parametrize("cors", REFUSED)
def test_cors_values_refused_make_the_route_unsupported(cors: str) -> None:
    _, status = cors_of(cors)
    assert status["Accepted"] == ("False", "UnsupportedValue")


def test_gateway_wildcards_match_labels_ingress_ones_one_label() -> None:
    """The same origin, two semantics: the Ingress annotations' are unchanged."""
    gateway = Cors(origins=("https://*.bar.com",), deep_wildcards=True)
    ingress = Cors(origins=("https://*.bar.com",))
    assert gateway.patterns == ("^https://[a-z0-9-]+(\\.[a-z0-9-]+)*\\.bar\\.com$",)
    assert ingress.patterns == ("^https://[a-z0-9-]+\\.bar\\.com$",)
