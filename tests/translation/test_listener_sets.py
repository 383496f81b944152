"""ListenerSets: manifests in, merged Gateway ports and statuses out (table tests)."""

from __future__ import annotations

import pytest

from ingress_ctl.model.conditions import ListenerSetStatus
from ingress_ctl.model.settings import Settings
from ingress_ctl.translation import Translation
from tests.certs import TestCA
from tests.manifests import from_yaml, run, tls_secret
from tests.translation.test_gateways import (
    BASE,
    conditions,
    parents,
    route,
    translated,
)

POOL = "127.10.0.0/24"

SHARED = """
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared, namespace: infra, generation: 2, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  gatewayClassName: ours
  allowedListeners: {namespaces: {from: %s}}
  listeners:
  - {name: gw-a, port: 80, protocol: HTTP, hostname: a.example.com, allowedRoutes: {namespaces: {from: All}}}
  - {name: gw-b, port: 80, protocol: HTTP, hostname: b.example.com, allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: v1
kind: Namespace
metadata: {name: apps, labels: {team: apps}}
---
apiVersion: v1
kind: Namespace
metadata: {name: infra}
"""


def shared(allowed: str = "All") -> str:
    return SHARED % allowed


def listener_set(
    name: str, namespace: str, listeners: str, *, created: str = "2024-01-02T00:00:00Z"
) -> str:
    return f"""
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {{name: {name}, namespace: {namespace}, generation: 3, creationTimestamp: "{created}"}}
spec:
  parentRef: {{name: shared, namespace: infra}}
  listeners:
{listeners}
"""


ONE = "  - {name: ls, port: 80, protocol: HTTP, hostname: ls.example.com}\n"


def set_status(translation: Translation, name: str) -> ListenerSetStatus:
    return next(item for item in translation.gateway.listener_sets if item.name == name)


def set_listeners(translation: Translation, name: str) -> dict[str, dict[str, tuple[str, str]]]:
    found = set_status(translation, name)
    return {item.name: conditions(item.conditions) for item in found.listeners}


def served(translation: Translation) -> list[tuple[str, str]]:
    """(host, path) of every match of the shared Gateway's port 80."""
    (port,) = (
        item
        for item in translation.routing.gateway_ports
        if item.gateway.name == "shared" and item.port == 80
    )
    return sorted((match.host, match.path) for match in port.matches)


def attached_sets(translation: Translation) -> int:
    return next(
        item.attached_listener_sets
        for item in translation.gateway.gateways
        if item.name == "shared"
    )


@pytest.mark.parametrize(
    ("allowed", "namespace", "admitted"),
    [
        ("None", "infra", False),
        ("Same", "infra", True),
        ("Same", "apps", False),
        ("All", "apps", True),
        ("Selector, selector: {matchLabels: {team: apps}}", "apps", True),
        ("Selector, selector: {matchLabels: {team: apps}}", "infra", False),
    ],
)
def test_the_gateway_admits_listener_sets_by_namespace(
    allowed: str, namespace: str, admitted: bool
) -> None:
    found = translated(
        shared(allowed) + listener_set("extra", namespace, ONE), gateway_address_pool=POOL
    )
    status = set_status(found, "extra")
    expected = ("True", "Accepted") if admitted else ("False", "NotAllowed")
    assert conditions(status.conditions)["Accepted"] == expected
    assert conditions(status.conditions)["Programmed"][1] == (
        "Programmed" if admitted else "NotAllowed"
    )
    assert all(item.observed_generation == 3 for item in status.conditions)
    assert attached_sets(found) == int(admitted)
    hosts = {match.host for port in found.routing.gateway_ports for match in port.matches}
    assert ("ls.example.com" in hosts) is False  # no route yet: a listener alone serves nothing
    ports = [port for port in found.routing.gateway_ports if port.gateway.name == "shared"]
    assert [port.port for port in ports] == [80]


def test_a_gateway_without_allowed_listeners_admits_none() -> None:
    text = shared("All").replace("  allowedListeners: {namespaces: {from: All}}\n", "")
    found = translated(text + listener_set("extra", "infra", ONE), gateway_address_pool=POOL)
    assert conditions(set_status(found, "extra").conditions)["Accepted"] == ("False", "NotAllowed")
    assert attached_sets(found) == 0


ROUTES = (
    route("""kind: HTTPRoute
metadata: {name: to-set, namespace: infra}
spec:
  parentRefs:
  - {kind: ListenerSet, group: gateway.networking.k8s.io, name: extra, sectionName: ls}
  rules: [{matches: [{path: {value: /set}}], backendRefs: [{name: web, port: 8080}]}]
""")
    + route("""kind: HTTPRoute
metadata: {name: to-gateway, namespace: infra}
spec:
  parentRefs: [{name: shared}]
  rules: [{matches: [{path: {value: /gw}}], backendRefs: [{name: web, port: 8080}]}]
""")
    + route("""kind: HTTPRoute
metadata: {name: set-section-by-gateway, namespace: infra}
spec:
  parentRefs: [{name: shared, sectionName: ls}]
  rules: [{matches: [{path: {value: /bad}}], backendRefs: [{name: web, port: 8080}]}]
""")
)


def test_routes_attach_to_a_listener_set_and_share_the_gateways_port() -> None:
    found = translated(
        shared() + listener_set("extra", "infra", ONE) + ROUTES, gateway_address_pool=POOL
    )
    assert parents(found, "to-set") == [
        {"Accepted": ("True", "Accepted"), "ResolvedRefs": ("True", "ResolvedRefs")}
    ]
    (status,) = next(item for item in found.gateway.routes if item.name == "to-set").parents
    assert (status.parent.kind, status.parent.namespace, status.parent.section_name) == (
        "ListenerSet",
        "infra",
        "ls",
    )
    assert parents(found, "set-section-by-gateway")[0]["Accepted"] == (
        "False",
        "NoMatchingParent",
    )
    (entry,) = set_status(found, "extra").listeners
    assert entry.attached_routes == 1
    gateway = next(item for item in found.gateway.gateways if item.name == "shared")
    assert {item.name: item.attached_routes for item in gateway.listeners} == {
        "gw-a": 1,
        "gw-b": 1,
    }
    assert served(found) == [
        ("a.example.com", "/gw"),
        ("b.example.com", "/gw"),
        ("ls.example.com", "/set"),
    ]


def test_a_refused_listener_set_takes_no_route() -> None:
    found = translated(
        shared("None") + listener_set("extra", "infra", ONE) + ROUTES, gateway_address_pool=POOL
    )
    assert parents(found, "to-set")[0]["Accepted"] == ("False", "NotAllowedByListeners")
    assert served(found) == [("a.example.com", "/gw"), ("b.example.com", "/gw")]


@pytest.mark.parametrize(
    ("clash", "reason"),
    [
        ("{name: clash, port: 80, protocol: HTTP, hostname: b.example.com}", "HostnameConflict"),
        ("{name: clash, port: 80, protocol: TCP}", "ProtocolConflict"),
    ],
)
def test_the_gateways_listeners_then_older_sets_win_conflicts(clash: str, reason: str) -> None:
    first = (
        f"  - {{name: first, port: 80, protocol: HTTP, hostname: one.example.com}}\n  - {clash}\n"
    )
    first += "  - {name: shared-name, port: 80, protocol: HTTP, hostname: s.example.com}\n"
    later = "  - {name: shared-name, port: 80, protocol: HTTP, hostname: s.example.com}\n"
    if reason == "ProtocolConflict":
        later = "  - {name: shared-name, port: 80, protocol: TCP}\n"
    found = translated(
        shared()
        + listener_set("b-later", "infra", later, created="2024-01-03T00:00:00Z")
        + listener_set("a-first", "infra", first)
        + listener_set("z-same-age", "infra", later),
        gateway_address_pool=POOL,
    )
    conflicted = {
        "Accepted": ("False", reason),
        "Programmed": ("False", reason),
        "ResolvedRefs": ("True", "ResolvedRefs"),
        "Conflicted": ("True", reason),
    }
    accepted = {
        "Accepted": ("True", "Accepted"),
        "Programmed": ("True", "Programmed"),
        "ResolvedRefs": ("True", "ResolvedRefs"),
        "Conflicted": ("False", "NoConflicts"),
    }
    assert set_listeners(found, "a-first") == {
        "first": accepted,
        "clash": conflicted,
        "shared-name": accepted,
    }
    for name in ("b-later", "z-same-age"):
        assert set_listeners(found, name) == {"shared-name": conflicted}
        assert conditions(set_status(found, name).conditions) == {
            "Accepted": ("False", "ListenersNotValid"),
            "Programmed": ("False", "ListenersNotValid"),
        }
    assert conditions(set_status(found, "a-first").conditions) == {
        "Accepted": ("True", "Accepted"),
        "Programmed": ("True", "Programmed"),
    }
    gateway = next(item for item in found.gateway.gateways if item.name == "shared")
    assert {item.name: conditions(item.conditions)["Conflicted"] for item in gateway.listeners} == {
        "gw-a": ("False", "NoConflicts"),
        "gw-b": ("False", "NoConflicts"),
    }
    assert attached_sets(found) == 1


def test_route_namespaces_same_means_the_listener_sets_namespace() -> None:
    entry = "  - {name: ls, port: 80, protocol: HTTP, hostname: ls.example.com, allowedRoutes: {namespaces: {from: Same}}}\n"
    text = shared() + listener_set("extra", "apps", entry)
    for namespace in ("apps", "infra"):
        text += route(f"""kind: HTTPRoute
metadata: {{name: from-{namespace}, namespace: {namespace}}}
spec:
  parentRefs: [{{kind: ListenerSet, name: extra, namespace: apps}}]
  rules: [{{backendRefs: [{{name: app, namespace: apps, port: 80}}]}}]
""")
    found = translated(text, gateway_address_pool=POOL)
    assert parents(found, "from-apps")[0]["Accepted"] == ("True", "Accepted")
    assert parents(found, "from-infra")[0]["Accepted"] == ("False", "NotAllowedByListeners")


@pytest.mark.parametrize(
    ("granted", "resolved", "accepted"),
    [
        ("Gateway", ("False", "RefNotPermitted"), ("False", "ListenersNotValid")),
        ("ListenerSet", ("True", "ResolvedRefs"), ("True", "Accepted")),
    ],
)
def test_a_listener_sets_certificate_in_another_namespace_needs_a_grant_to_listener_sets(
    granted: str, resolved: tuple[str, str], accepted: tuple[str, str]
) -> None:
    https = """  - name: tls
    port: 443
    protocol: HTTPS
    hostname: ls.example.com
    tls: {certificateRefs: [{name: cert, namespace: certs}]}
"""
    grant = f"""
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {{name: to-sets, namespace: certs}}
spec:
  from: [{{group: gateway.networking.k8s.io, kind: {granted}, namespace: infra}}]
  to: [{{group: "", kind: Secret}}]
"""
    issued = TestCA().issue("ls.example.com")
    secret = tls_secret("cert", issued.chain_pem, issued.key_pem, namespace="certs")
    found = run(
        *from_yaml(BASE + shared() + listener_set("extra", "infra", https) + grant),
        secret,
        settings=Settings(gateway_address_pool=POOL),
    )
    assert set_listeners(found, "extra")["tls"]["ResolvedRefs"] == resolved
    assert conditions(set_status(found, "extra").conditions)["Accepted"] == accepted
    served = [port.port for port in found.routing.gateway_ports if port.gateway.name == "shared"]
    assert served == ([80, 443] if granted == "ListenerSet" else [80])


def test_listener_sets_of_a_gateway_that_cannot_be_accepted() -> None:
    text = shared().replace(
        "  gatewayClassName: ours\n",
        "  gatewayClassName: ours\n  addresses: [{type: Hostname, value: gw.example.com}]\n",
    )
    found = translated(text + listener_set("extra", "infra", ONE), gateway_address_pool=POOL)
    assert conditions(set_status(found, "extra").conditions)["Accepted"] == (
        "False",
        "ParentNotAccepted",
    )


def test_listener_sets_of_other_gateways_get_no_status() -> None:
    text = listener_set("extra", "infra", ONE).replace("name: shared", "name: elsewhere")
    found = translated(shared() + text, gateway_address_pool=POOL)
    assert found.gateway.listener_sets == ()
