"""The status translation computes for Gateway API objects: conditions, listeners, parents.

Values only: the status writer (`kube/`) adds what the API needs besides
(lastTransitionTime, kept while a condition does not change; the route parents'
controllerName) and writes only what differs. `GatewayStatuses`, the value that holds
them all, is in model/gateway_statuses.py (and named here too, for its readers).
"""

from __future__ import annotations

from typing import Literal

from pydantic.dataclasses import dataclass

from ingress_ctl.model.gateway_statuses import GatewayStatuses as GatewayStatuses  # noqa: PLC0414 (re-export)
from ingress_ctl.model.routing import RECORD

ConditionStatus = Literal["True", "False", "Unknown"]


@dataclass(frozen=True, slots=True, kw_only=True, config=RECORD)
class Condition:
    type: str
    status: ConditionStatus
    reason: str
    message: str = ""
    observed_generation: int = 0


@dataclass(frozen=True, slots=True, kw_only=True, config=RECORD)
class RouteKind:
    group: str
    kind: str


@dataclass(frozen=True, slots=True, kw_only=True, config=RECORD)
class ListenerStatus:
    name: str
    supported_kinds: tuple[RouteKind, ...]
    attached_routes: int
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True, kw_only=True, config=RECORD)
class GatewayClassStatus:
    name: str
    conditions: tuple[Condition, ...]
    supported_features: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, config=RECORD)
class GatewayAddressStatus:
    type: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True, config=RECORD)
class GatewayStatus:
    namespace: str
    name: str
    addresses: tuple[GatewayAddressStatus, ...]
    conditions: tuple[Condition, ...]
    listeners: tuple[ListenerStatus, ...]
    attached_listener_sets: int = 0
    """The ListenerSets whose listeners joined this Gateway's (Accepted)."""


@dataclass(frozen=True, slots=True, kw_only=True, config=RECORD)
class ListenerSetStatus:
    namespace: str
    name: str
    conditions: tuple[Condition, ...]
    listeners: tuple[ListenerStatus, ...]


@dataclass(frozen=True, slots=True, kw_only=True, config=RECORD)
class ParentRef:
    """A route's parentRef as the route wrote it (echoed in its status)."""

    group: str
    kind: str
    namespace: str
    name: str
    section_name: str | None = None
    port: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=RECORD)
class ParentStatus:
    parent: ParentRef
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True, kw_only=True, config=RECORD)
class RouteStatus:
    kind: str
    namespace: str
    name: str
    parents: tuple[ParentStatus, ...]
    """Only the parents that are ours (Gateways of our GatewayClasses)."""


@dataclass(frozen=True, slots=True, kw_only=True, config=RECORD)
class PolicyAncestor:
    ancestor: ParentRef
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True, kw_only=True, config=RECORD)
class PolicyStatus:
    """A policy's `status.ancestors`: the Gateways of ours it is used on."""

    kind: str
    namespace: str
    name: str
    ancestors: tuple[PolicyAncestor, ...]
