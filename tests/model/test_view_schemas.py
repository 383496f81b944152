"""The Python calls that reading an object costs: each one pydantic-core makes while
validating a view is one of these, for a reason (a Python step per object or per field is
what loading 30,000 objects is slowest at; pydantic-core's own checks are used otherwise)."""

from __future__ import annotations

from typing import Any

import pytest

from ingress_ctl.model.objects import VIEWS

TIMESTAMPS = "_aware"
"""A timestamp without a zone is UTC: pydantic-core has no such rule."""
PORT_NAMES = "_matching.<locals>.check"
"""A port name's grammar needs a lookahead, which pydantic-core's regex engine lacks."""

EXPECTED = {
    "Ingress": {TIMESTAMPS, PORT_NAMES},
    "IngressClass": {TIMESTAMPS},
    "Service": {TIMESTAMPS, PORT_NAMES},
    "EndpointSlice": {TIMESTAMPS, "_read_endpoints", "EndpointSlice.__post_init__"},
    "Endpoints": {TIMESTAMPS, "canonical_ip"},
    "Secret": {TIMESTAMPS},
    "ConfigMap": {TIMESTAMPS},
    "Namespace": {TIMESTAMPS},
}


def python_calls(schema: Any) -> set[str]:
    """The Python functions a validator schema calls (serializers left out)."""
    found: set[str] = set()
    if isinstance(schema, dict):
        kind = schema.get("type")
        if isinstance(kind, str) and kind.startswith("function-"):
            found.add(schema["function"]["function"].__qualname__)
        if kind == "dataclass" and schema.get("post_init"):
            found.add(f"{schema['cls'].__name__}.__post_init__")
        for key, value in schema.items():
            if key != "serialization":
                found |= python_calls(value)
    elif isinstance(schema, list | tuple):
        for value in schema:
            found |= python_calls(value)
    return found


@pytest.mark.parametrize("kind", sorted(VIEWS))
def test_a_view_calls_python_only_where_pydantic_core_cannot_check(kind: str) -> None:
    assert python_calls(VIEWS[kind].core_schema) == EXPECTED[kind]
