"""Directives chosen by the HAProxy version: parsed strictly, rendered only where known."""

from __future__ import annotations

import pytest

from ingress_ctl.haproxy import features
from ingress_ctl.rendering import render
from ingress_ctl.settings import Settings
from ingress_ctl.snapshot import Snapshot
from ingress_ctl.translation import translate


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("3.0.11-1+deb13u4", (3, 0)),
        ("2.6.12-1+deb12u4", (2, 6)),
        ("10.12", (10, 12)),
        (None, None),
        ("", None),
        ("dev", None),
    ],
)
def test_major_minor(version: str | None, expected: tuple[int, int] | None) -> None:
    assert features.major_minor(version) == expected


@pytest.mark.parametrize(
    ("version", "present"),
    [("3.0.11-1+deb13u4", True), ("2.7.0", True), ("2.6.12-1+deb12u4", False), (None, False)],
)
def test_idle_close_on_response_only_where_haproxy_knows_it(
    version: str | None, present: bool
) -> None:
    settings = Settings(haproxy_version=version)
    routing = translate(Snapshot.of(()), settings=settings).routing
    config = render(routing, settings=settings)["haproxy.cfg"]

    assert ("\n    idle-close-on-response\n" in config) is present
