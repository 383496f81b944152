"""The lines rendering joins in Python rather than in a template (server slots): every line is
what the sink's escaping function makes of each of its words alone, or the render is refused."""

from __future__ import annotations

from ipaddress import IPv4Address, ip_address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingress_ctl.haproxy import escaping, naming, rendering
from ingress_ctl.haproxy.slots import Slot
from ingress_ctl.model.policies import CANARY_COOKIE
from ingress_ctl.model.routing import Server

ADDRESSES = st.one_of(
    st.ip_addresses().map(str),
    st.text(alphabet="a1.:[]_-/@+ '$#\\\n\r\x00é", max_size=12),
    st.text(max_size=6),
)
"""Addresses as the model holds them (IPv4, IPv6) and hostile ones the model would refuse."""
FILLED = st.builds(
    lambda addresses, port, weight, empty: (
        *(Server(address, port, weight) for address in addresses),
        *(None,) * empty,
    ),
    st.lists(st.one_of(st.ip_addresses(v=4).map(str), ADDRESSES), min_size=1, max_size=20),
    st.integers(1, 65535),
    st.integers(0, 256),
    st.integers(0, 8),
)
"""Servers filling the first slots on one port with one weight, as `render` lays them out."""
MIXED = st.builds(
    lambda servers, empty: (*servers, *(None,) * empty),
    st.lists(
        st.builds(
            Server, st.ip_addresses(v=4).map(str), st.sampled_from([80, 81]), st.integers(0, 2)
        ),
        min_size=1,
        max_size=6,
    ),
    st.integers(0, 4),
)
"""Servers filling the first slots, on one port with one weight or not."""
SLOTS = st.lists(
    st.one_of(
        st.none(),
        st.builds(Server, ADDRESSES, st.integers(1, 65535), st.integers(0, 256)),
    ),
    max_size=20,
)


def expected_line(index: int, slot: Slot, *, sticky: bool) -> str:
    """Slot `index` (from 0) as a line, each word through `escaping.config_word` alone."""
    word = escaping.config_word
    name = word(naming.server_name(index + 1))
    if slot is None:
        where, state = word(naming.EMPTY_SLOT), "disabled"
    else:
        where = word(naming.server_address(slot.address, slot.port))
        state = f"weight {slot.weight}" if slot.weight else "disabled"
    cookie = f" cookie {word(CANARY_COOKIE + name)}" if sticky else ""
    return f"    server {name} {where} {state}{cookie}\n"


@given(SLOTS, st.booleans())
def test_server_lines_escape_each_word_as_config_word_does(slots: list[Slot], sticky: bool) -> None:
    try:
        expected = "".join(
            expected_line(index, slot, sticky=sticky) for index, slot in enumerate(slots)
        )
    except escaping.UnsafeValue:
        refused = True
    else:
        refused = False
    try:
        lines = rendering._server_lines.__wrapped__(tuple(slots), sticky=sticky)
    except escaping.UnsafeValue:
        assert refused
    else:
        assert not refused
        assert lines == expected
        assert type(lines) is escaping.Escaped


@given(FILLED, st.booleans())
def test_servers_filling_the_first_slots_print_as_slot_by_slot(
    slots: tuple[Slot, ...], sticky: bool
) -> None:
    """The bulk form prints what the slot by slot form does, and serves every IPv4 layout."""
    lines = rendering._slot_lines(len(slots), sticky=sticky)
    filled = rendering._filled_lines(slots, lines)
    try:
        each = rendering._each_slot_lines(slots, lines)
    except escaping.UnsafeValue:
        assert filled is None
    else:
        assert filled in (None, each)
    if all(_ipv4(slot.address) for slot in slots if slot is not None):
        assert filled is not None
    test_server_lines_escape_each_word_as_config_word_does.hypothesis.inner_test(  # type: ignore[attr-defined]
        list(slots), sticky
    )


def _ipv4(address: str) -> bool:
    try:
        return isinstance(ip_address(address), IPv4Address)
    except ValueError:
        return False


def test_servers_are_printed_slot_by_slot_when_not_filling_the_first_slots_alike() -> None:
    lines = rendering._slot_lines(4, sticky=False)
    a, b = Server("10.0.0.1", 80), Server("10.0.0.2", 80)
    assert rendering._filled_lines((a, b, None, None), lines) == (
        "    server s1 10.0.0.1:80 weight 1\n    server s2 10.0.0.2:80 weight 1\n"
        "    server s3 127.0.0.1:1 disabled\n    server s4 127.0.0.1:1 disabled\n"
    )
    for slots in (
        (a, None, b, None),  # an empty slot between two
        (a, Server("10.0.0.2", 81), None, None),  # two ports
        (a, Server("10.0.0.2", 80, 2), None, None),  # two weights
        (Server("fd00::1", 80), None, None, None),  # IPv6: in brackets
    ):
        assert rendering._filled_lines(slots, lines) is None


@given(st.lists(st.tuples(st.one_of(FILLED, MIXED, SLOTS.map(tuple)), st.booleans()), max_size=6))
def test_server_lines_made_at_once_are_each_backends_own(
    backends: list[tuple[tuple[Slot, ...], bool]],
) -> None:
    """`render`'s form (every backend's addresses checked at once) prints each backend's lines
    as each word alone would be, refuses what that refuses, and takes the bulk path for every
    IPv4 layout filling the first slots, whatever the other backends hold."""
    named = {f"be_{index}": slots for index, (slots, _) in enumerate(backends)}
    sticky = {name for name, (_, stuck) in zip(named, backends, strict=True) if stuck}
    expected: dict[str, str] = {}
    for name, slots in named.items():
        try:
            expected[name] = "".join(
                expected_line(index, slot, sticky=name in sticky)
                for index, slot in enumerate(slots)
            )
        except escaping.UnsafeValue:
            expected[name] = "refused"
    pairs = [
        (slots, rendering._slot_lines(len(slots), sticky=name in sticky))
        for name, slots in named.items()
    ]
    for (name, slots), text in zip(named.items(), rendering._filled_texts(pairs), strict=True):
        assert text in (None, expected[name])
        if _fills_first_slots_on_ipv4(slots):
            assert text is not None
    if "refused" in expected.values():
        with pytest.raises(escaping.UnsafeValue):
            rendering._fresh_server_lines(named, sticky)
    else:
        assert rendering._fresh_server_lines(named, sticky) == expected


def _fills_first_slots_on_ipv4(slots: tuple[Slot, ...]) -> bool:
    servers = [slot for slot in slots if slot is not None]
    return (
        all(_ipv4(server.address) for server in servers)
        and slots[: len(servers)] == tuple(servers)
        and len({(server.port, server.weight) for server in servers}) <= 1
    )
