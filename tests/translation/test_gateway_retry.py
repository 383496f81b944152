"""HTTPRoute retries and GRPCRoute rule names: manifests in, policies and matches out."""

from __future__ import annotations

import pytest

from ingress_ctl.model.policies import Retry
from tests.translation.test_gateways import matches, parents, route, translated

POOL = "127.10.0.0/24"
RULE = """kind: HTTPRoute
metadata: {{name: r, namespace: infra}}
spec:
  parentRefs: [{{name: gw, sectionName: http}}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /retry}}}}]
    retry: {retry}
    backendRefs: [{{name: web, port: 8080}}]
"""

ACCEPTED = [
    ("{codes: [500], attempts: 3}", Retry(codes=(500,), attempts=3)),
    (
        "{codes: [504, 500, 502, 503, 500], attempts: 2}",
        Retry(codes=(500, 502, 503, 504), attempts=2),
    ),
    ("{codes: [404], backoff: 0s}", Retry(codes=(404,))),
    ("{}", Retry()),
]
REFUSED = [
    "{codes: [500], backoff: 100ms}",
    "{codes: [505]}",
    "{codes: [429]}",
    "{attempts: 1000}",
    "{backoff: soon}",
]


def retry_of(retry: str) -> tuple[Retry | None, dict[str, tuple[str, str]]]:
    found = translated(route(RULE.format(retry=retry)), gateway_address_pool=POOL)
    by_path = {item[2]: item[3] for item in matches(found)}
    status = parents(found, "r")[0]
    if "/retry" not in by_path:
        return None, status
    return found.routing.backend(by_path["/retry"]).policy.backend.retry, status


@pytest.mark.parametrize(("retry", "expected"), ACCEPTED)
def test_retries_become_the_backends_retry_policy(retry: str, expected: Retry) -> None:
    found, status = retry_of(retry)
    assert status["Accepted"] == ("True", "Accepted")
    assert found == expected


@pytest.mark.parametrize("retry", REFUSED)
def test_retries_haproxy_cannot_do_make_the_route_unsupported(retry: str) -> None:
    found, status = retry_of(retry)
    assert status["Accepted"] == ("False", "UnsupportedValue")
    assert found is None


def test_grpc_rule_names_reach_the_matches() -> None:
    text = route("""kind: GRPCRoute
metadata: {name: g, namespace: infra}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules:
  - name: named-rule
    matches: [{method: {service: echo.Echo, method: Echo}}]
    backendRefs: [{name: web, port: 9000}]
  - matches: [{method: {service: echo.Echo, method: EchoTwo}}]
    backendRefs: [{name: web, port: 9000}]
""")
    found = translated(text, gateway_address_pool=POOL)
    port = next(item for item in found.routing.gateway_ports if item.port == 80)
    names = {m.path: m.rule_name for m in port.matches}
    assert names == {"/echo.Echo/Echo": "named-rule", "/echo.Echo/EchoTwo": None}
