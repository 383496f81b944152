"""BackendTLSPolicy status: `status.ancestors` written like route parents, and every policy
in the store is a target (ours dropped when no Gateway of ours uses it any more)."""

from __future__ import annotations

from typing import Any

from ingress_ctl.kube.gateway_status import desired_status, differs, targets
from ingress_ctl.model.conditions import GatewayStatuses, PolicyAncestor, PolicyStatus
from ingress_ctl.model.objects import parse_object
from ingress_ctl.model.snapshot import Snapshot
from tests.kube.test_gateway_status import EARLIER, NOW, OURS, THEIRS, accepted, parent, stored


def ancestor(controller: str, name: str) -> dict[str, Any]:
    return {
        "ancestorRef": {"name": name, "namespace": "ns"},
        "controllerName": controller,
        "conditions": [stored("Accepted", "True", "Accepted")],
    }


def policy(*ancestors: PolicyAncestor) -> PolicyStatus:
    return PolicyStatus(kind="BackendTLSPolicy", namespace="ns", name="p", ancestors=ancestors)


def test_policy_ancestors_keep_other_controllers_and_replace_ours() -> None:
    current = {"ancestors": [ancestor(THEIRS, "their-gw"), ancestor(OURS, "gw")]}
    desired = policy(PolicyAncestor(ancestor=parent("gw"), conditions=(accepted(),)))
    written = desired_status(desired, current, controller=OURS, now=NOW)
    assert written["ancestors"][0] == ancestor(THEIRS, "their-gw")
    ours = written["ancestors"][1]
    assert ours["ancestorRef"] == {
        "group": "gateway.networking.k8s.io",
        "kind": "Gateway",
        "namespace": "ns",
        "name": "gw",
    }
    assert ours["controllerName"] == OURS
    assert ours["conditions"][0]["lastTransitionTime"] == EARLIER
    assert differs(written, current)


def test_every_stored_policy_is_a_target_and_an_unused_one_loses_our_ancestors() -> None:
    raw = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "BackendTLSPolicy",
        "metadata": {"name": "p", "namespace": "ns", "resourceVersion": "7"},
        "spec": {"targetRefs": [], "validation": {"hostname": "a.example"}},
        "status": {"ancestors": [ancestor(THEIRS, "their-gw"), ancestor(OURS, "gw")]},
    }
    found = parse_object(raw)
    assert found is not None
    snapshot = Snapshot.of([found])
    [target] = [item for item in targets(GatewayStatuses(), snapshot)]
    assert target.key == ("BackendTLSPolicy", "ns", "p")
    assert target.resource_version == "7"
    written = desired_status(target.desired, target.status, controller=OURS, now=NOW)
    assert written == {"ancestors": [ancestor(THEIRS, "their-gw")]}
