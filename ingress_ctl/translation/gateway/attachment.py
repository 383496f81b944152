"""Which listeners a route attaches to, with which hostnames, and why not.

A parentRef names a Gateway of ours, or a ListenerSet whose parent is one (others
are not our business: no status), optionally one listener (sectionName) or port:
a Gateway's own listeners, or the ListenerSet's. The route attaches to each such
listener that is usable, allows its kind and its namespace, and shares a
hostname with it; each attachment carries the hostnames requests are matched
against (the intersection of the route's and the listener's, as the spec says:
the more specific of two that overlap).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ingress_ctl.model.conditions import ParentRef
from ingress_ctl.model.gateway_api import GROUP
from ingress_ctl.model.gateway_objects import LabelSelector, ParentReference
from ingress_ctl.model.matching import ascii_lower
from ingress_ctl.model.objects import Namespace
from ingress_ctl.model.routing import ObjectRef
from ingress_ctl.model.snapshot import NamespacedName
from ingress_ctl.translation.gateway.listeners import (
    GatewayState,
    ListenerSetState,
    ListenerState,
)


@dataclass(frozen=True)
class Attachment:
    listener: ListenerState
    hosts: tuple[str, ...]
    """Exact names, `*.suffix` wildcards, or "" for any host."""


@dataclass(frozen=True)
class Parent:
    """One parentRef of a route: the listeners it attached to, or why none."""

    ref: ParentRef
    attachments: tuple[Attachment, ...]
    refused: tuple[str, str] | None = None
    """(Accepted reason, message) when it attached nowhere."""


def parent_ref(route: ObjectRef, ref: ParentReference) -> ParentRef:
    return ParentRef(
        group=ref.group,
        kind=ref.kind,
        namespace=ref.namespace or route.namespace,
        name=ref.name,
        section_name=ref.section_name,
        port=ref.port,
    )


def attach(
    route: ObjectRef,
    ref: ParentReference,
    hostnames: tuple[str, ...],
    *,
    gateways: Mapping[NamespacedName, GatewayState],
    listener_sets: Mapping[NamespacedName, ListenerSetState],
    namespaces: Mapping[NamespacedName, Namespace],
) -> Parent | None:
    """Where a parentRef attaches; None when it names neither a Gateway of ours nor a
    ListenerSet of one."""
    found = parent_ref(route, ref)
    listeners = _listeners(ref, (found.namespace, ref.name), gateways, listener_sets)
    if listeners is None:
        return None
    if isinstance(listeners, str):
        return Parent(found, (), ("NotAllowedByListeners", listeners))
    candidates = [
        listener
        for listener in listeners
        if (ref.section_name is None or listener.name == ref.section_name)
        and (ref.port is None or listener.port == ref.port)
    ]
    if not candidates:
        return Parent(found, (), ("NoMatchingParent", "no listener matches sectionName/port"))
    allowed = [
        listener
        for listener in candidates
        if listener.attachable
        and route.kind in listener.kinds
        and _namespace_allowed(listener, route.namespace, namespaces)
    ]
    if not allowed:
        message = f"no listener allows a {route.kind} from namespace {route.namespace}"
        return Parent(found, (), ("NotAllowedByListeners", message))
    hosts = [ascii_lower(host) for host in hostnames]
    attachments = tuple(
        Attachment(listener, shared)
        for listener in allowed
        if (shared := intersect(listener.hostname, hosts, kind=route.kind))
    )
    if not attachments:
        message = "no listener hostname matches the route's hostnames"
        return Parent(found, (), ("NoMatchingListenerHostname", message))
    return Parent(found, attachments)


def _listeners(
    ref: ParentReference,
    name: NamespacedName,
    gateways: Mapping[NamespacedName, GatewayState],
    listener_sets: Mapping[NamespacedName, ListenerSetState],
) -> list[ListenerState] | str | None:
    """The listeners a parentRef chooses among; why none, for a ListenerSet its Gateway
    refuses; None when the parent is not ours."""
    if ref.group != GROUP:
        return None
    if ref.kind == "Gateway":
        state = gateways.get(name)
        return None if state is None else state.listeners
    if ref.kind == "ListenerSet":
        found = listener_sets.get(name)
        if found is None:
            return None
        if found.refused is not None:
            return f"ListenerSet {name[0]}/{name[1]} is not attached to its Gateway"
        return found.listeners
    return None


def intersect(listener: str | None, hosts: list[str], *, kind: str) -> tuple[str, ...]:
    """The hostnames requests are matched against, for a route on a listener."""
    if kind == "TCPRoute":
        return ("",)
    if not hosts:
        return (listener or "",)
    if listener is None:
        return tuple(dict.fromkeys(hosts))
    shared = []
    for host in hosts:
        if host == listener or (listener.startswith("*.") and _under(host, listener[1:])):
            shared.append(host)
        elif host.startswith("*.") and _under(listener, host[1:]):
            shared.append(listener)
    return tuple(dict.fromkeys(shared))


def _under(name: str, suffix: str) -> bool:
    """Whether `name` (exact or wildcard) lies within `*` + `suffix` (`.example.com`)."""
    return name.endswith(suffix) and len(name) > len(suffix)


def _namespace_allowed(
    listener: ListenerState, namespace: str, namespaces: Mapping[NamespacedName, Namespace]
) -> bool:
    allowed = listener.listener.allowed_routes.namespaces
    home = listener.owner.metadata.namespace
    return namespace_allowed(allowed.from_, allowed.selector, namespace, home, namespaces)


def namespace_allowed(
    from_: str,
    selector: LabelSelector | None,
    namespace: str,
    home: str,
    namespaces: Mapping[NamespacedName, Namespace],
) -> bool:
    """Whether `from` (All, Same as `home`, Selector) lets objects of `namespace` in."""
    if from_ == "All":
        return True
    if from_ == "Same":
        return namespace == home
    if from_ == "Selector" and selector is not None:
        found = namespaces.get(("", namespace))
        return found is not None and selects(selector, found.metadata.labels)
    return False


def selects(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    """Whether a label selector selects these labels (matchLabels and matchExpressions)."""
    if any(labels.get(key) != value for key, value in selector.match_labels.items()):
        return False
    for expression in selector.match_expressions:
        present = expression.key in labels
        value = labels.get(expression.key)
        if expression.operator == "In" and value not in expression.values:
            return False
        if expression.operator == "NotIn" and present and value in expression.values:
            return False
        if expression.operator == "Exists" and not present:
            return False
        if expression.operator == "DoesNotExist" and present:
            return False
    return True
