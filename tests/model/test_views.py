"""Names checked in Rust (`views.Label`, `views.Subdomain`) accept exactly what the Python
grammar accepts, and words a refusal as the Python check did; absent labels and annotations
are one shared, read-only empty value."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from ingress_ctl.model.objects import parse_object
from ingress_ctl.model.views import (
    DNS_LABEL,
    DNS_SUBDOMAIN,
    NO_ENTRIES,
    Label,
    Subdomain,
    name_error,
)

LABELS: TypeAdapter[str] = TypeAdapter(Label)
SUBDOMAINS: TypeAdapter[str] = TypeAdapter(Subdomain)

NEAR_NAMES = st.text(alphabet="ab09-.Z_ \n\t\x00é٣", max_size=70) | st.builds(
    lambda label, count: ".".join([label] * count),
    st.text(alphabet="a0-", min_size=1, max_size=64),
    st.integers(min_value=1, max_value=9),
)
"""Names and near misses: capitals, separators, a trailing newline, non-ASCII digits and
letters, labels of 63 and 64 characters, subdomains around 253."""


def accepts(adapter: TypeAdapter[str], value: str) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


@given(NEAR_NAMES)
@example("a" * 63)
@example("a" * 64)
@example("a\n")
@example(".".join(["a" * 63] * 4))
@example(".".join(["a" * 63] * 4)[:253])
def test_names_are_checked_as_the_python_grammar_checks_them(value: str) -> None:
    assert accepts(LABELS, value) == bool(DNS_LABEL.fullmatch(value))
    assert accepts(SUBDOMAINS, value) == bool(DNS_SUBDOMAIN.fullmatch(value))


@pytest.mark.parametrize(
    ("adapter", "value", "words"),
    [
        (LABELS, "Team", "Value error, 'Team' is not a valid DNS label"),
        (SUBDOMAINS, "a..b", "Value error, 'a..b' is not a valid DNS subdomain"),
        (SUBDOMAINS, "a" * 254, re.escape(f"Value error, '{'a' * 254}' is not a valid")),
        (LABELS, 7, "Input should be a valid string"),
    ],
)
def test_a_refused_name_is_worded_with_its_value(
    adapter: TypeAdapter[str], value: object, words: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.validate_python(value)
    assert re.match(words, name_error(caught.value.errors()[0]))


def test_objects_without_labels_or_annotations_share_one_empty_value() -> None:
    """No new dict for each object that has none (50,000 at scale); a view being a value, the
    shared one refuses to be filled, and reads as any empty dict."""
    first, second = (
        parse_object({"kind": "Service", "metadata": {"name": name}}) for name in ("a", "b")
    )
    assert first is not None and second is not None
    assert first.metadata.labels is second.metadata.annotations is NO_ENTRIES
    assert (NO_ENTRIES, repr(NO_ENTRIES), json.dumps(NO_ENTRIES)) == ({}, "{}", "{}")
    refusals = (
        lambda: NO_ENTRIES.__setitem__("a", "b"),
        lambda: NO_ENTRIES.update(a="b"),
        lambda: NO_ENTRIES.setdefault("a", "b"),
        lambda: NO_ENTRIES.pop("a"),
        NO_ENTRIES.clear,
    )
    for refused in refusals:
        with pytest.raises(TypeError, match="read-only"):
            refused()
    assert NO_ENTRIES == {}
    found = parse_object({"kind": "Service", "metadata": {"name": "c", "labels": {"a": "b"}}})
    assert found is not None and type(found.metadata.labels) is dict
