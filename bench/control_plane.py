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
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from time import perf_counter
from typing import Any

from bench.clusters import cluster, endpoint_slice, ingress, ingress_class, service
from bench.reporting import report
from ingress_ctl.building import build
from ingress_ctl.haproxy.applying import Applier, write_files
from ingress_ctl.haproxy.process import HAProxyProcess
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.objects import KubeObject, parse_object
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import Snapshot
from ingress_ctl.model.state import ControllerStatus
from ingress_ctl.store import Store
from ingress_ctl.syncing import Syncer

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
    started = perf_counter()
    objects = [parsed(ingress_class())]
    for index in range(size):  # parsed as they come, as an informer does: no raw copies kept
        for raw in (ingress(index), service(index), endpoint_slice(index, ENDPOINTS)):
            objects.append(parsed(raw))
    timed(figures, "generate + parse ms", started)
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
    check = subprocess.run(
        [haproxy, "-c", "-q", "-C", str(state), "-f", "haproxy.cfg"], check=False
    )
    timed(figures, "haproxy -c ms", started)
    assert check.returncode == 0
    await pipeline(figures, objects, settings, state, haproxy)
    figures["bench process peak RSS MB"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    shutil.rmtree(state, ignore_errors=True)
    return figures


async def pipeline(
    figures: dict[str, Any],
    objects: list[KubeObject],
    settings: Settings,
    state: Path,
    haproxy: str,
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


def controller_memory(size: int) -> dict[str, Any]:
    """Peak and current RSS of a real `ingress-ctl run` serving the cluster in file mode."""
    with tempfile.TemporaryDirectory(prefix="icmem") as work:
        manifests = Path(work) / "manifests"
        manifests.mkdir()
        items = cluster(size, endpoints=ENDPOINTS)
        (manifests / "cluster.json").write_text(json.dumps({"kind": "List", "items": items}))
        del items
        return process_memory(["--manifests", str(manifests)])


def process_memory(source: list[str]) -> dict[str, Any]:
    """Start `ingress-ctl run` with these source flags; once ready: its peak and current RSS."""
    with tempfile.TemporaryDirectory(prefix="icmem") as work:
        status_port = free_port()
        command = [
            sys.executable, "-m", "ingress_ctl", "run", *source,
            "--bind-address", "127.0.0.1", "--http-port", str(free_port()),
            "--https-port", str(free_port()), "--status-port", str(status_port),
            "--state-dir", str(Path(work) / "s"), "--log-level", "warning",
        ]  # fmt: skip
        process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        try:
            started = perf_counter()
            while not _ready(status_port):
                assert process.poll() is None and perf_counter() - started < 300
                time.sleep(0.2)
            ready_s = perf_counter() - started
            fields = dict(
                line.split(":", 1)
                for line in Path(f"/proc/{process.pid}/status").read_text().splitlines()
            )
        finally:
            process.terminate()
            process.wait(timeout=30)
    return {
        "controller ready s": round(ready_s, 1),
        "controller peak RSS MB": int(fields["VmHWM"].split()[0]) // 1024,
        "controller RSS MB": int(fields["VmRSS"].split()[0]) // 1024,
    }


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    rows = []
    for size in SIZES:
        child = subprocess.run(
            [sys.executable, "-m", "bench.control_plane", str(size)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        row = json.loads(child.stdout.strip().splitlines()[-1])
        rows.append(row | controller_memory(size))
    report("control_plane", "Control plane at scale (one process per size)", rows)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(json.dumps(asyncio.run(measure(int(sys.argv[1])))))
    else:
        main()
