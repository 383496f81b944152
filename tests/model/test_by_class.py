"""Records held by pydantic models (`records.ByClass`): checked by their class alone, taken as
pydantic's own schema of a dataclass takes them, and nothing else taken."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from ingress_ctl.model.problems import Problem
from ingress_ctl.model.records import ByClass
from ingress_ctl.model.routing import ObjectRef, PassthroughRoute, Routing, TLSName
from ingress_ctl.model.verdicts import IngressReport

REF = ObjectRef(kind="Ingress", namespace="default", name="web")
PROBLEMS = [Problem(source=REF, field=f"spec.rules[{i}]", reason="x") for i in range(3)]

BY_CLASS: TypeAdapter[tuple[Problem, ...]] = TypeAdapter(ByClass[tuple[Problem, ...]])
OWN: TypeAdapter[tuple[Problem, ...]] = TypeAdapter(tuple[Problem, ...])


@given(st.lists(st.sampled_from(PROBLEMS)), st.booleans())
def test_tuples_of_records_are_taken_as_pydantic_takes_them(
    found: list[Problem], listed: bool
) -> None:
    value: Any = found if listed else tuple(found)
    checked, own = BY_CLASS.validate_python(value), OWN.validate_python(value)
    assert checked == own
    assert type(checked) is tuple
    assert all(a is b for a, b in zip(checked, own, strict=True))


@pytest.mark.parametrize(
    "value",
    [
        ({"source": REF, "field": "spec", "reason": "x"},),
        (REF,),
        "spec",
        None,
        (None,),
    ],
)
def test_anything_but_records_is_refused(value: Any) -> None:
    with pytest.raises(ValidationError):
        BY_CLASS.validate_python(value)


def test_the_models_hold_the_records_they_are_given() -> None:
    report = IngressReport(source=REF, state="ignored")
    name = TLSName(name="a.example", certificate=None, redirect=False, hsts=None, source=REF)
    assert name.source is REF
    assert PassthroughRoute(name="a.example", backend="pt", source=REF).source is REF
    routing = Routing(default_backend="be", default_source="test", hosts=[], backends=[])
    assert (routing.hosts, routing.backends) == ((), ())
    with pytest.raises(ValidationError):
        TLSName(
            name="a", certificate=None, redirect=False, hsts=None, source={"kind": "x", "name": "y"}
        )
    with pytest.raises(ValidationError):
        Routing(default_backend="be", default_source="test", hosts=(report,))
