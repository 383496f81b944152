"""Churn of Services and Ingresses under load: reloads per 1,000 object changes, the time
from a new Ingress to the first 200 on its host, failed requests and HAProxy's memory.

Real HAProxy, real echo backends on 127.0.0.x and the controller's own store → syncing →
applying pipeline (the objects arrive in the store one at a time, as a watch delivers
them, and each is synced on its own). The churn repeats: a new Service, its EndpointSlice
and its Ingress (a new host), created one at a time; the oldest churned Service and
Ingress deleted; an endpoint change of an existing Service. The clock of a new host starts
when its Ingress enters the store and stops at its first 200. A bounded load loop (8
clients, keep-alive and `Connection: close`) requests an existing host throughout: every
failed request counts. Reloads are counted by HAProxy's master (`show proc`); memory is
the RSS of HAProxy's master and workers (old ones included), read from /proc.
Run: `python -m bench churn` (1,000 and 10,000 Ingresses; `--ingresses 1000` for one).
"""

from __future__ import annotations

import asyncio
import http.client
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from time import perf_counter
from typing import Any

from bench.reporting import report, summary_ms
from bench.runtime_latency import manifest
from ingress_ctl.haproxy.applying import Applier
from ingress_ctl.haproxy.process import HAProxyProcess
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.objects import KubeObject
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.state import ControllerStatus
from ingress_ctl.store import Store
from ingress_ctl.syncing import Syncer
from tests.conftest import EchoBackends, free_port
from tests.loadgen import LoadGenerator

IPS = ("127.0.0.61", "127.0.0.62")
CHANGES = {1_000: 1_000, 10_000: 200}
"""Object changes measured per cluster size (a full pass at 10,000 Ingresses takes seconds)."""


def objects(name: str, port: int, generation: int = 0) -> list[KubeObject]:
    """Service `name`, its EndpointSlice (one or both echo backends) and its Ingress."""
    backend = {"service": {"name": name, "port": {"number": 80}}}
    rule = {
        "host": f"{name}.example.com",
        "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]},
    }
    ready = IPS[: 1 + generation % 2]
    return [
        manifest("Service", name, spec={"ports": [{"port": 80, "targetPort": port}]}),
        manifest(
            "EndpointSlice", f"{name}-slice", addressType="IPv4", ports=[{"port": port}],
            endpoints=[{"addresses": [ip]} for ip in ready],
        ),
        manifest("Ingress", name, spec={"ingressClassName": "haproxy", "rules": [rule]}),
    ]  # fmt: skip


def first_200(port: int, host: str, timeout: float = 30.0) -> None:
    """Return once `host` answers 200 (polled without pause)."""
    started = perf_counter()
    while perf_counter() - started < timeout:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/", headers={"Host": host})
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
    raise TimeoutError(f"{host} not served within {timeout} s")


def rss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


async def measure(ingresses: int, changes: int) -> dict[str, Any]:
    port, http_port = free_port(), free_port()
    echo = EchoBackends()
    for index, ip in enumerate(IPS):
        echo.start(name=f"echo{index}", host=ip, port=port)
    state = Path(tempfile.mkdtemp(prefix="icch"))
    store, metrics, status = Store(), Metrics(), ControllerStatus(mode="files")
    process = HAProxyProcess(binary=shutil.which("haproxy") or "/usr/sbin/haproxy", state_dir=state)
    settings = Settings(bind_address="127.0.0.1", http_port=http_port)
    applier = Applier(process=process, state_dir=state, status=status, metrics=metrics)
    syncer = Syncer(store=store, settings=settings, applier=applier, status=status, metrics=metrics)
    ingress_class = manifest(
        "IngressClass", "haproxy", spec={"controller": "ingress-ctl.io/haproxy"}
    )
    names = [f"svc{i}" for i in range(ingresses)]
    load = LoadGenerator(
        port=http_port, host="svc0.example.com", path="/", clients=8, requests=10**9
    )
    actions: Counter[str] = Counter()
    served: list[float] = []
    peak = 0.0
    stopped = True
    try:
        store.replace_all([ingress_class, *(o for n in names for o in objects(n, port))], [])
        await syncer.sync_once()
        before = await process.status()
        rss_start = rss_mib([before.master_pid, *before.workers])
        load.start()
        stopped = False
        done, created = 0, 0
        churned: list[str] = []

        async def change(step: Any) -> None:
            nonlocal done, peak
            step()
            await syncer.sync_once()
            assert syncer.last_outcome is not None
            outcome = syncer.last_outcome
            actions[outcome.detail if outcome.action == "reload" else outcome.action] += 1
            done += 1
            found = await process.status()
            peak = max(peak, rss_mib([found.master_pid, *found.workers, *found.old_workers]))

        while done < changes:
            name = f"new{created}"
            created += 1
            service, endpoints, ingress = objects(name, port, created)
            await change(lambda: store.upsert(service))
            await change(lambda: store.upsert(endpoints))
            arrived = perf_counter()
            await change(lambda: store.upsert(ingress))
            await asyncio.to_thread(first_200, http_port, f"{name}.example.com")
            served.append(perf_counter() - arrived)
            churned.append(name)
            if len(churned) > 10:
                gone = churned.pop(0)
                await change(lambda: store.delete(("Ingress", "bench", gone)))
                await change(lambda: store.delete(("Service", "bench", gone)))
            [slice_] = [
                o
                for o in objects(names[created % ingresses], port, created)
                if o.kind == "EndpointSlice"
            ]
            await change(lambda: store.upsert(slice_))
        result, stopped = load.stop(), True
        after = await process.status()
    finally:
        if not stopped:
            load.stop()
        await process.stop()
        echo.stop()
        shutil.rmtree(state, ignore_errors=True)
    reloads = after.reloads - before.reloads
    return {
        "ingresses": ingresses,
        "changes": done,
        "reloads": reloads,
        "reloads_per_1000": round(reloads * 1000 / done, 1),
        "reload_reasons": dict(
            sorted((k, v) for k, v in actions.items() if k not in ("runtime", "none"))
        ),
        "new_hosts": len(served),
        **{f"first_200_{k}": v for k, v in summary_ms(served).items()},
        "requests": result.total,
        "failed": result.failed,
        "haproxy_rss_mib_start": rss_start,
        "haproxy_rss_mib_peak": peak,
    }


def main() -> None:
    sizes = dict(CHANGES)
    if "--ingresses" in sys.argv:
        size = int(sys.argv[sys.argv.index("--ingresses") + 1])
        sizes = {size: CHANGES.get(size, 1_000)}
    if "--changes" in sys.argv:
        sizes = dict.fromkeys(sizes, int(sys.argv[sys.argv.index("--changes") + 1]))
    rows = [asyncio.run(measure(size, changes)) for size, changes in sizes.items()]
    report(
        "churn", "Service and Ingress churn under load: reloads, apply → first 200, failures", rows
    )


if __name__ == "__main__":
    main()
