"""The status the Gateway API objects we own should carry, and which need writing.

From translation's `GatewayStatuses` and an object's current status (raw, as the
API server holds it), the status fields to write: GatewayClass conditions and
supportedFeatures (`- name: X`, sorted, as the v1.6 CRD wants), Gateway
addresses, conditions, listeners and attachedListenerSets, ListenerSet
conditions and listeners, route `status.parents` and policy `status.ancestors`, where only
the entries whose controllerName is ours are replaced (another controller's are
kept; ours for parents no longer referenced go). A condition keeps its
lastTransitionTime while its type, status and reason stay the same, else takes
`now`. Every field the API server would default is written explicitly, so what
it stores compares equal to what we computed: `differs` then says whether a
write is needed at all. Pure: the writer (`gateway_writing`) does the I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ingress_ctl.model.conditions import (
    Condition,
    GatewayClassStatus,
    GatewayStatus,
    GatewayStatuses,
    ListenerSetStatus,
    ListenerStatus,
    ParentRef,
    PolicyStatus,
    RouteStatus,
)
from ingress_ctl.model.gateway_api import GROUP
from ingress_ctl.model.gateway_objects import (
    BackendTLSPolicy,
    Gateway,
    GatewayClass,
    GRPCRoute,
    HTTPRoute,
    ListenerSet,
    Route,
    TCPRoute,
    TLSRoute,
)
from ingress_ctl.model.snapshot import Snapshot

Document = dict[str, Any]
"""A status (or a part of one) as the API server's JSON holds it."""
ObjectKey = tuple[str, str, str]
"""(kind, namespace, name); namespace "" for a GatewayClass."""
Desired = GatewayClassStatus | GatewayStatus | ListenerSetStatus | RouteStatus | PolicyStatus

MAX_MESSAGE = 32768
MAX_PARENTS = 32
MAX_ADDRESSES = 16
"""Bounds of the v1.6 CRDs (messages, route parents, Gateway addresses)."""


def conditions_status(desired: Sequence[Condition], current: object, *, now: str) -> list[Document]:
    """The conditions to write, each keeping its current lastTransitionTime while its
    type, status and reason are unchanged."""
    before = {found.get("type"): found for found in _documents(current)}
    written = []
    for condition in desired:
        previous = before.get(condition.type, {})
        unchanged = (previous.get("status"), previous.get("reason")) == (
            condition.status,
            condition.reason,
        )
        since = previous.get("lastTransitionTime")
        written.append(
            {
                "type": condition.type,
                "status": condition.status,
                "reason": condition.reason,
                "message": condition.message[:MAX_MESSAGE],
                "observedGeneration": condition.observed_generation,
                "lastTransitionTime": since if unchanged and isinstance(since, str) else now,
            }
        )
    return written


def class_status(desired: GatewayClassStatus, current: Document, *, now: str) -> Document:
    """A GatewayClass's status: conditions, and its supported features sorted by name."""
    return {
        "conditions": conditions_status(desired.conditions, current.get("conditions"), now=now),
        "supportedFeatures": [{"name": name} for name in sorted(set(desired.supported_features))],
    }


def gateway_status(desired: GatewayStatus, current: Document, *, now: str) -> Document:
    """A Gateway's status: addresses, conditions, each listener's, attachedListenerSets."""
    return {
        "addresses": [
            {"type": address.type, "value": address.value}
            for address in desired.addresses[:MAX_ADDRESSES]
        ],
        "conditions": conditions_status(desired.conditions, current.get("conditions"), now=now),
        "listeners": listeners_status(desired.listeners, current, now=now),
        # None (removed by the merge patch) rather than 0: a CRD older than v1.5 prunes the
        # field, and a 0 written there would differ from what is stored forever.
        "attachedListenerSets": desired.attached_listener_sets or None,
    }


def listener_set_status(desired: ListenerSetStatus, current: Document, *, now: str) -> Document:
    """A ListenerSet's status: conditions and each listener's."""
    return {
        "conditions": conditions_status(desired.conditions, current.get("conditions"), now=now),
        "listeners": listeners_status(desired.listeners, current, now=now),
    }


def listeners_status(
    desired: Sequence[ListenerStatus], current: Document, *, now: str
) -> list[Document]:
    """`status.listeners` of a Gateway or a ListenerSet."""
    listeners = {found.get("name"): found for found in _documents(current.get("listeners"))}
    return [
        {
            "name": listener.name,
            "supportedKinds": [
                {"group": kind.group, "kind": kind.kind} for kind in listener.supported_kinds
            ],
            "attachedRoutes": listener.attached_routes,
            "conditions": conditions_status(
                listener.conditions,
                listeners.get(listener.name, {}).get("conditions"),
                now=now,
            ),
        }
        for listener in desired
    ]


def parent_reference(parent: ParentRef) -> Document:
    """A parentRef as the API server stores it (defaults spelled out)."""
    found: Document = {
        "group": parent.group,
        "kind": parent.kind,
        "namespace": parent.namespace,
        "name": parent.name,
    }
    if parent.section_name is not None:
        found["sectionName"] = parent.section_name
    if parent.port is not None:
        found["port"] = parent.port
    return found


def route_status(desired: RouteStatus, current: Document, *, controller: str, now: str) -> Document:
    """A route's `status.parents`: other controllers' entries as they are, then ours (at most
    MAX_PARENTS in all); ours for parents translation no longer lists are dropped."""
    parents = [(parent.parent, parent.conditions) for parent in desired.parents]
    entries = _entries(
        parents, current.get("parents"), "parentRef", desired.namespace, controller, now
    )
    return {"parents": entries}


def policy_status(
    desired: PolicyStatus, current: Document, *, controller: str, now: str
) -> Document:
    """A policy's `status.ancestors`, kept as a route's parents are (MAX_PARENTS in all)."""
    ancestors = [(item.ancestor, item.conditions) for item in desired.ancestors]
    entries = _entries(
        ancestors, current.get("ancestors"), "ancestorRef", desired.namespace, controller, now
    )
    return {"ancestors": entries}


def _entries(
    desired: Sequence[tuple[ParentRef, tuple[Condition, ...]]],
    current: object,
    field: str,
    namespace: str,
    controller: str,
    now: str,
) -> list[Document]:
    """Other controllers' entries of a parents/ancestors list, then ours for `desired`."""
    entries = _documents(current)
    others = [entry for entry in entries if entry.get("controllerName") != controller]
    ours_before = {
        _parent_key(entry.get(field), namespace): entry
        for entry in entries
        if entry.get("controllerName") == controller
    }
    ours = []
    for parent, conditions in desired[: max(MAX_PARENTS - len(others), 0)]:
        reference = parent_reference(parent)
        before = ours_before.get(_parent_key(reference, namespace), {})
        ours.append(
            {
                field: reference,
                "controllerName": controller,
                "conditions": conditions_status(conditions, before.get("conditions"), now=now),
            }
        )
    return others + ours


def desired_status(desired: Desired, current: Document, *, controller: str, now: str) -> Document:
    """The status fields to write for one object."""
    if isinstance(desired, GatewayClassStatus):
        return class_status(desired, current, now=now)
    if isinstance(desired, GatewayStatus):
        return gateway_status(desired, current, now=now)
    if isinstance(desired, ListenerSetStatus):
        return listener_set_status(desired, current, now=now)
    if isinstance(desired, PolicyStatus):
        return policy_status(desired, current, controller=controller, now=now)
    return route_status(desired, current, controller=controller, now=now)


def differs(written: Document, current: Document) -> bool:
    """Whether writing `written` would change `current`: field by field, lists compared
    without regard to order, a missing list equal to an empty one."""
    return not all(
        _same(value, current.get(key, [] if isinstance(value, list) else None))
        for key, value in written.items()
    )


@dataclass(frozen=True)
class Target:
    """One object we may write the status of, as the store holds it now."""

    key: ObjectKey
    desired: Desired
    status: Document
    resource_version: str


def targets(statuses: GatewayStatuses, snapshot: Snapshot) -> Iterator[Target]:
    """Every object translation computed a status for and the store holds, and every route
    that translation no longer lists (its entries of ours must go)."""
    classes = snapshot.objects(GatewayClass)
    for found in statuses.classes:
        gateway_class = classes.get(("", found.name))
        if gateway_class is not None:
            yield _target(("GatewayClass", "", found.name), found, gateway_class)
    gateways = snapshot.objects(Gateway)
    for gateway in statuses.gateways:
        view = gateways.get((gateway.namespace, gateway.name))
        if view is not None:
            yield _target(("Gateway", gateway.namespace, gateway.name), gateway, view)
    listener_sets = snapshot.objects(ListenerSet)
    for listener_set in statuses.listener_sets:
        declared = listener_sets.get((listener_set.namespace, listener_set.name))
        if declared is not None:
            key = ("ListenerSet", listener_set.namespace, listener_set.name)
            yield _target(key, listener_set, declared)
    listed = {(route.kind, route.namespace, route.name): route for route in statuses.routes}
    routes: list[Route] = [
        *snapshot.objects(HTTPRoute).values(),
        *snapshot.objects(GRPCRoute).values(),
        *snapshot.objects(TLSRoute).values(),
        *snapshot.objects(TCPRoute).values(),
    ]
    for route in routes:
        key = (route.kind, route.metadata.namespace, route.metadata.name)
        desired = listed.get(key) or RouteStatus(
            kind=key[0], namespace=key[1], name=key[2], parents=()
        )
        yield _target(key, desired, route)
    listed_policies = {(item.namespace, item.name): item for item in statuses.policies}
    for (namespace, name), policy in snapshot.objects(BackendTLSPolicy).items():
        policy_key = (policy.kind, namespace, name)
        wanted = listed_policies.get((namespace, name)) or PolicyStatus(
            kind=policy.kind, namespace=namespace, name=name, ancestors=()
        )
        yield _target(policy_key, wanted, policy)


def _target(
    key: ObjectKey,
    desired: Desired,
    view: GatewayClass | Gateway | ListenerSet | Route | BackendTLSPolicy,
) -> Target:
    return Target(
        key=key,
        desired=desired,
        status=view.status,
        resource_version=view.metadata.resource_version,
    )


def _documents(value: object) -> list[Document]:
    """The objects of a JSON list (anything else in it, or a non-list, is ignored)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def _parent_key(reference: object, namespace: str) -> tuple[object, ...]:
    """A parentRef with the API's defaults applied (the route's namespace included)."""
    found: Mapping[str, object] = reference if isinstance(reference, dict) else {}
    return (
        found.get("group", GROUP),
        found.get("kind", "Gateway"),
        found.get("namespace") or namespace,
        found.get("name"),
        found.get("sectionName"),
        found.get("port"),
    )


def _same(written: object, current: object) -> bool:
    """Equal, or equal once the order of keys and of list items is set aside."""
    return written == current or _unordered(written) == _unordered(current)


def _unordered(value: object) -> object:
    """A hashable form of a JSON value that forgets the order of keys and of list items."""
    if isinstance(value, dict):
        return frozenset((key, _unordered(item)) for key, item in value.items())
    if isinstance(value, list):
        return ("list", frozenset(Counter(_unordered(item) for item in value).items()))
    return value
