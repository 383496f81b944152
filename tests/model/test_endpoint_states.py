"""EndpointSlice endpoints: the hand-written reader agrees with the pydantic `Endpoint` views.

The reader takes the values the API server writes (exact types) and gives every other value
to the views; both must sort the same addresses by condition, give the same endpoints for
naming a bad address, or fail at the same fields for the same reasons.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from ingress_ctl.model.objects import (
    _ENDPOINTS,
    ByCondition,
    EndpointSlice,
    EndpointState,
    ObjectError,
    _by_condition,
    _read_endpoints,
    parse_object,
)

ODD = st.sampled_from([1, 0, "true", "no", "maybe", 1.0, [], {}])
"""Values of the wrong type: coerced by pydantic (`"true"`, `1`) or refused."""
FLAG: st.SearchStrategy[object] = st.sampled_from(
    [None, True, False, 1, 0, "true", "no", "maybe", 1.0, []]
)
ADDRESS = st.sampled_from(["10.0.0.1", "::1", "fd00::0:1", "not-an-ip", "", 1, None])
CONDITIONS = st.one_of(
    st.none(),
    ODD,
    st.dictionaries(st.sampled_from(["ready", "serving", "terminating", "zone"]), FLAG),
)
ENDPOINT = st.one_of(
    ODD,
    st.fixed_dictionaries(
        {},
        optional={
            "addresses": st.one_of(st.lists(ADDRESS, max_size=3), ODD),
            "conditions": CONDITIONS,
            "nodeName": st.text(max_size=3),
        },
    ),
)
ENDPOINTS = st.one_of(st.lists(ENDPOINT, max_size=4), ODD, st.text(max_size=2))


def by_views(value: Any) -> tuple[EndpointState, ...]:
    """What the pydantic views make of the value (the reference)."""
    return tuple(
        (e.addresses, e.conditions.ready, e.conditions.serving, e.conditions.terminating)
        for e in _ENDPOINTS.validate_python(value)
    )


def by_views_by_condition(value: Any) -> tuple[ByCondition, tuple[EndpointState, ...]]:
    """The reference sorting of the views' endpoints, and the endpoints themselves."""
    states = by_views(value)
    return _by_condition(states), states


def by_reader(value: Any) -> tuple[ByCondition, tuple[EndpointState, ...]]:
    read = _read_endpoints(value)
    return read.by_condition, read.endpoint_states()


def outcome(read: Any, value: Any) -> object:
    try:
        return read(value)
    except ValidationError as error:
        return [(item["loc"], item["msg"]) for item in error.errors()]


def agree(value: Any) -> None:
    assert repr(outcome(by_reader, value)) == repr(outcome(by_views_by_condition, value))  # 1!=True


@given(ENDPOINTS)
def test_reader_agrees_with_the_views(value: Any) -> None:
    agree(value)


@given(ENDPOINT)
def test_reader_agrees_with_the_views_on_each_endpoint(value: Any) -> None:
    agree([value])


@given(st.lists(ENDPOINT, max_size=4))
def test_reader_agrees_with_the_views_on_a_tuple(value: list[Any]) -> None:
    agree(tuple(value))


def test_the_api_servers_shape_is_read_by_hand() -> None:
    value = [
        {"addresses": ["10.0.0.1"], "conditions": {"ready": True}, "zone": "a"},
        {"addresses": ["10.0.0.2", "10.0.0.3"]},
        {"addresses": [], "conditions": {"ready": False, "serving": True, "terminating": None}},
    ]
    read = _read_endpoints(value)
    assert read.states is None  # by hand
    assert read.by_condition == (("10.0.0.1", "10.0.0.2", "10.0.0.3"), (), ())
    assert read.endpoint_states() == (
        (("10.0.0.1",), True, None, None),
        (("10.0.0.2", "10.0.0.3"), None, None, None),
        ((), False, True, None),
    )


def test_slice_errors_name_the_field_either_way() -> None:
    def failure(endpoints: object) -> list[tuple[str, str]]:
        raw = {"kind": "EndpointSlice", "metadata": {"name": "s"}, "endpoints": endpoints}
        try:
            parse_object(raw)
        except ObjectError as error:
            return error.fields
        raise AssertionError("parsed")

    assert failure([{"addresses": ["10.0.0.1"]}, {"addresses": [7]}]) == [
        ("endpoints.1.addresses.0", "Input should be a valid string")
    ]
    [(_, why)] = failure([{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.x"]}])
    assert "endpoints[1].addresses[0]" in why
    assert "'10.0.0.x' is not an IP address" in why


def test_coerced_conditions_keep_their_meaning() -> None:
    raw = {
        "kind": "EndpointSlice",
        "metadata": {"name": "s"},
        "endpoints": [
            {"addresses": ["10.0.0.1"], "conditions": {"ready": "false"}},
            {"addresses": ["10.0.0.2"], "conditions": {"ready": "true"}},
        ],
    }
    found = parse_object(raw)
    assert isinstance(found, EndpointSlice)
    assert found.ready == ("10.0.0.2",)
