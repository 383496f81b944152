"""The informer against the real API server: lists come in pages, all of them stored."""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

import pytest
from kubernetes_asyncio import client

from e2e.controlplane import ControlPlane
from ingress_ctl.kube.client import connect
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.objects import Service
from ingress_ctl.sources.informers import SERVICES, Informer, Resource
from ingress_ctl.store import Store

pytestmark = pytest.mark.e2e

COUNT, PAGE = 7, 3


def services(namespace: str) -> dict[str, Any]:
    items = [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": f"svc{index}", "namespace": namespace},
            "spec": {"ports": [{"port": 80}]},
        }
        for index in range(COUNT)
    ]
    return {"apiVersion": "v1", "kind": "List", "items": items}


class CountingCoreApi(client.CoreV1Api):
    """The generated API, counting the list calls made and the pages asked for."""

    limits: ClassVar[list[int]] = []

    async def list_namespaced_service(self, *args: Any, **kwargs: Any) -> Any:
        self.limits.append(kwargs["limit"])
        return await super().list_namespaced_service(*args, **kwargs)


async def list_services(control_plane: ControlPlane, namespace: str) -> set[str]:
    api = await connect(kubeconfig=control_plane.kubeconfig)
    store = Store()
    resource = Resource("Service", CountingCoreApi, SERVICES.all_namespaces, SERVICES.one_namespace)
    informer = Informer(
        api=api, resource=resource, store=store, metrics=Metrics(), namespace=namespace,
        page_size=PAGE,
    )  # fmt: skip
    task = asyncio.create_task(informer.run())
    try:
        await asyncio.wait_for(informer.listed.wait(), timeout=30)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await api.close()
    return {name for _, name in store.snapshot().objects(Service)}


def test_a_list_comes_in_pages_and_every_page_is_stored(
    control_plane: ControlPlane, namespace: str
) -> None:
    control_plane.kubectl("apply", "-f", "-", input=json.dumps(services(namespace)))

    names = asyncio.run(list_services(control_plane, namespace))

    assert names == {f"svc{index}" for index in range(COUNT)}
    assert CountingCoreApi.limits == [PAGE, PAGE, PAGE]  # 3 + 3 + 1
