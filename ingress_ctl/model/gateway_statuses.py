"""The status of every Gateway API object we own, as one value of the translation.

Apart from its records (model/conditions.py) so that a translation of Ingresses alone,
whose statuses are empty, imports none of them: the fields are checked as tuples of their
record classes by `deferred.tuple_of`, which imports model/conditions.py only for a status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from ingress_ctl.model import deferred
from ingress_ctl.model.routing import Value

if TYPE_CHECKING:
    from ingress_ctl.model.conditions import (
        GatewayClassStatus,
        GatewayStatus,
        ListenerSetStatus,
        PolicyStatus,
        RouteStatus,
    )

    Classes: TypeAlias = tuple[GatewayClassStatus, ...]
    Gateways: TypeAlias = tuple[GatewayStatus, ...]
    ListenerSets: TypeAlias = tuple[ListenerSetStatus, ...]
    Routes: TypeAlias = tuple[RouteStatus, ...]
    Policies: TypeAlias = tuple[PolicyStatus, ...]
else:
    _RECORDS = "ingress_ctl.model.conditions"
    Classes = deferred.tuple_of(_RECORDS, "GatewayClassStatus")
    Gateways = deferred.tuple_of(_RECORDS, "GatewayStatus")
    ListenerSets = deferred.tuple_of(_RECORDS, "ListenerSetStatus")
    Routes = deferred.tuple_of(_RECORDS, "RouteStatus")
    Policies = deferred.tuple_of(_RECORDS, "PolicyStatus")


class GatewayStatuses(Value):
    """The status of every Gateway API object we own, as the suite and users read it."""

    classes: Classes = ()
    gateways: Gateways = ()
    listener_sets: ListenerSets = ()
    routes: Routes = ()
    policies: Policies = ()
