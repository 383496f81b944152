"""The informer against a scripted API server on 127.0.0.1: resume, bookmarks, 410 and relist.

The fake answers list and watch calls for ConfigMaps from a script, one step per call,
and records the resourceVersion of every watch, so the tests see exactly when the
informer resumes and when it relists.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from kubernetes_asyncio import client

from ingress_ctl.metrics import Metrics
from ingress_ctl.sources import informers
from ingress_ctl.sources.informers import GATEWAY_RESOURCES, CustomResource, Informer, Resource
from ingress_ctl.store import Store

CONFIG_MAPS = Resource(
    "ConfigMap",
    client.CoreV1Api,
    "list_config_map_for_all_namespaces",
    "list_namespaced_config_map",
)


def config_map(name: str, version: int) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "default", "resourceVersion": str(version)}}


def listing(version: int, *items: dict[str, Any]) -> web.Response:
    return web.json_response({"metadata": {"resourceVersion": str(version)}, "items": list(items)})


def stream(*events: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(event).encode() + b"\n" for event in events)


@dataclass
class FakeApiServer:
    """Answers each list and each watch with the next step of its script."""

    lists: list[web.Response]
    watches: list[web.Response | bytes]
    seen: list[str] = field(default_factory=list)
    """`list`, or `watch@<resourceVersion>`, per call."""
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("watch", "").lower() != "true":  # kubernetes-asyncio sends "True"
            self.seen.append("list")
            return self.lists.pop(0)
        self.seen.append(f"watch@{request.query['resourceVersion']}")
        if not self.watches:
            self.done.set()
            await asyncio.Event().wait()  # a quiet watch, until the test ends
        step = self.watches.pop(0)
        return web.Response(body=step) if isinstance(step, bytes) else step


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(informers, "BACKOFF_START_S", 0.001)
    monkeypatch.setattr(informers, "ABSENT_RETRY_S", 0.001)


async def run_script(
    fake: FakeApiServer,
    *,
    resource: Resource | CustomResource = CONFIG_MAPS,
    path: str = "/api/v1/configmaps",
) -> tuple[Store, Metrics]:
    """Run an informer against the fake (answering on `path`, any other is 404) until its
    script is used up."""
    app = web.Application()
    app.router.add_get(path, fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    store, metrics = Store(), Metrics()
    configuration = client.Configuration(host=f"http://127.0.0.1:{server.port}")
    async with client.ApiClient(configuration=configuration) as api:
        informer = Informer(api=api, resource=resource, store=store, metrics=metrics)
        task = asyncio.create_task(informer.run())
        try:
            await asyncio.wait_for(fake.done.wait(), timeout=5)
            assert informer.listed.is_set()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await server.close()
    return store, metrics


def names(store: Store) -> list[str]:
    return sorted(name for (_, name) in store.snapshot().kinds.get("ConfigMap", {}))


def lists(metrics: Metrics, reason: str) -> float:
    value = metrics.registry.get_sample_value(
        "ingress_ctl_informer_lists_total", {"kind": "ConfigMap", "reason": reason}
    )
    return value or 0.0


async def test_watch_resumes_from_the_last_version_and_bookmark() -> None:
    fake = FakeApiServer(
        lists=[listing(10, config_map("a", 5))],
        watches=[
            stream(
                {"type": "ADDED", "object": config_map("b", 11)},
                {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "12"}}},
            ),
            stream({"type": "DELETED", "object": config_map("a", 13)}),
        ],
    )

    store, metrics = await run_script(fake)

    assert fake.seen == ["list", "watch@10", "watch@12", "watch@13"]
    assert names(store) == ["b"]
    assert lists(metrics, "start") == 1


async def test_a_failed_watch_is_resumed_without_a_relist() -> None:
    fake = FakeApiServer(
        lists=[listing(10)],
        watches=[
            web.json_response({"code": 500, "message": "etcd is sad"}, status=500),
            web.json_response({"code": 403, "message": "forbidden"}, status=403),
            stream({"type": "ADDED", "object": config_map("b", 11)}),
        ],
    )

    store, _ = await run_script(fake)

    assert fake.seen == ["list", "watch@10", "watch@10", "watch@10", "watch@11"]
    assert names(store) == ["b"]


@pytest.mark.parametrize(
    "gone",
    [
        stream({"type": "ERROR", "object": {"code": 410, "message": "too old resource version"}}),
        web.json_response({"code": 410, "message": "too old resource version"}, status=410),
    ],
    ids=["410 event", "410 response"],
)
async def test_an_expired_watch_relists_and_drops_what_was_deleted_meanwhile(
    gone: web.Response | bytes,
) -> None:
    fake = FakeApiServer(
        lists=[listing(10, config_map("a", 5)), listing(20, config_map("c", 15))],
        watches=[gone],
    )

    store, metrics = await run_script(fake)

    assert fake.seen == ["list", "watch@10", "list", "watch@20"]
    assert names(store) == ["c"]
    assert (lists(metrics, "start"), lists(metrics, "expired")) == (1, 1)


async def test_a_failed_list_is_retried() -> None:
    fake = FakeApiServer(
        lists=[
            web.json_response({"message": "unavailable"}, status=503),
            listing(10, config_map("a", 5)),
        ],
        watches=[],
    )

    store, metrics = await run_script(fake)

    assert fake.seen == ["list", "list", "watch@10"]
    assert names(store) == ["a"]
    assert (lists(metrics, "start"), lists(metrics, "error")) == (0, 1)


async def test_unreadable_objects_are_rejected_not_dropped_silently() -> None:
    bad = {"metadata": {"name": "Bad_Name", "namespace": "default", "resourceVersion": "6"}}
    fake = FakeApiServer(lists=[listing(10, config_map("a", 5), bad)], watches=[])

    store, _ = await run_script(fake)

    assert names(store) == ["a"]
    [problem] = store.problems()
    assert (problem.source.name, problem.field) == ("Bad_Name", "metadata.name")


async def test_a_relist_with_an_unreadable_object_bumps_the_revision_once() -> None:
    bad = {"metadata": {"name": "Bad_Name", "namespace": "default", "resourceVersion": "6"}}
    gone = stream({"type": "ERROR", "object": {"code": 410, "message": "too old"}})
    fake = FakeApiServer(
        lists=[listing(10, config_map("a", 5), bad), listing(20, config_map("a", 5), bad)],
        watches=[gone],
    )

    store, _ = await run_script(fake)

    assert fake.seen == ["list", "watch@10", "list", "watch@20"]
    assert store.revision == 1  # the first list; the relist found nothing new
    [problem] = store.problems()
    assert (problem.source.name, problem.field) == ("Bad_Name", "metadata.name")


TCP_ROUTES = next(found for found in GATEWAY_RESOURCES if found.kind == "TCPRoute")
V1ALPHA2 = "/apis/gateway.networking.k8s.io/v1alpha2/tcproutes"
"""Served by the fake; v1 (tried first) is not: a cluster with older experimental CRDs."""


def tcp_route(name: str, version: int) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1alpha2",
        "kind": "TCPRoute",
        "metadata": {"name": name, "namespace": "default", "resourceVersion": str(version)},
        "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [{"name": "s"}]}]},
    }


def not_found() -> web.Response:
    return web.json_response({"code": 404, "message": "the server could not find it"}, status=404)


def routes(store: Store) -> list[str]:
    return sorted(name for (_, name) in store.snapshot().kinds.get("TCPRoute", {}))


async def test_an_optional_kind_is_read_at_the_first_version_served() -> None:
    fake = FakeApiServer(
        lists=[listing(10, tcp_route("a", 5))],
        watches=[stream({"type": "ADDED", "object": tcp_route("b", 11)})],
    )

    store, _ = await run_script(fake, resource=TCP_ROUTES, path=V1ALPHA2)

    assert fake.seen == ["list", "watch@10", "watch@11"]  # the watch at v1alpha2 too
    assert routes(store) == ["a", "b"]


@pytest.mark.parametrize("status", [404, 403])
async def test_an_optional_kind_not_served_is_listed_empty_and_looked_for_again(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    def absent() -> web.Response:
        return web.json_response({"code": status, "message": "no"}, status=status)

    fake = FakeApiServer(
        lists=[absent(), absent(), listing(10, tcp_route("a", 5))],
        watches=[],
    )

    with caplog.at_level("INFO", logger=informers.__name__):
        store, metrics = await run_script(fake, resource=TCP_ROUTES, path=V1ALPHA2)

    assert fake.seen == ["list", "list", "list", "watch@10"]
    assert routes(store) == ["a"]
    said = [r.getMessage() for r in caplog.records if "TCPRoute" in r.getMessage()]
    assert len([m for m in said if "looked for again" in m]) == 1  # logged once
    assert any("now readable" in m for m in said)
    kind_lists = metrics.registry.get_sample_value(
        "ingress_ctl_informer_lists_total", {"kind": "TCPRoute", "reason": "start"}
    )
    assert kind_lists == 1


async def test_an_optional_kind_that_goes_away_is_emptied_and_looked_for_again() -> None:
    fake = FakeApiServer(
        lists=[listing(10, tcp_route("a", 5)), not_found(), listing(30, tcp_route("c", 25))],
        watches=[not_found()],  # the CRD was deleted
    )
    seen_empty: list[bool] = []
    original = Store.replace_kind

    def spy(self: Store, kind: str, objects: Any, **kwargs: Any) -> bool:
        seen_empty.append(not list(objects))
        return original(self, kind, objects, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Store, "replace_kind", spy)
        store, _ = await run_script(fake, resource=TCP_ROUTES, path=V1ALPHA2)

    assert fake.seen == ["list", "watch@10", "list", "list", "watch@30"]
    assert seen_empty == [False, True, True, False]
    assert routes(store) == ["c"]


async def test_an_optional_kind_listed_but_not_watched_is_looked_for_again_not_relisted_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(informers, "ABSENT_RETRY_S", 0.2)
    forbidden = web.json_response({"code": 403, "message": "watch forbidden"}, status=403)
    fake = FakeApiServer(
        lists=[listing(10, tcp_route("a", 5)), listing(20, tcp_route("a", 5))],
        watches=[forbidden],
    )
    started = asyncio.get_running_loop().time()

    store, _ = await run_script(fake, resource=TCP_ROUTES, path=V1ALPHA2)

    assert fake.seen == ["list", "watch@10", "list", "watch@20"]
    assert asyncio.get_running_loop().time() - started >= 0.2  # not a tight loop
    assert routes(store) == ["a"]


async def test_a_required_kind_refused_is_retried_not_taken_as_empty() -> None:
    fake = FakeApiServer(
        lists=[
            web.json_response({"code": 403, "message": "forbidden"}, status=403),
            listing(10, config_map("a", 5)),
        ],
        watches=[],
    )

    store, metrics = await run_script(fake)

    assert fake.seen == ["list", "list", "watch@10"]
    assert lists(metrics, "error") == 1
    assert names(store) == ["a"]
