"""The endpoint-only fast pass gives exactly what a full translation gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ingress_ctl.objects import parse_object
from ingress_ctl.settings import Settings
from ingress_ctl.snapshot import Snapshot
from ingress_ctl.translation import translate
from ingress_ctl.translation.backends import endpoint_owner, refresh_servers
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
    services = {
        owner for key in keys for seen in (old, new) if (owner := endpoint_owner(key, seen))
    }
    full_before = translate(old, settings=Settings()).routing
    full_after = translate(new, settings=Settings()).routing

    refreshed, changed = refresh_servers(full_before, new, services=services)

    assert refreshed == full_after
    assert set(changed) == {b.name for b in full_after.backends if b != full_before.backend(b.name)}


def test_endpoint_owner_names_the_service_of_a_slice_or_endpoints_object() -> None:
    snap = snapshot({"web": [("10.0.0.1", None)]})
    assert endpoint_owner(("EndpointSlice", "default", "web-1"), snap) == ("default", "web")
    assert endpoint_owner(("EndpointSlice", "default", "gone"), snap) is None
    assert endpoint_owner(("Endpoints", "default", "docs"), snap) == ("default", "docs")
