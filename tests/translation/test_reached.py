"""The paths of an Ingress that reach a Service port again (without a policy of their own)
are not asked about again: the translation is the one that asking each time gives."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ingress_ctl.model.objects import parse_object
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import Snapshot
from ingress_ctl.translation import ingresses, translate
from tests.manifests import (
    Manifest,
    backend,
    endpoint,
    endpoint_slice,
    ingress,
    ingress_class,
    path,
    rule,
    service,
    service_port,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SERVICES = ("web", "api", "gone")
"""Services of the cluster (`gone` never exists: its paths are reported, each)."""
ANNOTATIONS: tuple[dict[str, str], ...] = (
    {},
    {"ingress-ctl.io/load-balance": "leastconn"},
    {"ingress-ctl.io/rewrite-target": "/"},
    {"ingress-ctl.io/affinity": "cookie"},
    {"ingress-ctl.io/load-balance": "no-such-algorithm"},
    {"ingress-ctl.io/use-regex": "true"},
    {"nginx.ingress.kubernetes.io/rewrite-target": "/$2"},
)

paths = st.lists(
    st.builds(
        path,
        st.sampled_from(["/", "/api", "/api(/|$)(.*)", "/x/", "no-slash"]),
        st.sampled_from(SERVICES),
        st.sampled_from([80, 81, "http", "none"]),
        st.sampled_from(["Prefix", "Exact", "ImplementationSpecific"]),
    ),
    max_size=4,
)


@st.composite
def ingress_manifests(draw: st.DrawFn) -> Manifest:
    hosts = st.sampled_from(["a.example.com", "b.example.com", None, "Bad Host"])
    rules = [rule(host, *draw(paths)) for host in draw(st.lists(hosts, max_size=2))]
    extra: dict[str, Any] = {}
    if draw(st.booleans()):
        extra["default"] = backend(draw(st.sampled_from(SERVICES)), 80)
    return ingress(
        draw(st.sampled_from(["i0", "i1", "i2"])),
        *rules,
        minute=draw(st.integers(0, 2)),
        annotations=draw(st.sampled_from(ANNOTATIONS)) or None,
        **extra,
    )


services = st.builds(
    service,
    st.sampled_from(SERVICES[:2]),
    st.sampled_from([service_port(80, "http", 8080), service_port(81, target=8080)]),
    annotations=st.sampled_from([None, {"ingress-ctl.io/affinity": "cookie"}]),
)
slices = st.builds(
    lambda name, ips: endpoint_slice(f"{name}-1", name, *(endpoint(ip) for ip in ips)),
    st.sampled_from(SERVICES[:2]),
    st.lists(st.sampled_from(["10.0.0.1", "10.0.0.2"]), max_size=2),
)


def _translate(manifests: list[Manifest], nginx: bool) -> str:
    objects = {}
    for raw in (ingress_class(), *manifests):
        found = parse_object(raw)
        assert found is not None, raw
        objects[(raw["kind"], raw["metadata"]["name"])] = found
    translation = translate(
        Snapshot.of(objects.values()), settings=Settings(nginx_compat=nginx), now=NOW
    )
    return repr(translation)


def _asking_each_time(*arguments: Any) -> Any:
    """`route_of` without the backends reached so far."""
    return ROUTE_OF(*arguments[:6])


ROUTE_OF = ingresses.route_of


WEB = service("web", service_port(80, "http", 8080), service_port(81, target=8080))


def _twice(*paths: Manifest, annotations: dict[str, str] | None = None) -> list[Manifest]:
    """An Ingress whose paths reach the Service `web` (ports 80 and 81)."""
    return [ingress("i0", rule("a.example.com", *paths), annotations=annotations), WEB]


@example(_twice(path("/", "web", 80), path("/api", "web", 80), path("/x/", "web", 81)), False)
@example(_twice(path("/", "web", "http"), path("/api", "web", 80)), False)
@example(_twice(path("/", "gone"), path("/api", "gone"), path("/b", "web", "none")), False)
@example(_twice(path("/", "web"), path("/api", "web"), annotations=ANNOTATIONS[2]), False)
@example(_twice(path("/", "web"), path("/api", "web"), annotations=ANNOTATIONS[3]), False)
@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(ingress_manifests(), services, slices), max_size=8), st.booleans())
def test_a_service_port_reached_again_gives_what_asking_again_gives(
    manifests: list[Manifest], nginx: bool
) -> None:
    reached = _translate(manifests, nginx)
    with patch.object(ingresses, "route_of", _asking_each_time):
        asked = _translate(manifests, nginx)
    assert reached == asked
