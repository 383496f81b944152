"""Server slots: sticky, growing by doubling, never shrinking while the backend lives."""

from __future__ import annotations

import pytest

from ingress_ctl.haproxy.slots import MIN_SLOTS, Layout, assign_slots, slot_count
from ingress_ctl.model.routing import Backend, Routing, Server


def routing(*servers: str, resolve: bool = False) -> Routing:
    backend = Backend(name="be", servers=tuple(_server(s) for s in servers), resolve=resolve)
    return Routing(default_backend="be", default_source="test", backends=(backend,))


def _server(text: str) -> Server:
    address, _, port = text.partition(":")
    return Server(address=address, port=int(port or 80))


def addresses(layout: Layout) -> list[str | None]:
    return [f"{s.address}:{s.port}" if s else None for s in layout.backends["be"]]


@pytest.mark.parametrize(
    ("servers", "slots"), [(0, MIN_SLOTS), (1, 4), (4, 4), (5, 8), (8, 8), (9, 16), (100, 128)]
)
def test_slot_count_is_a_power_of_two_at_least_the_minimum(servers: int, slots: int) -> None:
    assert slot_count(servers) == slots


def test_fresh_layout_fills_slots_in_order() -> None:
    layout = assign_slots(routing("10.0.0.2", "10.0.0.1"))
    assert addresses(layout) == ["10.0.0.2:80", "10.0.0.1:80", None, None]


def test_a_server_that_stays_keeps_its_slot() -> None:
    first = assign_slots(routing("10.0.0.1", "10.0.0.2", "10.0.0.3"))
    second = assign_slots(routing("10.0.0.3", "10.0.0.4"), previous=first)
    assert addresses(second) == ["10.0.0.4:80", None, "10.0.0.3:80", None]


def test_scaling_down_keeps_the_slots_and_scaling_up_reuses_them() -> None:
    ten = [f"10.0.0.{i}" for i in range(1, 11)]
    big = assign_slots(routing(*ten))
    small = assign_slots(routing("10.0.0.5"), previous=big)
    again = assign_slots(routing(*ten), previous=small)
    assert len(big.backends["be"]) == len(small.backends["be"]) == len(again.backends["be"]) == 16
    assert addresses(small).count(None) == 15
    assert addresses(small)[4] == "10.0.0.5:80"
    assert sorted(a for a in addresses(again) if a) == sorted(f"{a}:80" for a in ten)


def test_growing_past_the_slots_doubles() -> None:
    layout = assign_slots(
        routing(*(f"10.0.0.{i}" for i in range(1, 6))), previous=assign_slots(routing("10.0.0.1"))
    )
    assert len(layout.backends["be"]) == 8
    assert addresses(layout)[0] == "10.0.0.1:80"


def test_weight_changes_stay_in_the_same_slot() -> None:
    first = assign_slots(routing("10.0.0.1", "10.0.0.2"))
    heavier = Routing(
        default_backend="be",
        default_source="test",
        backends=(Backend(name="be", servers=(Server(address="10.0.0.2", port=80, weight=5),)),),
    )
    second = assign_slots(heavier, previous=first)
    assert second.backends["be"][1] == Server(address="10.0.0.2", port=80, weight=5)
    assert second.backends["be"][0] is None


def test_external_name_backends_use_slots_too() -> None:
    """Their addresses are resolved and checked by the controller: a changed answer is a
    runtime update of a slot, like an endpoint change."""
    layout = assign_slots(routing("192.0.2.1:443", resolve=True))
    assert layout.backends["be"][0] == Server(address="192.0.2.1", port=443)
