"""The Gateway API against a real API server: watching every kind, CRDs that arrive late,
and status written as the spec wants it (only when different, transition times kept,
other controllers' route parents kept, conflicts re-read).

The module has a control plane of its own, started without the Gateway API CRDs: the
first test installs them while the informers already run; the others find them there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from e2e.controller import running_controller
from e2e.controlplane import ControlPlane, build_binaries
from e2e.fixtures import namespace_name
from e2e.gateway_api import gateway_api_crds
from ingress_ctl.kube.client import connect
from ingress_ctl.kube.gateway_writing import GatewayStatusWriter
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.conditions import (
    Condition,
    ConditionStatus,
    GatewayAddressStatus,
    GatewayClassStatus,
    GatewayStatus,
    GatewayStatuses,
    ListenerStatus,
    ParentRef,
    ParentStatus,
    RouteKind,
    RouteStatus,
)
from ingress_ctl.model.gateway_api import GROUP
from ingress_ctl.model.snapshot import Snapshot
from ingress_ctl.sources import informers
from ingress_ctl.store import Store
from tests.gateway_examples import KINDS, gateway_api_objects
from tests.http import wait_for

pytestmark = pytest.mark.e2e

OURS = "ingress-ctl.io/haproxy"
THEIRS = "example.net/other-controller"
TIMEOUT_S = 30.0


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A control plane of this module's own, without the Gateway API CRDs at first."""
    etcd_bin, apiserver_bin = build_binaries()
    with ControlPlane(
        workdir=tmp_path_factory.mktemp("gateway-plane"),
        etcd_bin=etcd_bin,
        apiserver_bin=apiserver_bin,
    ) as found:
        yield found


def install_crds(plane: ControlPlane) -> None:
    """Apply the Gateway API CRDs and wait until the API server serves them."""
    files = gateway_api_crds()
    plane.kubectl("apply", "--server-side", *(f"-f={path}" for path in files))
    names = [
        f"crd/{Path(path).name.split('_', 1)[1].removesuffix('.yaml')}.{GROUP}" for path in files
    ]
    plane.kubectl("wait", "--for=condition=Established", "--timeout=60s", *names)


@pytest.fixture
def crds(plane: ControlPlane) -> ControlPlane:
    install_crds(plane)
    return plane


@pytest.fixture
def namespace(request: pytest.FixtureRequest) -> str:
    """A namespace name for one test, on this module's control plane (the examples create
    and label it)."""
    return namespace_name(request.node.name)


async def kubectl(plane: ControlPlane, *args: str, input: str | None = None) -> str:
    """kubectl off the event loop (the informers keep running meanwhile)."""
    return await asyncio.to_thread(plane.kubectl, *args, input=input)


async def apply(plane: ControlPlane, *manifests: dict[str, Any]) -> None:
    items = {"apiVersion": "v1", "kind": "List", "items": list(manifests)}
    await kubectl(plane, "apply", "-f", "-", input=json.dumps(items))


async def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + TIMEOUT_S
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def watching(plane: ControlPlane) -> AsyncIterator[tuple[Store, list[informers.Informer]]]:
    """Every informer of `ingress-ctl run` (all namespaces) filling a store, until the end."""
    api = await connect(kubeconfig=plane.kubeconfig)
    store = Store()
    found = informers.informers(api=api, store=store, metrics=Metrics(), namespaces=())
    tasks = [asyncio.create_task(informer.run()) for informer in found]
    try:
        await asyncio.wait_for(
            asyncio.gather(*(informer.listed.wait() for informer in found)), TIMEOUT_S
        )
        yield store, found
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await api.close()


def held(store: Store, kind: str, namespace: str) -> dict[str, Any]:
    """The store's objects of a kind in a namespace (Namespaces: the one named so)."""
    objects = store.snapshot().kinds.get(kind, {})
    if kind == "Namespace":
        return {name: obj for (_, name), obj in objects.items() if name == namespace}
    if kind == "GatewayClass":
        return {name: obj for (_, name), obj in objects.items() if name.endswith(namespace)}
    return {name: obj for (ns, name), obj in objects.items() if ns == namespace}


def test_crds_installed_after_the_controller_started_are_picked_up(
    plane: ControlPlane, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(informers, "ABSENT_RETRY_S", 0.5)

    async def scenario() -> None:
        async with watching(plane) as (store, found):
            absent = sorted(i.resource.kind for i in found if i.absent)
            assert absent == sorted(set(KINDS) - {"Namespace"})  # every one, listed as none
            await asyncio.to_thread(install_crds, plane)
            await apply(plane, *gateway_api_objects(namespace))
            await eventually(
                lambda: all(held(store, kind, namespace) for kind in KINDS),
                "every kind in the store",
            )
            assert not [i.resource.kind for i in found if i.absent]

    asyncio.run(scenario())


def object_args(manifest: dict[str, Any]) -> tuple[str, ...]:
    """kubectl arguments naming a manifest's object."""
    meta = manifest["metadata"]
    kind = manifest["kind"].lower()
    where = ("-n", meta["namespace"]) if "namespace" in meta else ()
    return (
        f"{kind}.{GROUP}" if manifest["apiVersion"].startswith(GROUP) else kind,
        meta["name"],
        *where,
    )


def test_watch_sees_every_kind_created_updated_and_deleted(
    crds: ControlPlane, namespace: str
) -> None:
    examples = gateway_api_objects(namespace)

    async def scenario() -> None:
        async with watching(crds) as (store, _):
            await apply(crds, *examples)
            await eventually(
                lambda: all(held(store, kind, namespace) for kind in KINDS), "every kind added"
            )
            for manifest in examples:
                await kubectl(crds, "label", *object_args(manifest), "changed=yes")

            def all_labelled() -> bool:
                return all(
                    obj.metadata.labels.get("changed") == "yes"
                    for kind in KINDS
                    for obj in held(store, kind, namespace).values()
                )

            await eventually(all_labelled, "every kind updated")
            for manifest in examples[1:]:  # a Namespace never finishes deleting here
                await kubectl(crds, "delete", *object_args(manifest), "--wait=false")
            await eventually(
                lambda: not any(held(store, kind, namespace) for kind in KINDS[1:]),
                "every kind deleted",
            )

    asyncio.run(scenario())


def condition(
    type_: str, status: ConditionStatus = "True", reason: str | None = None, message: str = ""
) -> Condition:
    return Condition(
        type=type_,
        status=status,
        reason=reason or type_,
        message=message,
        observed_generation=1,
    )


def statuses(namespace: str, *, message: str = "", reason: str = "Accepted") -> GatewayStatuses:
    """What translation could say of the examples (hand-made until it does)."""
    listener_kinds = {
        "http": ("HTTPRoute", "GRPCRoute"),
        "tls": ("TLSRoute",),
        "tcp": ("TCPRoute",),
    }
    parent = ParentRef(group=GROUP, kind="Gateway", namespace=namespace, name="gw")
    return GatewayStatuses(
        classes=(
            GatewayClassStatus(
                name=f"ingress-ctl-{namespace}",
                conditions=(condition("Accepted"),),
                supported_features=("HTTPRoute", "Gateway", "TLSRoute"),
            ),
        ),
        gateways=(
            GatewayStatus(
                namespace=namespace,
                name="gw",
                addresses=(GatewayAddressStatus(type="IPAddress", value="127.0.0.1"),),
                conditions=(condition("Accepted", reason=reason), condition("Programmed")),
                listeners=tuple(
                    ListenerStatus(
                        name=name,
                        supported_kinds=tuple(RouteKind(group=GROUP, kind=k) for k in kinds),
                        attached_routes=len(kinds),
                        conditions=(condition("Accepted"), condition("Programmed")),
                    )
                    for name, kinds in listener_kinds.items()
                ),
            ),
        ),
        routes=tuple(
            RouteStatus(
                kind=kind,
                namespace=namespace,
                name=name,
                parents=(
                    ParentStatus(
                        parent=parent,
                        conditions=(
                            condition("Accepted", message=message),
                            condition("ResolvedRefs"),
                        ),
                    ),
                ),
            )
            for kind, name in (
                ("HTTPRoute", "web"),
                ("GRPCRoute", "grpc"),
                ("TLSRoute", "tls"),
                ("TCPRoute", "tcp"),
            )
        ),
    )


def status_patches(plane: ControlPlane, code: str = "") -> int:
    """PATCH requests to Gateway API status subresources (answered `code`, or any), as the
    API server counts them."""
    total = 0
    wanted = (f'group="{GROUP}"', 'subresource="status"', 'verb="PATCH"', f'code="{code}')
    for line in plane.kubectl("get", "--raw", "/metrics").splitlines():
        if line.startswith("apiserver_request_total{") and all(w in line for w in wanted):
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


def read(plane: ControlPlane, kind: str, name: str, namespace: str | None) -> dict[str, Any]:
    where = ("-n", namespace) if namespace else ()
    found: dict[str, Any] = json.loads(
        plane.kubectl("get", f"{kind.lower()}.{GROUP}", name, *where, "-o", "json")
    )
    return found


def times(document: dict[str, Any]) -> list[str]:
    """Every lastTransitionTime in a status, in order."""
    return re.findall(r'"lastTransitionTime": "([^"]+)"', json.dumps(document["status"]))


class Clock:
    """The writer's `now`, moved by the test (so a kept time is told from a new one)."""

    def __init__(self) -> None:
        self.at = "2026-01-01T00:00:00Z"

    def __call__(self) -> str:
        return self.at


def their_entry(namespace: str, gateway: str, controller: str = THEIRS) -> dict[str, Any]:
    """A route parent entry as another controller writes it."""
    accepted: dict[str, Any] = {
        "type": "Accepted",
        "status": "True",
        "reason": "Accepted",
        "message": "",
        "lastTransitionTime": "2025-05-05T05:05:05Z",
    }
    return {
        "parentRef": {"group": GROUP, "kind": "Gateway", "namespace": namespace, "name": gateway},
        "controllerName": controller,
        "conditions": [accepted],
    }


@dataclass
class Scene:
    """The examples in a namespace, the store the informers fill, and a writer."""

    plane: ControlPlane
    namespace: str
    store: Store
    writer: GatewayStatusWriter
    metrics: Metrics
    clock: Clock

    async def patches(self, code: str = "") -> int:
        return await asyncio.to_thread(status_patches, self.plane, code)

    async def written(self, statuses: GatewayStatuses, snapshot: Snapshot | None = None) -> int:
        """Submit, wait until the writer is idle; how many objects were queued."""
        queued = await self.writer.submit(statuses, snapshot or self.store.snapshot())
        await asyncio.wait_for(self.writer.idle.wait(), TIMEOUT_S)
        return queued

    async def read(self, kind: str, name: str) -> dict[str, Any]:
        namespace = None if kind == "GatewayClass" else self.namespace
        return await asyncio.to_thread(read, self.plane, kind, name, namespace)

    async def set_route_parents(self, *parents: dict[str, Any]) -> None:
        body = json.dumps({"status": {"parents": list(parents)}})
        await kubectl(
            self.plane, "patch", f"httproute.{GROUP}", "web", "-n", self.namespace,
            "--subresource=status", "--type=merge", "-p", body,
        )  # fmt: skip


@contextlib.asynccontextmanager
async def scene(plane: ControlPlane, namespace: str) -> AsyncIterator[Scene]:
    """The examples applied (the HTTPRoute with another controller's parent entry and a stale
    one of ours), watched, and a running writer."""
    async with watching(plane) as (store, _):
        api = await connect(kubeconfig=plane.kubeconfig)
        metrics, clock = Metrics(), Clock()
        writer = GatewayStatusWriter(
            api=api, metrics=metrics, controller_name=OURS, is_leader=lambda: True, clock=clock
        )
        found = Scene(plane, namespace, store, writer, metrics, clock)
        await apply(plane, *gateway_api_objects(namespace, controller=OURS))
        await found.set_route_parents(
            their_entry(namespace, "their-gw"), their_entry(namespace, "gone", controller=OURS)
        )
        await eventually(
            lambda: (
                all(held(store, kind, namespace) for kind in KINDS)
                and bool(held(store, "HTTPRoute", namespace)["web"].status)
            ),
            "the examples in the store",
        )
        worker = asyncio.create_task(writer.run())
        try:
            yield found
        finally:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
            await api.close()


def test_status_is_written_only_when_different_keeping_times_and_others_entries(
    crds: ControlPlane, namespace: str
) -> None:

    async def scenario() -> None:
        async with scene(crds, namespace) as found:
            await first_write(found)
            await nothing_changed(found)
            await message_and_reason_changed(found)
            await conflict(found)

    asyncio.run(scenario())


async def first_write(scene: Scene) -> None:
    """Six objects written; the other controller's entry kept, our stale one dropped."""
    before = await scene.patches()
    assert await scene.written(statuses(scene.namespace)) == 6
    assert await scene.patches() - before == 6
    route = await scene.read("HTTPRoute", "web")
    parents = route["status"]["parents"]
    assert parents[0] == their_entry(scene.namespace, "their-gw")
    assert [p["parentRef"]["name"] for p in parents] == ["their-gw", "gw"]
    assert parents[1]["controllerName"] == OURS
    assert {c["observedGeneration"] for c in parents[1]["conditions"]} == {1}
    gateway = await scene.read("Gateway", "gw")
    assert gateway["status"]["addresses"] == [{"type": "IPAddress", "value": "127.0.0.1"}]
    listeners = gateway["status"]["listeners"]
    assert [(x["name"], x["attachedRoutes"]) for x in listeners] == [
        ("http", 2),
        ("tls", 1),
        ("tcp", 1),
    ]
    assert set(times(gateway)) == {scene.clock.at}
    gateway_class = await scene.read("GatewayClass", f"ingress-ctl-{scene.namespace}")
    assert gateway_class["status"]["supportedFeatures"] == [
        {"name": "Gateway"},
        {"name": "HTTPRoute"},
        {"name": "TLSRoute"},
    ]


async def nothing_changed(scene: Scene) -> None:
    """The same statuses a second later: not one request, whether or not the watch has
    brought our writes back to the store yet (and the API server stored exactly what we
    wrote: nothing it defaulted or pruned differs)."""
    scene.clock.at = "2026-01-01T00:00:01Z"
    before = await scene.patches()
    assert await scene.written(statuses(scene.namespace)) == 0
    served = {}
    for key, _ in mine(scene):
        kind, name = key.split("/")
        served[key] = (await scene.read(kind, name))["metadata"]["resourceVersion"]
    await eventually(
        lambda: all(obj.metadata.resource_version == served[key] for key, obj in mine(scene)),
        "our writes back through the watch",
    )
    assert await scene.written(statuses(scene.namespace)) == 0
    assert await scene.patches() == before


async def message_and_reason_changed(scene: Scene) -> None:
    """A new message keeps a condition's transition time; a new reason moves it."""
    first = scene.clock.at = "2026-01-01T00:00:00Z"
    scene.clock.at = "2026-01-01T00:00:02Z"
    changed = statuses(scene.namespace, message="m", reason="Changed")
    assert await scene.written(changed) == 5  # four routes' messages, the Gateway's reason
    route = await scene.read("HTTPRoute", "web")
    assert route["status"]["parents"][1]["conditions"][0]["message"] == "m"
    assert times(route)[1:] == [first, first]
    gateway = await scene.read("Gateway", "gw")
    accepted = gateway["status"]["conditions"][0]
    assert (accepted["reason"], accepted["lastTransitionTime"]) == ("Changed", scene.clock.at)
    assert times(gateway).count(scene.clock.at) == 1


async def conflict(scene: Scene) -> None:
    """Another controller writes after our snapshot: our write meets 409 Conflict, reads
    the route again and keeps what they wrote."""
    snapshot = scene.store.snapshot()
    route = await scene.read("HTTPRoute", "web")
    ours = route["status"]["parents"][1:]
    theirs = [their_entry(scene.namespace, "their-gw"), their_entry(scene.namespace, "their-gw-2")]
    await scene.set_route_parents(*theirs, *ours)
    conflicts = await scene.patches("409")
    scene.clock.at = "2026-01-01T00:00:03Z"
    assert await scene.written(statuses(scene.namespace), snapshot) == 5
    assert await scene.patches("409") > conflicts
    route = await scene.read("HTTPRoute", "web")
    assert [p["parentRef"]["name"] for p in route["status"]["parents"]] == [
        "their-gw",
        "their-gw-2",
        "gw",
    ]
    assert route["status"]["parents"][2]["conditions"][0]["message"] == ""
    failures = scene.metrics.registry.get_sample_value(
        "ingress_ctl_gateway_status_write_failures_total", {"kind": "HTTPRoute"}
    )
    assert failures is None


def mine(scene: Scene) -> list[tuple[str, Any]]:
    """The examples whose status the writer owns, as the store holds them."""
    found: list[tuple[str, Any]] = []
    for kind in ("GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute"):
        held_now = held(scene.store, kind, scene.namespace).items()
        found.extend((f"{kind}/{name}", obj) for name, obj in held_now)
    return found


def test_the_running_controller_leading_drops_its_entries_for_parents_no_longer_ours(
    crds: ControlPlane, namespace: str
) -> None:
    """`ingress-ctl run` end to end: informers, sync, the leader's reporting and the writer.
    An entry of our controllerName for a parent the route does not reference goes; another
    controller's entry stays (true whatever translation says of the route's own parent)."""
    asyncio.run(apply(crds, *gateway_api_objects(namespace, controller=OURS)))
    theirs, stale = their_entry(namespace, "their-gw"), their_entry(namespace, "gone", OURS)
    body = json.dumps({"status": {"parents": [theirs, stale]}})
    crds.kubectl(
        "patch", f"httproute.{GROUP}", "web", "-n", namespace,
        "--subresource=status", "--type=merge", "-p", body,
    )  # fmt: skip
    flags = (
        "--controller-name", OURS, "--watch-namespace", namespace,
        "--controller-namespace", namespace, "--election-id", "gateway",
    )  # fmt: skip
    with running_controller(crds.kubeconfig, *flags) as controller:
        controller.wait_ready()

        def parents() -> list[str] | None:
            route = read(crds, "HTTPRoute", "web", namespace)
            found = [p["parentRef"]["name"] for p in route["status"]["parents"]]
            return found if "gone" not in found else None

        names = wait_for(parents, timeout=TIMEOUT_S, interval=0.5)
        assert names[0] == "their-gw"
        assert "gateway_api" in controller.status()
        assert controller.metrics()["ingress_ctl_leader"] == 1.0
