"""The status documents of Gateway API objects: kept transition times, other controllers'
route parents kept, ours replaced or dropped, and `differs` deciding when to write."""

from __future__ import annotations

from typing import Any

import pytest

from ingress_ctl.kube.gateway_status import (
    MAX_PARENTS,
    class_status,
    conditions_status,
    desired_status,
    differs,
    gateway_status,
    route_status,
    targets,
)
from ingress_ctl.model.conditions import (
    Condition,
    ConditionStatus,
    GatewayAddressStatus,
    GatewayClassStatus,
    GatewayStatus,
    GatewayStatuses,
    ListenerStatus,
    ParentRef,
    ParentStatus,
    RouteKind,
    RouteStatus,
)
from ingress_ctl.model.objects import parse_object
from ingress_ctl.model.snapshot import Snapshot
from tests.gateway_examples import gateway_api_objects

OURS = "ingress-ctl.io/haproxy"
THEIRS = "example.net/other"
EARLIER, NOW = "2026-01-01T00:00:00Z", "2026-11-30T06:00:00Z"


def accepted(
    status: ConditionStatus = "True", reason: str = "Accepted", message: str = ""
) -> Condition:
    return Condition(
        type="Accepted", status=status, reason=reason, message=message, observed_generation=3
    )


def stored(type_: str, status: str, reason: str, at: str = EARLIER) -> dict[str, Any]:
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": "before",
        "observedGeneration": 2,
        "lastTransitionTime": at,
    }


@pytest.mark.parametrize(
    ("before", "condition", "since"),
    [
        ([], accepted(), NOW),
        ([stored("Accepted", "True", "Accepted")], accepted(message="new words"), EARLIER),
        ([stored("Accepted", "False", "Accepted")], accepted(), NOW),
        ([stored("Accepted", "True", "Pending")], accepted(), NOW),
        ([stored("Programmed", "True", "Accepted")], accepted(), NOW),
        ("not a list", accepted(), NOW),
    ],
    ids=["new", "message only", "status", "reason", "other type", "garbage"],
)
def test_a_condition_keeps_its_transition_time_while_type_status_and_reason_stay(
    before: object, condition: Condition, since: str
) -> None:
    [written] = conditions_status([condition], before, now=NOW)
    assert written == {
        "type": "Accepted",
        "status": "True",
        "reason": "Accepted",
        "message": condition.message,
        "observedGeneration": 3,
        "lastTransitionTime": since,
    }


def test_a_gateway_class_lists_its_features_sorted_as_objects() -> None:
    desired = GatewayClassStatus(
        name="c", conditions=(accepted(),), supported_features=("HTTPRoute", "Gateway", "Gateway")
    )
    written = class_status(desired, {}, now=NOW)
    assert written["supportedFeatures"] == [{"name": "Gateway"}, {"name": "HTTPRoute"}]


def test_a_gateway_writes_addresses_and_each_listeners_kinds_routes_and_conditions() -> None:
    desired = GatewayStatus(
        namespace="ns",
        name="gw",
        addresses=(GatewayAddressStatus(type="IPAddress", value="10.0.0.1"),),
        conditions=(accepted(),),
        listeners=(
            ListenerStatus(
                name="http",
                supported_kinds=(RouteKind(group="gateway.networking.k8s.io", kind="HTTPRoute"),),
                attached_routes=2,
                conditions=(accepted(),),
            ),
        ),
    )
    current = {
        "listeners": [{"name": "http", "conditions": [stored("Accepted", "True", "Accepted")]}]
    }
    written = gateway_status(desired, current, now=NOW)
    assert written["addresses"] == [{"type": "IPAddress", "value": "10.0.0.1"}]
    assert written["conditions"][0]["lastTransitionTime"] == NOW
    [listener] = written["listeners"]
    assert listener["supportedKinds"] == [
        {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}
    ]
    assert listener["attachedRoutes"] == 2
    assert listener["conditions"][0]["lastTransitionTime"] == EARLIER


def parent(name: str, section: str | None = None) -> ParentRef:
    return ParentRef(
        group="gateway.networking.k8s.io",
        kind="Gateway",
        namespace="ns",
        name=name,
        section_name=section,
    )


def entry(controller: str, name: str, at: str = EARLIER, **ref: Any) -> dict[str, Any]:
    return {
        "parentRef": {"name": name, **ref},
        "controllerName": controller,
        "conditions": [stored("Accepted", "True", "Accepted", at)],
    }


def route(*parents: ParentStatus) -> RouteStatus:
    return RouteStatus(kind="HTTPRoute", namespace="ns", name="r", parents=parents)


def test_route_parents_keep_other_controllers_and_replace_ours() -> None:
    current = {
        "parents": [
            entry(THEIRS, "their-gw"),
            entry(OURS, "gw"),  # the API's defaults left out: still the same parent
            entry(OURS, "old-gw"),  # no longer referenced: dropped
        ]
    }
    desired = route(
        ParentStatus(parent=parent("gw"), conditions=(accepted(),)),
        ParentStatus(parent=parent("gw2", "http"), conditions=(accepted(),)),
    )
    written = route_status(desired, current, controller=OURS, now=NOW)["parents"]
    assert written[0] == entry(THEIRS, "their-gw")
    assert [(p["controllerName"], p["parentRef"]) for p in written[1:]] == [
        (
            OURS,
            {
                "group": "gateway.networking.k8s.io",
                "kind": "Gateway",
                "namespace": "ns",
                "name": "gw",
            },
        ),
        (
            OURS,
            {
                "group": "gateway.networking.k8s.io",
                "kind": "Gateway",
                "namespace": "ns",
                "name": "gw2",
                "sectionName": "http",
            },
        ),
    ]
    assert [p["conditions"][0]["lastTransitionTime"] for p in written[1:]] == [EARLIER, NOW]


def test_route_parents_never_exceed_the_crd_bound() -> None:
    current = {"parents": [entry(THEIRS, f"g{i}") for i in range(MAX_PARENTS - 1)]}
    desired = route(*(ParentStatus(parent=parent(f"o{i}"), conditions=()) for i in range(3)))
    written = route_status(desired, current, controller=OURS, now=NOW)["parents"]
    assert len(written) == MAX_PARENTS
    assert written[-1]["parentRef"]["name"] == "o0"


def test_what_the_server_gives_back_reordered_does_not_differ() -> None:
    desired = route(
        ParentStatus(parent=parent("gw"), conditions=(accepted(), accepted("False", "X")))
    )
    written = desired_status(desired, {}, controller=OURS, now=NOW)
    back = {
        "parents": [
            {
                **written["parents"][0],
                "conditions": list(reversed(written["parents"][0]["conditions"])),
            }
        ]
    }
    assert not differs(written, back)
    assert differs(written, {"parents": []})


def test_a_route_without_status_and_none_of_ours_needs_no_write() -> None:
    written = desired_status(route(), {}, controller=OURS, now=NOW)
    assert written == {"parents": []}
    assert not differs(written, {})


def snapshot_with_status(namespace: str, statuses: dict[str, dict[str, Any]]) -> Snapshot:
    objects = []
    for manifest in gateway_api_objects(namespace):
        kind = manifest["kind"]
        parsed = parse_object(
            {**manifest, "status": statuses[kind]} if kind in statuses else manifest
        )
        assert parsed is not None
        objects.append(parsed)
    return Snapshot.of(objects)


def test_targets_are_what_translation_lists_and_every_route_besides() -> None:
    snapshot = snapshot_with_status("ns", {"TCPRoute": {"parents": [entry(OURS, "gw")]}})
    statuses = GatewayStatuses(
        classes=(GatewayClassStatus(name="ingress-ctl-ns", conditions=(accepted(),)),),
        gateways=(
            GatewayStatus(
                namespace="ns", name="missing", addresses=(), conditions=(), listeners=()
            ),
        ),
        routes=(route(ParentStatus(parent=parent("gw"), conditions=(accepted(),))),),
    )
    found = {target.key: target for target in targets(statuses, snapshot)}
    assert sorted(found) == [
        ("BackendTLSPolicy", "ns", "web-tls"),  # stored policies: our ancestors may go
        ("GRPCRoute", "ns", "grpc"),
        ("GatewayClass", "", "ingress-ctl-ns"),
        ("HTTPRoute", "ns", "web"),
        ("TCPRoute", "ns", "tcp"),
        ("TLSRoute", "ns", "tls"),
    ]  # a Gateway the store does not hold is not a target
    tcp = found[("TCPRoute", "ns", "tcp")]
    written = desired_status(tcp.desired, tcp.status, controller=OURS, now=NOW)
    assert written == {"parents": []}  # ours goes: translation no longer lists the route
    assert differs(written, tcp.status)
