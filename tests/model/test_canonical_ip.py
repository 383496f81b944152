"""EndpointSlice addresses: the fast form (one regex over a slice's IPv4 addresses) agrees with
`canonical_ip` (an inet_pton/inet_ntop round trip per address), and slices keep the addresses
and the errors that checking each address in endpoint order gives.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingress_ctl.model import objects
from ingress_ctl.model.objects import EndpointSlice, ObjectError, parse_object
from ingress_ctl.model.views import all_canonical_ipv4, canonical_ip

NEAR_OCTET = st.sampled_from(
    [
        *("0", "00", "01", "1", "9", "10", "99", "100", "199", "200", "249", "250", "255"),
        *("256", "260", "300", "999", "1000", "0x1", "+1", "-1", " 1", "1 ", "", "1\n"),
        *("\u0663", "\uff11", "\u00b2"),
    ]
)
"""Octets that canonical_ip takes, and near misses: leading zeros, too big, signs, spaces,
empty, unicode digits (Arabic-Indic, fullwidth, superscript), a newline."""
IPV4 = st.lists(st.integers(0, 255).map(str), min_size=4, max_size=4)
NEAR_IPV4 = st.builds(
    lambda octets, at, octet, before, after: (
        before + ".".join([*octets[:at], octet, *octets[at + 1 :]]) + after
    ),
    IPV4,
    st.integers(0, 4),
    NEAR_OCTET,
    st.sampled_from(["", "", "", " ", "0", ","]),
    st.sampled_from(["", "", "", "\n", " ", ".", ",", ",1.2.3.4", "\x00", ".1"]),
)
"""IPv4 addresses with at most one near-miss octet (the fifth is one too many), maybe
with something before or after."""
ADDRESS = st.one_of(
    NEAR_IPV4,
    IPV4.map(".".join),
    st.sampled_from(["::1", "fd00::0:1", "::ffff:10.0.0.1", "FD00::1", "10.0.0.1%eth0"]),
    st.text(alphabet="0123456789.,:abf ", max_size=16),
    st.text(max_size=8),
)


def one_by_one(address: str) -> bool:
    """What the fast form must say of one address: canonical_ip takes it, as it is, as IPv4."""
    try:
        return ":" not in address and canonical_ip(address) == address
    except ValueError:
        return False


@settings(max_examples=1000)
@given(ADDRESS)
def test_the_fast_form_agrees_with_canonical_ip(address: str) -> None:
    assert all_canonical_ipv4([address]) == one_by_one(address)


@given(st.lists(ADDRESS, max_size=4))
def test_the_fast_form_agrees_on_every_address(addresses: list[str]) -> None:
    assert all_canonical_ipv4(addresses) == all(map(one_by_one, addresses))


@pytest.mark.parametrize(
    ("addresses", "expected"),
    [
        ([], True),
        (["10.0.0.1"], True),
        (["0.0.0.0", "255.255.255.255", "1.22.199.249"], True),
        (["10.0.0.1,10.0.0.2"], False),  # one address holding the separator
        (["10.0.0.1", "10.0.0.01"], False),
        (["10.0.0.256"], False),
        (["10.0.0.259", "10.0.0.1"], False),
        (["10.0.0.1\n"], False),  # `$` would match before this newline
        (["10.0.0.\u0661"], False),  # `\d` would match this digit
        (["::1"], False),
    ],
)
def test_the_fast_form_on_known_addresses(addresses: list[str], expected: bool) -> None:
    assert all_canonical_ipv4(addresses) is expected


FLAG = st.sampled_from([None, True, False])
ENDPOINT = st.fixed_dictionaries(
    {"addresses": st.lists(ADDRESS, max_size=3)},
    optional={
        "conditions": st.fixed_dictionaries(
            {}, optional={"ready": FLAG, "serving": FLAG, "terminating": FLAG}
        )
    },
)


def address_by_address(endpoints: list[dict[str, Any]]) -> object:
    """What a slice holds when each address of each endpoint, in order, goes through
    canonical_ip (the reference): its three lists, or the first bad address's error."""
    found: dict[str, list[str]] = {"ready": [], "terminating": [], "not_ready": []}
    for i, endpoint in enumerate(endpoints):
        conditions = endpoint.get("conditions", {})
        ready, serving, terminating = (
            conditions.get(key) for key in ("ready", "serving", "terminating")
        )
        kind = (
            "ready"
            if ready is not False
            else "terminating"
            if serving and terminating
            else "not_ready"
        )
        for j, address in enumerate(endpoint["addresses"]):
            try:
                found[kind].append(canonical_ip(address))
            except ValueError as error:
                return f"Value error, endpoints[{i}].addresses[{j}]: {error}"
    return {kind: tuple(addresses) for kind, addresses in found.items()}


def read(endpoints: list[dict[str, Any]], address_type: str = "IPv4") -> object:
    raw = {
        "kind": "EndpointSlice",
        "metadata": {"name": "s"},
        "addressType": address_type,
        "endpoints": endpoints,
    }
    try:
        found = parse_object(raw)
    except ObjectError as error:
        [(where, why)] = error.fields
        assert where == "(object)"
        return why
    assert isinstance(found, EndpointSlice)
    return {"ready": found.ready, "terminating": found.terminating, "not_ready": found.not_ready}


@given(st.lists(ENDPOINT, max_size=4), st.sampled_from(["IPv4", "IPv6"]))
def test_slices_hold_what_checking_each_address_gives(
    endpoints: list[dict[str, Any]], address_type: str
) -> None:
    assert read(endpoints, address_type) == address_by_address(endpoints)


def test_canonical_ipv4_slices_skip_the_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(address: str) -> str:
        raise AssertionError(f"{address} went through canonical_ip")

    monkeypatch.setattr(objects, "canonical_ip", refused)
    endpoints = [
        {"addresses": ["10.0.0.1", "10.0.0.2"], "conditions": {"ready": True}},
        {
            "addresses": ["10.0.0.3"],
            "conditions": {"ready": False, "serving": True, "terminating": True},
        },
        {"addresses": ["10.0.0.4"], "conditions": {"ready": False}},
    ]
    assert read(endpoints) == {
        "ready": ("10.0.0.1", "10.0.0.2"),
        "terminating": ("10.0.0.3",),
        "not_ready": ("10.0.0.4",),
    }


def test_other_forms_are_made_canonical_and_bad_ones_named() -> None:
    endpoints = [{"addresses": ["10.0.0.1", "FD00::0:1"]}, {"addresses": ["10.0.0.2"]}]
    assert read(endpoints) == {
        "ready": ("10.0.0.1", "fd00::1", "10.0.0.2"),
        "terminating": (),
        "not_ready": (),
    }
    endpoints = [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2", "10.0.0.02"]}]
    assert read(endpoints) == (
        "Value error, endpoints[1].addresses[1]: '10.0.0.02' is not an IP address"
    )
