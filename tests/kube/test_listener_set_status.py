"""The status documents of ListenerSets, and the Gateway's count of them."""

from __future__ import annotations

from dataclasses import replace

from ingress_ctl.kube.gateway_status import desired_status, differs, gateway_status, targets
from ingress_ctl.model.conditions import (
    Condition,
    GatewayStatus,
    GatewayStatuses,
    ListenerSetStatus,
    ListenerStatus,
    RouteKind,
)
from ingress_ctl.model.objects import parse_object
from ingress_ctl.model.snapshot import Snapshot

NOW = "2026-11-30T06:00:00Z"
EARLIER = "2026-01-01T00:00:00Z"


def accepted(reason: str = "Accepted") -> Condition:
    return Condition(type="Accepted", status="True", reason=reason, observed_generation=3)


def test_a_listener_set_writes_conditions_and_each_listener() -> None:
    desired = ListenerSetStatus(
        namespace="apps",
        name="extra",
        conditions=(accepted(),),
        listeners=(
            ListenerStatus(
                name="ls",
                supported_kinds=(RouteKind(group="gateway.networking.k8s.io", kind="HTTPRoute"),),
                attached_routes=3,
                conditions=(accepted(),),
            ),
        ),
    )
    before = {
        "type": "Accepted",
        "status": "True",
        "reason": "Accepted",
        "observedGeneration": 3,
        "lastTransitionTime": EARLIER,
    }
    current = {"listeners": [{"name": "ls", "conditions": [before]}]}
    written = desired_status(desired, current, controller="ours", now=NOW)
    assert written["conditions"][0]["lastTransitionTime"] == NOW
    [listener] = written["listeners"]
    assert listener["attachedRoutes"] == 3
    assert listener["supportedKinds"] == [
        {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}
    ]
    assert listener["conditions"][0]["lastTransitionTime"] == EARLIER
    assert differs(written, current)
    assert not differs(written, written)


def test_a_gateway_writes_how_many_listener_sets_it_accepted() -> None:
    desired = GatewayStatus(
        namespace="ns",
        name="gw",
        addresses=(),
        conditions=(),
        listeners=(),
        attached_listener_sets=2,
    )
    written = gateway_status(desired, {}, now=NOW)
    assert written["attachedListenerSets"] == 2
    assert differs(written, {**written, "attachedListenerSets": 1})
    none = gateway_status(replace(desired, attached_listener_sets=0), written, now=NOW)
    assert none["attachedListenerSets"] is None  # the merge patch removes the field
    stored = {key: value for key, value in none.items() if key != "attachedListenerSets"}
    assert not differs(none, stored)  # what a CRD without the field keeps: no write again


def test_listener_sets_the_store_holds_are_targets() -> None:
    manifest = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "ListenerSet",
        "metadata": {"name": "extra", "namespace": "apps", "resourceVersion": "12"},
        "spec": {
            "parentRef": {"name": "gw", "namespace": "ns"},
            "listeners": [{"name": "ls", "port": 80, "protocol": "HTTP"}],
        },
        "status": {"conditions": []},
    }
    parsed = parse_object(manifest)
    assert parsed is not None
    status = ListenerSetStatus(namespace="apps", name="extra", conditions=(), listeners=())
    gone = ListenerSetStatus(namespace="apps", name="gone", conditions=(), listeners=())
    statuses = GatewayStatuses(listener_sets=(status, gone))
    [target] = targets(statuses, Snapshot.of([parsed]))
    assert target.key == ("ListenerSet", "apps", "extra")
    assert target.resource_version == "12"
    assert target.desired == status
