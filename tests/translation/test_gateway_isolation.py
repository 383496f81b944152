"""Listener isolation: which matches a port keeps, and where its guards go (table tests)."""

from __future__ import annotations

import pytest

from ingress_ctl.model.routing import ObjectRef
from ingress_ctl.translation.gateway.isolation import claimed, covers, guards

GW = ObjectRef(kind="Gateway", namespace="infra", name="gw")

COVERS = [
    ("", "a.example.com", True),
    ("", "", True),
    ("*.example.com", "a.example.com", True),
    ("*.example.com", "a.b.example.com", True),
    ("*.example.com", "*.foo.example.com", True),
    ("*.example.com", "*.example.com", True),
    ("*.example.com", "example.com", False),
    ("*.example.com", "", False),
    ("*.foo.example.com", "*.example.com", False),
    ("a.example.com", "a.example.com", True),
    ("a.example.com", "*.example.com", False),
    ("*.example.com", "badexample.com", False),
]


@pytest.mark.parametrize(("pattern", "host", "expected"), COVERS)
def test_covers(pattern: str, host: str, expected: bool) -> None:
    assert covers(pattern, host) is expected


LISTENERS = ["", "*.example.com", "*.foo.example.com", "abc.foo.example.com"]
CLAIMED = [
    # (match host, its listener's hostname, claimed by a more specific listener)
    ("bar.com", "", False),
    ("*.example.com", "", True),
    ("*.foo.example.com", "", True),
    ("x.example.com", "", True),
    ("", "", False),
    ("*.example.com", "*.example.com", False),
    ("*.foo.example.com", "*.example.com", True),
    ("abc.foo.example.com", "*.foo.example.com", True),
    ("x.foo.example.com", "*.foo.example.com", False),
    ("abc.foo.example.com", "abc.foo.example.com", False),
]


@pytest.mark.parametrize(("host", "listener", "expected"), CLAIMED)
def test_matches_a_more_specific_listener_claims_are_dropped(
    host: str, listener: str, expected: bool
) -> None:
    assert claimed(host, listener, LISTENERS) is expected


def test_guards_end_the_levels_of_listeners_a_wider_one_covers() -> None:
    found = guards(LISTENERS, GW)
    assert [(m.host, m.path, m.backend) for _, m in found] == [
        ("*.example.com", "/", "builtin_404"),
        ("*.foo.example.com", "/", "builtin_404"),
        ("abc.foo.example.com", "/", "builtin_404"),
    ]
    assert guards(["a.example.com", "b.example.com"], GW) == []
    assert guards(["*.example.com"], GW) == []
