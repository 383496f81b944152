"""Watch at scale: the EndpointSlice informer and the whole controller against the real
kube-apiserver.

10,000 EndpointSlices (10 endpoints each) are created in a fresh control plane
from the e2e harness; then the controller's own informer lists them into a
store (time to the first complete sync), and 2,000 slices are updated while
it watches (time until the store has seen every update, and events per second).
Then the rest of the generated cluster goes in (10,000 Services and 10,000
Ingresses of one host and 3 paths), and a real `ingress-ctl run --kubeconfig`
serves it: time until /readyz answers and the controller's peak and current RSS
(the control-plane benchmark measures the same in file mode).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from time import perf_counter
from typing import Any

from kubernetes_asyncio import client

from bench.clusters import endpoint_slice, ingress, ingress_class, service
from bench.control_plane import process_memory
from bench.reporting import report
from e2e.controlplane import ControlPlane, build_binaries
from ingress_ctl.kube.client import connect
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.objects import EndpointSlice
from ingress_ctl.sources.informers import NAMESPACED_RESOURCES, Informer
from ingress_ctl.store import Store

SLICES, UPDATES, CONCURRENCY, ENDPOINTS = 10_000, 2_000, 64, 10
NAMESPACE = "bench"


async def in_parallel(calls: list[Callable[[], Awaitable[Any]]]) -> float:
    """Run the calls, CONCURRENCY at a time; the seconds it took."""
    started = perf_counter()
    queue = list(reversed(calls))

    async def worker() -> None:
        while queue:
            response = await queue.pop()()
            response.release()
            assert response.status < 300, response.status

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return perf_counter() - started


def body(index: int, generation: int = 0) -> Any:
    """An EndpointSlice as the raw dict the API takes (typed Any: the client's stubs want
    its generated models)."""
    raw = endpoint_slice(index, ENDPOINTS, generation=generation)
    raw["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] = "bench"
    return raw


async def measure(plane: ControlPlane) -> dict[str, Any]:
    api = await connect(kubeconfig=plane.kubeconfig)
    discovery = client.DiscoveryV1Api(api)
    create = discovery.create_namespaced_endpoint_slice
    create_s = await in_parallel(
        [partial(create, NAMESPACE, body(i), _preload_content=False) for i in range(SLICES)]
    )
    store = Store()
    resource = next(r for r in NAMESPACED_RESOURCES if r.kind == "EndpointSlice")
    informer = Informer(api=api, resource=resource, store=store, metrics=Metrics())
    started = perf_counter()
    task = asyncio.create_task(informer.run())
    await informer.listed.wait()
    list_s = perf_counter() - started
    assert len(store.snapshot().objects(EndpointSlice)) == SLICES
    revision = store.revision
    started = perf_counter()
    replace = discovery.replace_namespaced_endpoint_slice
    update_s = await in_parallel(
        [
            partial(replace, f"svc{i}-abcde", NAMESPACE, body(i, 1), _preload_content=False)
            for i in range(UPDATES)
        ]
    )
    while store.revision < revision + UPDATES:
        await asyncio.sleep(0.005)
    watch_s = perf_counter() - started
    task.cancel()
    await create_cluster(api)
    await api.close()
    return {
        "slices": SLICES,
        "endpoints": SLICES * ENDPOINTS,
        "create s (setup)": round(create_s, 1),
        "first complete sync s": round(list_s, 2),
        "updates": UPDATES,
        "updates sent s": round(update_s, 2),
        "all seen s": round(watch_s, 2),
        "events/s": round(UPDATES / watch_s),
    }


def untyped(raw: dict[str, Any]) -> Any:
    """A raw manifest for the client (whose stubs want its generated models)."""
    return raw


async def create_cluster(api: client.ApiClient) -> None:
    """The IngressClass, Services and Ingresses of the generated cluster (slices exist)."""
    networking, core = client.NetworkingV1Api(api), client.CoreV1Api(api)
    create_class = networking.create_ingress_class
    await in_parallel([partial(create_class, untyped(ingress_class()), _preload_content=False)])
    create_service = core.create_namespaced_service
    create_ingress = networking.create_namespaced_ingress
    await in_parallel(
        [partial(create_service, NAMESPACE, untyped(service(i)), _preload_content=False) for i in range(SLICES)]
        + [partial(create_ingress, NAMESPACE, untyped(ingress(i)), _preload_content=False) for i in range(SLICES)]
    )  # fmt: skip


def main() -> None:
    etcd, apiserver = build_binaries()
    with (
        tempfile.TemporaryDirectory(prefix="icws") as work,
        ControlPlane(workdir=Path(work), etcd_bin=etcd, apiserver_bin=apiserver) as plane,
    ):
        plane.kubectl("create", "namespace", NAMESPACE)
        row = asyncio.run(measure(plane))
        row |= process_memory(["--kubeconfig", str(plane.kubeconfig)])
    print(json.dumps(row))
    report("watch_scale", "Watch at scale: EndpointSlice informer, real kube-apiserver", [row])


if __name__ == "__main__":
    main()
