"""Fields checked by `deferred.tuple_of`: the routing model's Gateway ports and splits, the
Gateway API statuses. They take what pydantic's own schema of their class took from
translation (tuples of instances, lists made tuples) and refuse anything else."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from ingress_ctl.model.conditions import Condition, GatewayClassStatus, GatewayStatuses
from ingress_ctl.model.routing import Routing
from tests.gateway_models import http_port, match, split

ACCEPTED = Condition(type="Accepted", status="True", reason="Accepted")


def routing(**fields: Any) -> Routing:
    return Routing(default_backend="builtin_404", default_source="built-in 404", **fields)


def test_ports_and_splits_are_tuples_of_their_class() -> None:
    port, shared = http_port(80, match("", "/", "be_a")), split("split_a", ("be_a", 1))
    found = routing(gateway_ports=[port], splits=[shared])
    assert found.gateway_ports == (port,)
    assert found.splits == (shared,)
    assert routing(gateway_ports=(port,)) == found.model_copy(update={"splits": ()})


def test_statuses_are_tuples_of_their_records() -> None:
    status = GatewayClassStatus(name="haproxy", conditions=(ACCEPTED,))
    assert GatewayStatuses(classes=[status]).classes == (status,)
    assert GatewayStatuses() == GatewayStatuses(classes=(), gateways=[])


@pytest.mark.parametrize(
    "fields",
    [
        {"gateway_ports": (split("split_a", ("be_a", 1)),)},
        {"splits": (http_port(80),)},
        {"splits": ({"name": "split_a", "backends": ()},)},
        {"gateway_ports": "80"},
        {"splits": None},
    ],
)
def test_anything_else_is_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        routing(**fields)


def test_statuses_refuse_other_records() -> None:
    with pytest.raises(ValidationError, match="instance of GatewayClassStatus"):
        GatewayStatuses(classes=(ACCEPTED,))
