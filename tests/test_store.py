"""The store: writes bump the revision and wake the syncing loop only when something changed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ingress_ctl.model.objects import KubeObject, object_key, parse_object
from ingress_ctl.model.problems import Problem
from ingress_ctl.model.routing import ObjectRef
from ingress_ctl.store import ObjectKey, Store
from tests.manifests import Manifest, ingress, ingress_class, path, rule, service, service_port


def parsed(manifest: Manifest) -> KubeObject:
    obj = parse_object(manifest)
    assert obj is not None
    return obj


WEB = parsed(service("web"))
WEB_8080 = parsed(service("web", service_port(8080)))
API = parsed(service("api"))
WEB_B = parsed(service("web", namespace="b"))
API_B = parsed(service("api", namespace="b"))
SHOP = parsed(ingress("shop", rule("shop.example.com", path("/"))))
CLASS = parsed(ingress_class())


def problem(name: str, reason: str = "bad") -> Problem:
    return Problem(
        source=ObjectRef(kind="Service", namespace="default", name=name),
        field="spec",
        reason=reason,
    )


def contents(store: Store) -> dict[str, dict[tuple[str, str], KubeObject]]:
    """The snapshot's objects, without kinds that hold none."""
    return {kind: dict(found) for kind, found in store.snapshot().kinds.items() if found}


def changes(store: Store, write: Callable[[], bool]) -> bool:
    """Run one write; check that its answer, the revision and the signal agree."""
    store.changed.clear()
    before = store.revision
    answer = write()
    assert store.changed.is_set() == answer
    assert store.revision == before + (1 if answer else 0)
    return answer


def test_a_new_store_is_empty() -> None:
    store = Store()
    assert store.revision == 0
    assert not store.changed.is_set()
    assert contents(store) == {}
    assert store.problems() == ()


def test_upsert_changes_only_when_the_object_differs() -> None:
    store = Store()
    assert changes(store, lambda: store.upsert(WEB))
    assert not changes(store, lambda: store.upsert(parsed(service("web"))))
    assert changes(store, lambda: store.upsert(WEB_8080))
    assert contents(store) == {"Service": {("default", "web"): WEB_8080}}


def test_cluster_scoped_objects_are_keyed_without_namespace() -> None:
    store = Store()
    store.upsert(CLASS)
    assert contents(store) == {"IngressClass": {("", "haproxy"): CLASS}}
    assert changes(store, lambda: store.delete(("IngressClass", "", "haproxy")))


def test_delete_forgets_known_objects_and_ignores_unknown_ones() -> None:
    store = Store()
    store.upsert(WEB)
    store.upsert(SHOP)
    assert not changes(store, lambda: store.delete(("Service", "default", "nope")))
    assert not changes(store, lambda: store.delete(("Service", "other", "web")))
    assert changes(store, lambda: store.delete(object_key(WEB)))
    assert not changes(store, lambda: store.delete(object_key(WEB)))
    assert contents(store) == {"Ingress": {("default", "shop"): SHOP}}


def test_reject_drops_the_readable_version_and_records_problems() -> None:
    store = Store()
    store.upsert(WEB)
    key: ObjectKey = object_key(WEB)
    assert changes(store, lambda: store.reject(key, [problem("web")]))
    assert contents(store) == {}
    assert store.problems() == (problem("web"),)
    assert not changes(store, lambda: store.reject(key, [problem("web")]))
    assert changes(store, lambda: store.reject(key, [problem("web", "worse")]))
    assert store.problems() == (problem("web", "worse"),)


def test_a_readable_version_clears_the_problems() -> None:
    store = Store()
    key = object_key(WEB)
    store.reject(key, [problem("web")])
    assert changes(store, lambda: store.upsert(WEB))
    assert store.problems() == ()
    assert contents(store) == {"Service": {("default", "web"): WEB}}


def test_delete_forgets_an_unreadable_object() -> None:
    store = Store()
    store.reject(("Service", "default", "web"), [problem("web")])
    assert changes(store, lambda: store.delete(("Service", "default", "web")))
    assert store.problems() == ()


def test_problems_are_listed_by_object() -> None:
    store = Store()
    store.reject(("Service", "default", "b"), [problem("b", "one"), problem("b", "two")])
    store.reject(("Service", "default", "a"), [problem("a")])
    assert store.problems() == (problem("a"), problem("b", "one"), problem("b", "two"))


def test_replace_kind_replaces_every_object_of_that_kind_only() -> None:
    store = Store()
    for obj in (WEB, API, WEB_B, SHOP):
        store.upsert(obj)
    assert changes(store, lambda: store.replace_kind("Service", [API_B]))
    assert contents(store) == {
        "Service": {("b", "api"): API_B},
        "Ingress": {("default", "shop"): SHOP},
    }


def test_replace_kind_in_one_namespace_keeps_the_other_namespaces() -> None:
    store = Store()
    for obj in (WEB, API, WEB_B):
        store.upsert(obj)
    assert changes(store, lambda: store.replace_kind("Service", [API_B], namespace="b"))
    assert contents(store) == {
        "Service": {("default", "web"): WEB, ("default", "api"): API, ("b", "api"): API_B}
    }
    assert changes(store, lambda: store.replace_kind("Service", [], namespace="default"))
    assert contents(store) == {"Service": {("b", "api"): API_B}}


def test_replace_kind_with_the_same_objects_changes_nothing() -> None:
    store = Store()
    for obj in (WEB, API, WEB_B):
        store.upsert(obj)
    same = [parsed(service("api")), parsed(service("web"))]
    assert not changes(store, lambda: store.replace_kind("Service", same, namespace="default"))
    assert not changes(store, lambda: store.replace_kind("Service", [*same, WEB_B]))
    assert not changes(store, lambda: store.replace_kind("Ingress", []))
    assert not changes(store, lambda: store.replace_kind("Ingress", [], namespace="b"))


@pytest.mark.parametrize(
    ("namespace", "left"),
    [("default", [("Service", "b", "x")]), ("b", [("Service", "default", "x")]), (None, [])],
)
def test_replace_kind_forgets_unreadable_objects_of_its_scope(
    namespace: str | None, left: list[ObjectKey]
) -> None:
    store = Store()
    store.reject(("Service", "default", "x"), [problem("x")])
    store.reject(("Service", "b", "x"), [problem("x")])
    store.reject(("Ingress", "default", "x"), [problem("x")])
    assert changes(store, lambda: store.replace_kind("Service", [], namespace=namespace))
    remaining = [("Ingress", "default", "x"), *left]
    assert store.problems() == tuple(problem("x") for _ in remaining)
    for key in remaining:  # exactly these are still known: deleting each changes something
        assert store.delete(key)
    assert store.problems() == ()


def test_a_relist_that_finds_the_same_unreadable_objects_changes_nothing() -> None:
    store = Store()
    bad: ObjectKey = ("Service", "default", "x")
    assert changes(
        store, lambda: store.replace_kind("Service", [WEB], rejected=[(bad, [problem("x")])])
    )
    assert store.problems() == (problem("x"),)
    again = [(bad, [problem("x")])]
    assert not changes(store, lambda: store.replace_kind("Service", [WEB], rejected=again))
    worse = [(bad, [problem("x", "worse")])]
    assert changes(store, lambda: store.replace_kind("Service", [WEB], rejected=worse))
    assert store.problems() == (problem("x", "worse"),)
    assert changes(store, lambda: store.replace_kind("Service", [WEB]))
    assert store.problems() == ()


def test_replace_all_changes_only_when_objects_or_problems_differ() -> None:
    store = Store()
    assert not changes(store, lambda: store.replace_all([], []))
    assert changes(store, lambda: store.replace_all([WEB, SHOP], []))
    assert not changes(store, lambda: store.replace_all([SHOP, parsed(service("web"))], []))
    assert changes(store, lambda: store.replace_all([WEB, SHOP], [problem("x")]))
    assert not changes(store, lambda: store.replace_all([WEB, SHOP], [problem("x")]))
    assert store.problems() == (problem("x"),)
    assert changes(store, lambda: store.replace_all([WEB], [problem("x")]))
    assert changes(store, lambda: store.replace_all([WEB], []))
    assert store.problems() == ()
    assert contents(store) == {"Service": {("default", "web"): WEB}}


def test_replace_all_forgets_everything_else() -> None:
    store = Store()
    store.upsert(API)
    store.reject(("Ingress", "default", "x"), [problem("x")])
    assert changes(store, lambda: store.replace_all([WEB], []))
    assert contents(store) == {"Service": {("default", "web"): WEB}}
    assert store.problems() == ()


def test_replace_all_after_everything_was_deleted_changes_nothing() -> None:
    store = Store()
    store.upsert(WEB)
    store.delete(object_key(WEB))
    store.replace_kind("Ingress", [])
    assert not changes(store, lambda: store.replace_all([], []))


def test_snapshot_is_a_copy_that_later_writes_leave_alone() -> None:
    store = Store()
    store.upsert(WEB)
    store.upsert(SHOP)
    snapshot = store.snapshot()
    assert snapshot.revision == store.revision
    store.upsert(WEB_8080)
    store.upsert(API)
    store.delete(object_key(SHOP))
    store.replace_kind("Service", [WEB_B], namespace="b")
    store.reject(object_key(API), [problem("api")])
    assert {kind: dict(found) for kind, found in snapshot.kinds.items()} == {
        "Service": {("default", "web"): WEB},
        "Ingress": {("default", "shop"): SHOP},
    }
    store.replace_all([], [])
    assert dict(snapshot.kinds["Service"]) == {("default", "web"): WEB}
    assert snapshot.revision < store.revision
