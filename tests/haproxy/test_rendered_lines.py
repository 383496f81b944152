"""The lines rendering joins in Python rather than in a template (server slots): every line is
what the sink's escaping function makes of each of its words alone, or the render is refused."""

from __future__ import annotations

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
