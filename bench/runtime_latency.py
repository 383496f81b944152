"""Change-to-applied latency of endpoint changes, and reloads per 1,000 changes.

Real HAProxy and the controller's own store → syncing → applying pipeline. The
clock starts when the store takes the changed EndpointSlice and stops when
HAProxy has acknowledged every runtime command. Reloads are counted by
HAProxy's master (`show proc`).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from time import perf_counter
from typing import Any

from bench.reporting import report, summary_ms
from ingress_ctl.haproxy.applying import Applier
from ingress_ctl.haproxy.process import HAProxyProcess
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.objects import KubeObject, parse_object
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.state import ControllerStatus
from ingress_ctl.store import Store
from ingress_ctl.syncing import Syncer

CHANGES = 1000


def manifest(kind: str, name: str, **body: Any) -> KubeObject:
    api = {"Ingress": "networking.k8s.io/v1", "EndpointSlice": "discovery.k8s.io/v1"}
    service = name.split("-", maxsplit=1)[0]
    labels = {"kubernetes.io/service-name": service} if kind == "EndpointSlice" else {}
    raw: dict[str, Any] = {"apiVersion": api.get(kind, "v1"), "kind": kind}
    raw["metadata"] = {"name": name, "namespace": "bench", "labels": labels}
    parsed = parse_object(raw | body)
    assert parsed is not None
    return parsed


def cluster(services: int) -> list[KubeObject]:
    """`services` Services, each behind its own host, with 2 endpoints."""
    objects = [
        manifest("IngressClass", "haproxy", spec={"controller": "ingress-ctl.io/haproxy"}),
    ]
    for i in range(services):
        name = f"svc{i}"
        backend = {"service": {"name": name, "port": {"number": 80}}}
        rule = {
            "host": f"{name}.example.com",
            "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]},
        }
        objects += [
            manifest("Ingress", name, spec={"ingressClassName": "haproxy", "rules": [rule]}),
            manifest("Service", name, spec={"ports": [{"port": 80, "targetPort": 8080}]}),
            endpoints(name, 2, 0),
        ]
    return objects


def endpoints(service: str, count: int, generation: int) -> KubeObject:
    addresses = [
        {"addresses": [f"10.{generation % 200}.{i // 250}.{i % 250 + 1}"]} for i in range(count)
    ]
    return manifest(
        "EndpointSlice", f"{service}-slice", addressType="IPv4",
        ports=[{"port": 8080}], endpoints=addresses,
    )  # fmt: skip


async def measure(services: int) -> dict[str, Any]:
    state = Path(tempfile.mkdtemp(prefix="icb"))
    store, metrics = Store(), Metrics()
    status = ControllerStatus(mode="files")
    process = HAProxyProcess(binary=shutil.which("haproxy") or "/usr/sbin/haproxy", state_dir=state)
    settings = Settings(bind_address="127.0.0.1", http_port=18999)
    applier = Applier(process=process, state_dir=state, status=status, metrics=metrics)
    syncer = Syncer(store=store, settings=settings, applier=applier, status=status, metrics=metrics)
    try:
        store.replace_all(cluster(services), [])
        await syncer.sync_once()
        reloads_before = (await process.status()).reloads
        latencies = []
        for change in range(1, CHANGES + 1):
            service = f"svc{change % services}"
            started = perf_counter()
            store.upsert(endpoints(service, 1 + change % 4, change))
            await syncer.sync_once()
            latencies.append(perf_counter() - started)
            assert syncer.last_outcome is not None
            assert syncer.last_outcome.action == "runtime", syncer.last_outcome
        reloads = (await process.status()).reloads - reloads_before
    finally:
        await process.stop()
        shutil.rmtree(state, ignore_errors=True)
    return {"services": services, "changes": CHANGES, **summary_ms(latencies), "reloads": reloads}


def main() -> None:
    rows = [asyncio.run(measure(services)) for services in (10, 1000)]
    report("runtime_latency", "Endpoint change → applied by the runtime API (no reload)", rows)


if __name__ == "__main__":
    main()
