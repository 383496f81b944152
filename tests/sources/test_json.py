"""JSON manifests: pydantic-core's parser, with json.loads for what it refuses, reads exactly
what json.loads alone reads, and fails where it fails with its words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingress_ctl.sources.files import _json, parse_manifest
from tests.manifests import ingress

JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(10**60), max_value=10**60),
        st.floats(),
        st.text(st.characters(codec=None)),  # with lone surrogates
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(st.characters(codec=None), max_size=4), children, max_size=4),
    ),
    max_leaves=20,
)
TOKENS = st.sampled_from(
    [
        *("{", "}", "[", "]", ",", ":", '"a"', '"\\ud800"', '"\\u00e9"', '"\\x"', '"\x01"'),
        *("1", "-0", "01", "1.", ".5", "1e400", "-1e5", "1" * 4301, "NaN", "nan", "-Infinity"),
        *("true", "tru", "null", " ", "\t", "\n", "\x0c", "\x00", "\ufeff", "é", "\udc00"),
    ]
)
NEAR_JSON = st.lists(TOKENS, max_size=12).map(
    lambda tokens: "".join(tokens).encode("utf-8", "surrogatepass")
)
"""Byte strings made of JSON's pieces and near misses: most do not parse, some only by one."""


def outcome(read: Any, data: bytes) -> object:
    """What a reader makes of the bytes: the value (repr: NaN, -0.0), or its error."""
    try:
        return repr(read(data))
    except (ValueError, RecursionError) as error:
        return (type(error).__name__, str(error))


def by_json_loads(data: bytes) -> Any:
    return json.loads(data.decode("utf-8"))


@given(JSON_VALUES, st.booleans())
def test_json_values_read_as_json_loads_reads_them(value: object, ascii: bool) -> None:
    data = json.dumps(value, ensure_ascii=ascii).encode("utf-8", "surrogatepass")
    assert outcome(_json, data) == outcome(by_json_loads, data)


@settings(max_examples=500)
@given(st.one_of(NEAR_JSON, st.binary(max_size=12)))
def test_near_json_reads_or_fails_as_json_loads_does(data: bytes) -> None:
    assert outcome(_json, data) == outcome(by_json_loads, data)


@pytest.mark.parametrize(
    "data",
    [
        b'"\\ud800"',  # a lone surrogate: json.loads reads it
        b"[" * 300 + b"]" * 300,  # deeper than pydantic-core goes
        b'{"a": 1,}',
        b"\xef\xbb\xbf{}",
        b'"\xff"',
        b"1" * 4301,
        b"[1] x",
    ],
)
def test_what_pydantic_core_refuses_goes_to_json_loads(data: bytes) -> None:
    assert outcome(_json, data) == outcome(by_json_loads, data)


def test_a_json_list_is_read_without_json_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(text: str) -> object:
        raise AssertionError("json.loads was called")

    monkeypatch.setattr(json, "loads", refused)
    data = json.dumps({"kind": "List", "items": [ingress("web")]}).encode()
    loaded = parse_manifest(Path("list.json"), data)
    assert [obj.metadata.name for obj in loaded.objects] == ["web"]
    with pytest.raises(AssertionError, match=r"json\.loads was called"):
        parse_manifest(Path("bad.json"), b"{")
