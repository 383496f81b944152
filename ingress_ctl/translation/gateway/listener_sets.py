"""ListenerSets: which Gateway of ours takes their listeners, and the status they get.

A ListenerSet names its parent Gateway (`spec.parentRef`); only one of our
Gateways concerns us. The Gateway admits it when its `allowedListeners`
lets the ListenerSet's namespace in (`None`, the default, lets none; `Same`,
`Selector` by the namespace's labels, `All`); else the set is refused
(`NotAllowed`), as it is when its Gateway cannot be accepted
(`ParentNotAccepted`). Admitted sets are ordered as the spec's precedence
says (oldest first, then namespace/name): `listeners.check_listeners` merges
their listeners after the Gateway's own in that order. A set is accepted when
at least one of its listeners can serve (else `ListenersNotValid`); the
Gateway's `attachedListenerSets` counts the accepted ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ingress_ctl.model.conditions import ListenerSetStatus
from ingress_ctl.model.gateway_api import GROUP
from ingress_ctl.model.gateway_objects import Gateway, ListenerSet
from ingress_ctl.model.objects import Namespace
from ingress_ctl.model.routing import ObjectRef
from ingress_ctl.model.snapshot import NamespacedName
from ingress_ctl.translation.gateway.attachment import namespace_allowed
from ingress_ctl.translation.gateway.conditions import ACCEPTED, PROGRAMMED, condition
from ingress_ctl.translation.gateway.listeners import GatewayState, ListenerSetState

NOT_ALLOWED = "NotAllowed"
PARENT_NOT_ACCEPTED = "ParentNotAccepted"
LISTENERS_NOT_VALID = "ListenersNotValid"


def listener_sets_of(
    gateways: Iterable[Gateway],
    listener_sets: Iterable[ListenerSet],
    namespaces: Mapping[NamespacedName, Namespace],
) -> dict[NamespacedName, list[ListenerSetState]]:
    """The ListenerSets of each of these Gateways, by the Gateway's namespace/name, in the
    spec's precedence; those the Gateway does not admit are `refused`."""
    parents = {(item.metadata.namespace, item.metadata.name): item for item in gateways}
    found: dict[NamespacedName, list[ListenerSetState]] = {}
    for item in sorted(listener_sets, key=lambda item: item.metadata.age):
        meta = item.metadata
        ref = item.spec.parent_ref
        key = (ref.namespace or meta.namespace, ref.name)
        parent = parents.get(key)
        if ref.group != GROUP or ref.kind != "Gateway" or parent is None:
            continue
        state = ListenerSetState(
            listener_set=item,
            source=ObjectRef(kind="ListenerSet", namespace=meta.namespace, name=meta.name),
        )
        if not _admits(parent, meta.namespace, namespaces):
            state.refused = NOT_ALLOWED
        found.setdefault(key, []).append(state)
    return found


def _admits(
    gateway: Gateway, namespace: str, namespaces: Mapping[NamespacedName, Namespace]
) -> bool:
    allowed = gateway.spec.allowed_listeners.namespaces
    home = gateway.metadata.namespace
    return namespace_allowed(allowed.from_, allowed.selector, namespace, home, namespaces)


def listener_set_status(state: ListenerSetState) -> ListenerSetStatus:
    """Accepted/Programmed of a ListenerSet and the status of each of its listeners."""
    meta = state.listener_set.metadata
    generation = meta.generation
    if state.refused is not None:
        reason, ok = state.refused, False
    elif not state.accepted:
        reason, ok = LISTENERS_NOT_VALID, False
    else:
        reason, ok = "", True
    invalid = [item.name for item in state.listeners if not item.usable]
    message = f"not valid: {', '.join(invalid)}" if invalid else ""
    return ListenerSetStatus(
        namespace=meta.namespace,
        name=meta.name,
        conditions=(
            condition(ACCEPTED, ok, reason or "Accepted", message, generation=generation),
            condition(PROGRAMMED, ok, reason or "Programmed", message, generation=generation),
        ),
        listeners=tuple(item.status() for item in state.listeners),
    )


def attached_listener_sets(state: GatewayState) -> int:
    """How many ListenerSets a Gateway has accepted (its `attachedListenerSets`)."""
    return sum(1 for item in state.listener_sets if item.accepted)
