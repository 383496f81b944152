"""Records: the fast constructor behaves as the dataclass's own, on any keywords."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import MISSING
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingress_ctl.model.problems import Problem
from ingress_ctl.model.records import fast_init, maker
from ingress_ctl.model.routing import Backend, ObjectRef, Route, ServiceRef, VirtualHost
from ingress_ctl.model.verdicts import BackendReport, IngressReport


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Slow:
    name: str
    port: int | str
    weight: int = 1
    note: str | None = None


@fast_init
@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Fast:
    name: str
    port: int | str
    weight: int = 1
    note: str | None = None


def _outcome(cls: type[Any], arguments: tuple[Any, ...], keywords: dict[str, Any]) -> Any:
    """The fields made, or the error raised (its message without the class's name)."""
    try:
        made = cls(*arguments, **keywords)
    except TypeError as error:
        return ("TypeError", str(error).replace(cls.__name__, "cls"))
    return [getattr(made, field.name) for field in dataclasses.fields(made)]


VALUES = st.none() | st.integers() | st.text(max_size=5)


@given(
    st.lists(VALUES, max_size=2).map(tuple),
    st.dictionaries(st.sampled_from(["name", "port", "weight", "note", "other"]), VALUES),
)
def test_fast_init_makes_what_the_dataclass_makes(
    arguments: tuple[Any, ...], keywords: dict[str, Any]
) -> None:
    """Same fields and defaults, the same errors for missing, unknown or positional arguments."""
    assert _outcome(Fast, arguments, keywords) == _outcome(Slow, arguments, keywords)


def test_a_fast_record_is_still_a_frozen_dataclass() -> None:
    made = Fast(name="a", port=80)
    assert made == Fast(name="a", port=80, weight=1) and hash(made) == hash(Fast(name="a", port=80))
    assert repr(made) == "Fast(name='a', port=80, weight=1, note=None)"
    assert dataclasses.replace(made, weight=2).weight == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.name = "b"  # type: ignore[misc]
    assert typing.get_type_hints(Fast.__init__) == typing.get_type_hints(Slow.__init__)


@pytest.mark.parametrize(
    "record",
    [ObjectRef, ServiceRef, Backend, Route, VirtualHost, Problem, BackendReport, IngressReport],
)
def test_the_records_of_a_translation_are_fast(record: type[Any]) -> None:
    """Their constructor stores each field through its slot (not `object.__setattr__`)."""
    code = record.__init__.__code__
    assert {f"_set_{field.name}" for field in dataclasses.fields(record)} == set(code.co_freevars)
    assert "__dataclass_builtins_object__" not in code.co_names


def test_fast_init_refuses_what_it_cannot_make() -> None:
    @dataclasses.dataclass(slots=True, kw_only=True)
    class Mutable:
        name: str

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Factory:
        names: list[str] = dataclasses.field(default_factory=list)

    for cls in (Mutable, Factory):
        with pytest.raises(TypeError):
            fast_init(cls)


def _made(make: Any, arguments: tuple[Any, ...], keywords: dict[str, Any]) -> Any:
    """The record made (its class and fields), or the error raised, word for word."""
    try:
        made = make(*arguments, **keywords)
    except TypeError as error:
        return ("TypeError", str(error))
    return (type(made), [getattr(made, field.name) for field in dataclasses.fields(made)])


@given(
    st.lists(VALUES, max_size=2).map(tuple),
    st.dictionaries(st.sampled_from(["name", "port", "weight", "note", "other", "self"]), VALUES),
)
def test_a_maker_makes_what_the_class_makes(
    arguments: tuple[Any, ...], keywords: dict[str, Any]
) -> None:
    """The same record of the same class, the same errors (missing, unknown, positional)."""
    for cls in (Slow, Fast):
        assert _made(maker(cls), arguments, keywords) == _made(cls, arguments, keywords)


@pytest.mark.parametrize(
    "record",
    [ObjectRef, ServiceRef, Backend, Route, VirtualHost, Problem, BackendReport, IngressReport],
)
def test_a_made_record_is_the_class_s_own(record: type[Any]) -> None:
    """Equal to the class's record, with its hash, repr and frozen fields; each field from
    its own keyword, the others their defaults."""
    required = [field.name for field in dataclasses.fields(record) if field.default is MISSING]
    keywords = {name: f"value of {name}" for name in required}
    made, expected = maker(record)(**keywords), record(**keywords)
    assert type(made) is record and made == expected and hash(made) == hash(expected)
    assert repr(made) == repr(expected)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, required[0], "other")


def test_a_maker_refuses_what_it_cannot_make() -> None:
    @dataclasses.dataclass(slots=True, kw_only=True)
    class Mutable:
        name: str

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Unslotted:
        name: str

    @dataclasses.dataclass(frozen=True, slots=True)
    class Positional:
        name: str

    for cls in (Mutable, Unslotted, Positional):
        with pytest.raises(TypeError):
            maker(cls)
