"""Control plane at scale: generated clusters of 1,000 and 10,000 Ingresses.

Each Ingress has one host and 3 paths to its own Service, whose EndpointSlice
holds 10 endpoints (10,000 Services and 100,000 endpoints at the large size).
Measured in a fresh process per size, with the controller's own pipeline and
the real HAProxy: parse, translate, render, write, `haproxy -c`, first start,
a full reload, one endpoint change and one new Ingress (to an existing
Service) applied through the runtime API, and the process's peak RSS.
"""

from __future__ import annotations

import asyncio
import json
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from time import perf_counter
from typing import Any

from bench.clusters import cluster, endpoint_slice, ingress
from bench.reporting import report
from ingress_ctl.applying import Applier, write_files
from ingress_ctl.haproxy.process import HAProxyProcess
from ingress_ctl.metrics import Metrics
from ingress_ctl.objects import KubeObject, parse_object
from ingress_ctl.settings import Settings
from ingress_ctl.snapshot import Snapshot
from ingress_ctl.status import ControllerStatus
from ingress_ctl.store import Store
from ingress_ctl.syncing import Syncer, build

SIZES = (1000, 10000)
ENDPOINTS = 10


def parsed(raw: dict[str, Any]) -> KubeObject:
    found = parse_object(raw)
    assert found is not None
    return found


def timed(figures: dict[str, Any], name: str, started: float) -> None:
    figures[name] = round((perf_counter() - started) * 1000, 1)


async def measure(size: int) -> dict[str, Any]:
    figures: dict[str, Any] = {"ingresses": size, "endpoints": size * ENDPOINTS}
    raw = cluster(size, endpoints=ENDPOINTS)
    started = perf_counter()
    objects = [parsed(item) for item in raw]
    timed(figures, "parse ms", started)
    settings = Settings(bind_address="127.0.0.1", http_port=18998)
    started = perf_counter()
    _, rendered = build(Snapshot.of(objects), settings, None)
    timed(figures, "translate + render ms", started)
    state = Path(tempfile.mkdtemp(prefix="iccp"))
    started = perf_counter()
    write_files(state, rendered.files)
    timed(figures, "write ms", started)
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    started = perf_counter()
    check = subprocess.run([haproxy, "-c", "-q", "-C", str(state), "-f", "haproxy.cfg"], check=False)
    timed(figures, "haproxy -c ms", started)
    assert check.returncode == 0
    await pipeline(figures, objects, settings, state, haproxy)
    figures["peak RSS MB"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    shutil.rmtree(state, ignore_errors=True)
    return figures


async def pipeline(
    figures: dict[str, Any], objects: list[KubeObject], settings: Settings, state: Path, haproxy: str
) -> None:
    store, metrics = Store(), Metrics()
    status = ControllerStatus(mode="files")
    process = HAProxyProcess(binary=haproxy, state_dir=state)
    applier = Applier(process=process, state_dir=state, status=status, metrics=metrics)
    syncer = Syncer(store=store, settings=settings, applier=applier, status=status, metrics=metrics)
    try:
        store.replace_all(objects, [])
        started = perf_counter()
        await syncer.sync_once()
        timed(figures, "first sync + start ms", started)
        started = perf_counter()
        assert (await process.reload()).ok
        timed(figures, "reload ms", started)
        store.upsert(parsed(endpoint_slice(7, ENDPOINTS, generation=3)))
        started = perf_counter()
        await syncer.sync_once()
        timed(figures, "endpoint change ms", started)
        assert syncer.last_outcome is not None
        figures["endpoint change applied by"] = syncer.last_outcome.action
        store.upsert(parsed(ingress(len(objects), service="svc7")))
        started = perf_counter()
        await syncer.sync_once()
        timed(figures, "new Ingress ms", started)
        figures["new Ingress applied by"] = syncer.last_outcome.action
    finally:
        await process.stop()


def main() -> None:
    rows = []
    for size in SIZES:
        child = subprocess.run(
            [sys.executable, "-m", "bench.control_plane", str(size)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        rows.append(json.loads(child.stdout.strip().splitlines()[-1]))
    report("control_plane", "Control plane at scale (one process per size)", rows)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(json.dumps(asyncio.run(measure(int(sys.argv[1])))))
    else:
        main()
