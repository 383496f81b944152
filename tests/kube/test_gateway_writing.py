"""The Gateway API status writer against a scripted API server on 127.0.0.1: leader only,
latest status wins, failures retried, the served version found and kept.

(Conflicts, kept transition times and other controllers' entries are shown against the
real API server in e2e/test_gateway_api.py.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from kubernetes_asyncio import client

from ingress_ctl.kube import gateway_writing
from ingress_ctl.kube.gateway_writing import GatewayStatusWriter
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.conditions import Condition, GatewayStatus, GatewayStatuses
from ingress_ctl.model.objects import parse_object
from ingress_ctl.model.snapshot import Snapshot
from tests.gateway_examples import gateway_api_objects

OURS = "ingress-ctl.io/haproxy"


@dataclass
class FakeApiServer:
    """Answers each status PATCH with the next scripted status code (200 when none is left)
    and 404 at any version but `served`; records every request."""

    served: str = "v1"
    codes: list[int] = field(default_factory=list)
    seen: list[tuple[str, str, Any]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        self.seen.append((request.method, request.path, body))
        if request.match_info["version"] != self.served:
            return web.json_response({"code": 404, "message": "not served"}, status=404)
        code = self.codes.pop(0) if self.codes else 200
        if code != 200:
            return web.json_response({"code": code, "message": "scripted"}, status=code)
        status = (body or {}).get("status", {})
        return web.json_response({"metadata": {"resourceVersion": "99"}, "status": status})

    def patches(self) -> list[tuple[str, Any]]:
        return [(path, body) for method, path, body in self.seen if method == "PATCH"]


def gateway(message: str) -> GatewayStatuses:
    accepted = Condition(type="Accepted", status="True", reason="Accepted", message=message)
    return GatewayStatuses(
        gateways=(
            GatewayStatus(
                namespace="ns", name="gw", addresses=(), conditions=(accepted,), listeners=()
            ),
        )
    )


def snapshot() -> Snapshot:
    """The examples (resourceVersion 7), without status."""
    objects = []
    for manifest in gateway_api_objects("ns"):
        if manifest["kind"] in ("Gateway", "Namespace"):
            parsed = parse_object(
                {**manifest, "metadata": {**manifest["metadata"], "resourceVersion": "7"}}
            )
            assert parsed is not None
            objects.append(parsed)
    return Snapshot.of(objects)


@asynccontextmanager
async def writer_for(
    fake: FakeApiServer, *, leader: Callable[[], bool] = lambda: True
) -> AsyncIterator[tuple[GatewayStatusWriter, Metrics]]:
    app = web.Application()
    app.router.add_route(
        "*",
        "/apis/gateway.networking.k8s.io/{version}/namespaces/ns/gateways/gw/status",
        fake.handle,
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    metrics = Metrics()
    configuration = client.Configuration(host=f"http://127.0.0.1:{server.port}")
    async with client.ApiClient(configuration=configuration) as api:
        writer = GatewayStatusWriter(
            api=api, metrics=metrics, controller_name=OURS, is_leader=leader
        )
        yield writer, metrics
    await server.close()


async def run_until_idle(writer: GatewayStatusWriter) -> None:
    task = asyncio.create_task(writer.run(parallel=2))
    try:
        await asyncio.sleep(0)
        await asyncio.wait_for(writer.idle.wait(), 5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def count(metrics: Metrics, name: str) -> float:
    return metrics.registry.get_sample_value(name, {"kind": "Gateway"}) or 0.0


async def test_the_latest_status_wins_and_carries_the_version_it_was_computed_from() -> None:
    fake = FakeApiServer()
    async with writer_for(fake) as (writer, metrics):
        assert await writer.submit(gateway("first"), snapshot()) == 1
        assert await writer.submit(gateway("second"), snapshot()) == 1
        await run_until_idle(writer)
    [(_, body)] = fake.patches()
    assert body["metadata"] == {"resourceVersion": "7"}
    assert body["status"]["conditions"][0]["message"] == "second"
    assert count(metrics, "ingress_ctl_gateway_status_writes_total") == 1


async def test_a_follower_writes_nothing() -> None:
    fake = FakeApiServer()
    async with writer_for(fake, leader=lambda: False) as (writer, metrics):
        assert await writer.submit(gateway("x"), snapshot()) == 1
        await run_until_idle(writer)
    assert fake.seen == []
    assert count(metrics, "ingress_ctl_gateway_status_writes_total") == 0


async def test_a_failed_write_is_counted_and_tried_again(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(gateway_writing, "RETRY_START_S", 0.01)
    fake = FakeApiServer(codes=[500])
    async with writer_for(fake) as (writer, metrics):
        await writer.submit(gateway("x"), snapshot())
        task = asyncio.create_task(writer.run())
        try:
            for _ in range(200):
                if len(fake.patches()) == 2 and writer.idle.is_set():
                    break
                await asyncio.sleep(0.01)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert len(fake.patches()) == 2
    assert count(metrics, "ingress_ctl_gateway_status_write_failures_total") == 1
    assert count(metrics, "ingress_ctl_gateway_status_writes_total") == 1
    assert "status of Gateway ns/gw: HTTP 500" in caplog.text


async def test_a_status_the_api_server_refuses_is_not_retried_by_itself(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(gateway_writing, "RETRY_START_S", 0.01)
    fake = FakeApiServer(codes=[422])
    async with writer_for(fake) as (writer, metrics):
        await writer.submit(gateway("x"), snapshot())
        await run_until_idle(writer)
        await asyncio.sleep(0.1)  # a retry would have come by now
    assert len(fake.patches()) == 1
    assert count(metrics, "ingress_ctl_gateway_status_write_failures_total") == 1
    assert "status of Gateway ns/gw refused: HTTP 422" in caplog.text


async def test_the_version_served_is_found_once_and_kept() -> None:
    fake = FakeApiServer(served="v1beta1")
    async with writer_for(fake) as (writer, _):
        await writer.submit(gateway("a"), snapshot())
        await run_until_idle(writer)
        await writer.submit(gateway("b"), snapshot())
        await run_until_idle(writer)
    versions = [path.split("/")[3] for path, _ in fake.patches()]
    assert versions == ["v1", "v1beta1", "v1beta1"]


async def test_an_object_gone_at_every_version_is_no_failure() -> None:
    fake = FakeApiServer(served="none")
    async with writer_for(fake) as (writer, metrics):
        await writer.submit(gateway("a"), snapshot())
        await run_until_idle(writer)
    assert [path.split("/")[3] for path, _ in fake.patches()] == ["v1", "v1beta1"]
    assert count(metrics, "ingress_ctl_gateway_status_write_failures_total") == 0
