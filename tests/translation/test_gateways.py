"""Gateway API translation: manifests in, Gateway ports and statuses out (table tests)."""

from __future__ import annotations

from typing import Any

import pytest

from ingress_ctl.model.conditions import Condition
from ingress_ctl.model.settings import Settings
from ingress_ctl.translation import Translation
from ingress_ctl.translation.gateway.attachment import intersect
from tests.manifests import from_yaml, run

BASE = """
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: ours, generation: 4}
spec: {controllerName: ingress-ctl.io/haproxy}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: theirs}
spec: {controllerName: example.com/other}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: infra}
spec: {ports: [{port: 8080}, {port: 9000, appProtocol: kubernetes.io/h2c}]}
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: apps}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Secret
metadata: {name: missing-key, namespace: infra}
type: kubernetes.io/tls
data: {tls.crt: bm8=}
"""

GATEWAY = """
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra, generation: 7, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  gatewayClassName: ours
  listeners:
  - {name: http, port: 80, protocol: HTTP}
  - {name: any-ns, port: 8080, protocol: HTTP, hostname: "*.example.com", allowedRoutes: {namespaces: {from: All}}}
"""


def translated(text: str, **settings: Any) -> Translation:
    return run(*from_yaml(BASE + GATEWAY + text), settings=Settings(**settings))


def route(text: str) -> str:
    return "\n---\napiVersion: gateway.networking.k8s.io/v1\n" + text


def conditions(found: tuple[Condition, ...]) -> dict[str, tuple[str, str]]:
    return {item.type: (item.status, item.reason) for item in found}


def parents(translation: Translation, name: str) -> list[dict[str, tuple[str, str]]]:
    status = next(item for item in translation.gateway.routes if item.name == name)
    return [conditions(parent.conditions) for parent in status.parents]


def listeners(translation: Translation, name: str = "gw") -> dict[str, dict[str, tuple[str, str]]]:
    status = next(item for item in translation.gateway.gateways if item.name == name)
    return {item.name: conditions(item.conditions) for item in status.listeners}


def matches(translation: Translation, port: int = 80) -> list[tuple[str, str, str, str]]:
    found = next(item for item in translation.routing.gateway_ports if item.port == port)
    return [(m.host, m.path_type.value, m.path, m.backend) for m in found.matches]


@pytest.mark.parametrize(
    ("listener", "hosts", "expected"),
    [
        (None, [], ("",)),
        ("a.example.com", [], ("a.example.com",)),
        (None, ["a.example.com", "*.b.com"], ("a.example.com", "*.b.com")),
        (
            "*.example.com",
            ["a.example.com", "x.y.example.com", "example.com"],
            ("a.example.com", "x.y.example.com"),
        ),
        ("a.example.com", ["*.example.com"], ("a.example.com",)),
        ("*.example.com", ["*.a.example.com", "*.com"], ("*.a.example.com", "*.example.com")),
        ("a.example.com", ["b.example.com", "*.other.com"], ()),
    ],
)
def test_hostnames_intersect_as_the_spec_says(
    listener: str | None, hosts: list[str], expected: tuple[str, ...]
) -> None:
    assert intersect(listener, hosts, kind="HTTPRoute") == expected


def test_only_our_classes_gateways_are_served_with_a_pool_address() -> None:
    found = translated(
        """
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: other, namespace: infra}
spec: {gatewayClassName: theirs, listeners: [{name: http, port: 80, protocol: HTTP}]}
""",
        gateway_address_pool="127.10.0.0/24",
    )
    assert [item.name for item in found.gateway.classes] == ["ours"]
    assert [item.name for item in found.gateway.gateways] == ["gw"]
    (gateway,) = found.gateway.gateways
    (address,) = gateway.addresses
    assert address.type == "IPAddress" and address.value.startswith("127.10.0.")
    assert {port.address for port in found.routing.gateway_ports} == {address.value}
    assert conditions(gateway.conditions) == {
        "Accepted": ("True", "Accepted"),
        "Programmed": ("True", "Programmed"),
    }
    assert all(c.observed_generation == 7 for c in gateway.conditions)


def test_without_a_pool_the_ingress_ports_are_not_available() -> None:
    found = translated("")
    assert listeners(found)["http"]["Accepted"] == ("False", "PortUnavailable")
    assert listeners(found)["any-ns"]["Accepted"] == ("True", "Accepted")


def test_listener_checks() -> None:
    found = translated(
        """
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: bad, namespace: infra}
spec:
  gatewayClassName: ours
  listeners:
  - {name: udp, port: 53, protocol: UDP}
  - {name: bad-host, port: 54, protocol: HTTP, hostname: "a b}"}
  - {name: a, port: 81, protocol: HTTP, hostname: a.com}
  - {name: a-again, port: 81, protocol: HTTP, hostname: a.com}
  - {name: tcp-on-81, port: 81, protocol: TCP}
  - {name: kinds, port: 82, protocol: HTTP, allowedRoutes: {kinds: [{kind: HTTPRoute}, {kind: FooRoute}]}}
  - name: no-secret
    port: 443
    protocol: HTTPS
    tls: {mode: Terminate, certificateRefs: [{name: nowhere}]}
  - name: cross-ns
    port: 444
    protocol: HTTPS
    tls: {mode: Terminate, certificateRefs: [{name: cert, namespace: apps}]}
  - name: broken
    port: 445
    protocol: HTTPS
    tls: {mode: Terminate, certificateRefs: [{name: missing-key}]}
  - {name: tls-terminate, port: 446, protocol: TLS, tls: {mode: Terminate}}
""",
        gateway_address_pool="127.10.0.0/24",
    )
    status = listeners(found, "bad")
    assert status["udp"]["Accepted"] == ("False", "UnsupportedProtocol")
    assert status["bad-host"]["Accepted"] == ("False", "UnsupportedValue")
    assert status["a"]["Conflicted"] == ("False", "NoConflicts")
    assert status["a-again"]["Conflicted"] == ("True", "HostnameConflict")
    assert status["tcp-on-81"]["Conflicted"] == ("True", "ProtocolConflict")
    assert status["kinds"]["ResolvedRefs"] == ("False", "InvalidRouteKinds")
    assert status["no-secret"]["ResolvedRefs"] == ("False", "InvalidCertificateRef")
    assert status["no-secret"]["Programmed"] == ("False", "Invalid")
    assert status["cross-ns"]["ResolvedRefs"] == ("False", "RefNotPermitted")
    assert status["broken"]["ResolvedRefs"] == ("False", "InvalidCertificateRef")
    assert status["tls-terminate"]["ResolvedRefs"] == ("False", "InvalidCertificateRef")
    assert status["tls-terminate"]["Programmed"] == ("False", "Invalid")
    gateway = next(item for item in found.gateway.gateways if item.name == "bad")
    assert conditions(gateway.conditions)["Accepted"] == ("True", "ListenersNotValid")
    kinds = {item.name: [k.kind for k in item.supported_kinds] for item in gateway.listeners}
    assert kinds["kinds"] == ["HTTPRoute"]
    assert kinds["tls-terminate"] == ["TLSRoute"]
    assert kinds["udp"] == []
    assert sorted(
        port.port for port in found.routing.gateway_ports if port.gateway.name == "bad"
    ) == [81, 82]


ROUTES = route("""kind: HTTPRoute
metadata: {name: older, namespace: infra, generation: 2, creationTimestamp: "2024-01-01T00:01:00Z"}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  hostnames: ["*.example.com", "www.example.com"]
  rules:
  - matches:
    - {path: {type: PathPrefix, value: /api/}}
    - {path: {type: Exact, value: /api}}
    - {path: {type: PathPrefix, value: /}, headers: [{name: X-V, value: "2"}], method: GET}
    backendRefs: [{name: web, port: 8080}]
""") + route("""kind: HTTPRoute
metadata: {name: newer, namespace: infra, creationTimestamp: "2024-01-01T00:02:00Z"}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: web, port: 8080, weight: 1}, {name: web, port: 9000, weight: 3}]
""")


def test_matches_are_in_precedence_order() -> None:
    found = translated(ROUTES, gateway_address_pool="127.10.0.0/24")
    split = found.routing.splits[0].name
    assert matches(found) == [
        ("www.example.com", "Exact", "/api", "be_infra_web_8080"),
        ("www.example.com", "Prefix", "/api", "be_infra_web_8080"),
        ("www.example.com", "Prefix", "/", "be_infra_web_8080"),
        ("*.example.com", "Exact", "/api", "be_infra_web_8080"),
        ("*.example.com", "Prefix", "/api", "be_infra_web_8080"),
        ("*.example.com", "Prefix", "/", "be_infra_web_8080"),
        ("", "Prefix", "/api", split),
    ]
    (ports,) = [p for p in found.routing.gateway_ports if p.port == 80]
    assert ports.matches[2].method == "GET" and ports.matches[2].headers[0].name == "x-v"
    weights = {(w.backend, w.weight) for w in found.routing.splits[0].backends}
    h2c = next(b for b in found.routing.backends if b.name.startswith("be_infra_web_9000"))
    assert weights == {("be_infra_web_8080", 1), (h2c.name, 3)}
    assert h2c.policy.backend.upstream.protocol == "h2c"
    assert parents(found, "older") == [
        {"Accepted": ("True", "Accepted"), "ResolvedRefs": ("True", "ResolvedRefs")}
    ]
    assert (
        listeners(found)["http"]
        and next(
            item.attached_routes
            for item in found.gateway.gateways[0].listeners
            if item.name == "http"
        )
        == 2
    )


@pytest.mark.parametrize(
    ("spec", "expected", "backend"),
    [
        (
            "parentRefs: [{name: gw, sectionName: nope, namespace: infra}]",
            {"Accepted": ("False", "NoMatchingParent"), "ResolvedRefs": ("True", "ResolvedRefs")},
            None,
        ),
        (
            "parentRefs: [{name: gw, sectionName: http, namespace: infra}]",
            {
                "Accepted": ("False", "NotAllowedByListeners"),
                "ResolvedRefs": ("True", "ResolvedRefs"),
            },
            None,
        ),
        (
            "parentRefs: [{name: gw, sectionName: any-ns, namespace: infra}]\n  hostnames: [other.org]",
            {
                "Accepted": ("False", "NoMatchingListenerHostname"),
                "ResolvedRefs": ("True", "ResolvedRefs"),
            },
            None,
        ),
        (
            "parentRefs: [{name: gw, sectionName: any-ns, namespace: infra}]\n"
            "  rules: [{backendRefs: [{name: nothing, port: 80}]}]",
            {"Accepted": ("True", "Accepted"), "ResolvedRefs": ("False", "BackendNotFound")},
            "builtin_500",
        ),
        (
            "parentRefs: [{name: gw, sectionName: any-ns, namespace: infra}]\n"
            "  rules: [{backendRefs: [{name: web, namespace: infra, port: 8080}]}]",
            {"Accepted": ("True", "Accepted"), "ResolvedRefs": ("False", "RefNotPermitted")},
            "builtin_500",
        ),
        (
            "parentRefs: [{name: gw, sectionName: any-ns, namespace: infra}]\n"
            "  rules: [{backendRefs: [{group: example.com, kind: Bucket, name: b}]}]",
            {"Accepted": ("True", "Accepted"), "ResolvedRefs": ("False", "InvalidKind")},
            "builtin_500",
        ),
        (
            "parentRefs: [{name: gw, sectionName: any-ns, namespace: infra}]\n"
            "  rules: [{backendRefs: [{name: app, port: 80, weight: 0}]}]",
            {"Accepted": ("True", "Accepted"), "ResolvedRefs": ("True", "ResolvedRefs")},
            "builtin_500",
        ),
        (
            "parentRefs: [{name: gw, sectionName: any-ns, namespace: infra}]\n"
            "  rules: [{filters: [{type: RequestMirror, requestMirror: {backendRef: {name: app, port: 80}}}]}]",
            {"Accepted": ("False", "UnsupportedValue"), "ResolvedRefs": ("True", "ResolvedRefs")},
            None,
        ),
        (
            "parentRefs: [{name: gw, sectionName: any-ns, namespace: infra}]\n"
            "  rules: [{filters: [{type: RequestHeaderModifier, requestHeaderModifier: "
            '{set: [{name: x, value: "50%"}]}}], backendRefs: [{name: app, port: 80}]}]',
            {"Accepted": ("False", "UnsupportedValue"), "ResolvedRefs": ("True", "ResolvedRefs")},
            None,
        ),
    ],
)
def test_route_status_in_another_namespace(
    spec: str, expected: dict[str, tuple[str, str]], backend: str | None
) -> None:
    text = route(f"kind: HTTPRoute\nmetadata: {{name: r, namespace: apps}}\nspec:\n  {spec}\n")
    found = translated(text, gateway_address_pool="127.10.0.0/24")
    assert parents(found, "r") == [expected]
    served = [item[3] for item in matches(found, 8080)] if backend else []
    assert served == ([backend] if backend else [])


def test_reference_grants_allow_what_they_name() -> None:
    text = route("""kind: HTTPRoute
metadata: {name: r, namespace: apps}
spec:
  parentRefs: [{name: gw, sectionName: any-ns, namespace: infra}]
  rules: [{backendRefs: [{name: web, namespace: infra, port: 8080}]}]
""") + route("""kind: ReferenceGrant
metadata: {name: g, namespace: infra}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: apps}]
  to: [{group: "", kind: Service, name: web}]
""").replace(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: ReferenceGrant",
        "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant",
    )
    found = translated(text, gateway_address_pool="127.10.0.0/24")
    assert parents(found, "r")[0]["ResolvedRefs"] == ("True", "ResolvedRefs")
    assert [item[3] for item in matches(found, 8080)] == ["be_infra_web_8080"]


def test_filters_become_the_backends_policy() -> None:
    text = route("""kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{name: gw, sectionName: any-ns}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters:
    - {type: URLRewrite, urlRewrite: {hostname: new.example.com, path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}}
    - {type: ResponseHeaderModifier, responseHeaderModifier: {add: [{name: X-Served, value: "yes"}], remove: [Server]}}
    backendRefs: [{name: web, port: 8080}]
    timeouts: {request: 2s, backendRequest: 500ms}
  - matches: [{path: {type: PathPrefix, value: /moved}}]
    filters:
    - {type: RequestRedirect, requestRedirect: {scheme: https, port: 8443, statusCode: 308, path: {type: ReplacePrefixMatch, replacePrefixMatch: /here}}}
""")
    found = translated(text, gateway_address_pool="127.10.0.0/24")
    by_path = {item[2]: item[3] for item in matches(found, 8080)}
    rewritten = found.routing.backend(by_path["/old"])
    assert rewritten.service is not None and rewritten.servers == ()
    route_policy = rewritten.policy.route
    assert route_policy.upstream_vhost == "new.example.com"
    assert route_policy.rewrite is not None and route_policy.rewrite.replacement == "/new\\1"
    assert [h.name for h in route_policy.response_headers.add] == ["x-served"]
    assert route_policy.response_headers.delete == ("server",)
    assert rewritten.policy.backend.timeouts.server == 500
    redirect = found.routing.backend(by_path["/moved"]).policy.route.gateway_redirect
    assert redirect is not None
    assert (redirect.scheme, redirect.port, redirect.code, redirect.prefix) == (
        "https",
        8443,
        308,
        ("/moved", "/here"),
    )


def test_grpc_methods_are_paths_to_h2c_backends() -> None:
    text = route("""kind: GRPCRoute
metadata: {name: g, namespace: infra}
spec:
  parentRefs: [{name: gw, sectionName: any-ns}]
  rules:
  - matches: [{method: {service: echo.Echo, method: Ping}}, {method: {service: other.Svc}}]
    backendRefs: [{name: web, port: 8080}]
""")
    found = translated(text, gateway_address_pool="127.10.0.0/24")
    assert [(item[1], item[2]) for item in matches(found, 8080)] == [
        ("Exact", "/echo.Echo/Ping"),
        ("Prefix", "/other.Svc"),
    ]
    backend = found.routing.backend(matches(found, 8080)[0][3])
    assert backend.policy.backend.upstream.protocol == "h2c"


def test_tls_and_tcp_routes() -> None:
    text = (
        """
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: streams, namespace: infra}
spec:
  gatewayClassName: ours
  listeners:
  - {name: tls, port: 443, protocol: TLS, tls: {mode: Passthrough}}
  - {name: tcp, port: 5000, protocol: TCP}
"""
        + route("""kind: TLSRoute
metadata: {name: t, namespace: infra}
spec:
  parentRefs: [{name: streams, sectionName: tls}]
  hostnames: [abc.example.com, "*.example.org"]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
""")
        + route("""kind: TCPRoute
metadata: {name: c, namespace: infra}
spec:
  parentRefs: [{name: streams, sectionName: tcp}]
  rules: [{backendRefs: [{name: web, port: 8080, weight: 1}, {name: nothing, port: 1}]}]
""").replace("v1\nkind: TCPRoute", "v1alpha2\nkind: TCPRoute")
    )
    found = translated(text, gateway_address_pool="127.10.0.0/24")
    ports = {p.port: p for p in found.routing.gateway_ports if p.gateway.name == "streams"}
    assert [(r.host, r.backend) for r in ports[443].sni_routes] == [
        ("abc.example.com", "pt_infra_web_8080"),
        ("*.example.org", "pt_infra_web_8080"),
    ]
    assert ports[5000].backend == "pt_infra_web_8080"
    assert parents(found, "c") == [
        {"Accepted": ("True", "Accepted"), "ResolvedRefs": ("False", "BackendNotFound")}
    ]


def test_routes_attach_to_a_listener_that_cannot_serve_yet() -> None:
    text = """
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: unresolved, namespace: infra}
spec:
  gatewayClassName: ours
  listeners:
  - name: tls
    port: 443
    protocol: HTTPS
    tls: {mode: Terminate, certificateRefs: [{name: does-not-exist}]}
""" + route("""kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{name: unresolved, sectionName: tls}]
  rules: [{backendRefs: [{name: does-not-exist, port: 8080}]}]
""")
    found = translated(text, gateway_address_pool="127.10.0.0/24")
    gateway = next(item for item in found.gateway.gateways if item.name == "unresolved")
    (listener,) = gateway.listeners
    assert listener.attached_routes == 1
    assert conditions(listener.conditions)["Programmed"] == ("False", "Invalid")
    assert parents(found, "r")[0]["ResolvedRefs"] == ("False", "BackendNotFound")
    assert not [port for port in found.routing.gateway_ports if port.gateway.name == "unresolved"]


def test_without_an_address_of_its_own_a_gateway_reports_the_publish_addresses() -> None:
    # "10.20" is a DNS name to --publish-address (no IP address reads it), digits or not
    found = translated("", publish_addresses=("192.0.2.1", "2001:db8::1", "10.20"))
    (gateway,) = found.gateway.gateways
    assert [(item.type, item.value) for item in gateway.addresses] == [
        ("IPAddress", "192.0.2.1"),
        ("IPAddress", "2001:db8::1"),
        ("Hostname", "10.20"),
    ]
