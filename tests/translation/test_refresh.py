"""The endpoint-only fast pass gives exactly what a full translation gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ingress_ctl.model.objects import parse_object
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import Snapshot
from ingress_ctl.translation import translate
from ingress_ctl.translation.endpoints import EndpointRefresher
from tests.manifests import (
    Manifest,
    endpoint,
    endpoint_slice,
    ingress,
    ingress_class,
    legacy_endpoints,
    path,
    rule,
    service,
)

SERVICES = ("web", "api", "docs")
IPS = [f"10.0.0.{i}" for i in range(1, 9)]

endpoint_sets = st.dictionaries(
    st.sampled_from(SERVICES),
    st.lists(st.tuples(st.sampled_from(IPS), st.sampled_from([None, False])), max_size=5),
)


def snapshot(slices: dict[str, list[tuple[str, bool | None]]]) -> Snapshot:
    manifests: list[Manifest] = [
        ingress_class(),
        ingress("site", rule("a.example.com", *(path(f"/{s}", s) for s in SERVICES))),
        *(service(name) for name in SERVICES),
        legacy_endpoints("docs", ["10.0.0.99"]),
    ]
    for name, endpoints in slices.items():
        found = [endpoint(ip, ready=ready) for ip, ready in endpoints]
        manifests.append(endpoint_slice(f"{name}-1", name, *found))
    objects = [parse_object(raw) for raw in manifests]
    return Snapshot.of(obj for obj in objects if obj is not None)


@settings(max_examples=200)
@given(endpoint_sets, endpoint_sets)
def test_refreshing_the_changed_services_equals_translating_again(
    before: dict[str, list[tuple[str, bool | None]]],
    after: dict[str, list[tuple[str, bool | None]]],
) -> None:
    old, new = snapshot(before), snapshot(after)
    keys = {("EndpointSlice", "default", f"{name}-1") for name in {*before, *after}}
    full_before = translate(old, settings=Settings()).routing
    full_after = translate(new, settings=Settings()).routing
    refresher = EndpointRefresher(full_before, old)

    changed = refresher.refresh(new, keys)

    assert refresher.routing == full_after
    assert {b.name for b in changed} == {
        b.name for b in full_after.backends if b != full_before.backend(b.name)
    }


def test_a_slice_that_moves_to_another_service_leaves_the_first_one() -> None:
    old = snapshot({"web": [("10.0.0.1", None)], "api": [("10.0.0.2", None)]})
    moved = parse_object(endpoint_slice("web-1", "api", endpoint("10.0.0.3")))
    assert moved is not None
    kinds = {kind: dict(objects) for kind, objects in old.kinds.items()}
    kinds["EndpointSlice"][("default", "web-1")] = moved
    new = Snapshot(kinds=kinds)
    refresher = EndpointRefresher(translate(old, settings=Settings()).routing, old)

    refresher.refresh(new, [("EndpointSlice", "default", "web-1")])

    assert refresher.routing == translate(new, settings=Settings()).routing
    assert refresher.routing.backend("be_default_web_80").servers == ()
