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
HAProxy is the host's, or, when $BENCH_HAPROXY_IMAGE names an image, that image's (trixie's
3.0 in the one built from the Dockerfile), run by podman through a wrapper script (see
data_plane.haproxy_command); results then go to `churn_image.json`.
Run: `python -m bench.churn` (1,000 and 10,000 Ingresses; `--ingresses 1000` for one,
`--changes N` to change the number of changes).
"""

from __future__ import annotations

import asyncio
import http.client
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from time import perf_counter
from typing import Any

from bench.data_plane import IMAGE_VARIABLE, haproxy_command, haproxy_version
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
CHANGES = {1_000: 1_000, 10_000: 600}
"""Object changes measured per cluster size (at 10,000 Ingresses: about 110 new hosts)."""


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


class ContainedHAProxy(HAProxyProcess):
    """The image's HAProxy: its master runs in a container, so our child is podman's client,
    not the master; a worker answering on the state directory's master socket is enough."""

    async def _has_answering_worker(self, master_pid: int) -> bool:
        status = await self._status_or_none()
        return status is not None and await super()._has_answering_worker(status.master_pid)


class Churn:
    """The pipeline under churn: applies one change at a time and counts what each did."""

    def __init__(self, *, state: Path, http_port: int, binary: str, contained: bool) -> None:
        self.store, metrics, status = Store(), Metrics(), ControllerStatus(mode="files")
        kind = ContainedHAProxy if contained else HAProxyProcess
        self.process = kind(binary=binary, state_dir=state)
        settings = Settings(bind_address="127.0.0.1", http_port=http_port)
        applier = Applier(process=self.process, state_dir=state, status=status, metrics=metrics)
        self.syncer = Syncer(
            store=self.store, settings=settings, applier=applier, status=status, metrics=metrics
        )
        self.actions: Counter[str] = Counter()
        self.done = 0
        self.peak_rss = 0.0

    async def change(self, *, upsert: KubeObject | None = None, delete: str = "") -> None:
        """One object created, changed (`upsert`) or deleted (`delete`: `Kind/name`), synced."""
        if upsert is not None:
            self.store.upsert(upsert)
        else:
            kind, name = delete.split("/")
            self.store.delete((kind, "bench", name))
        await self.syncer.sync_once()
        outcome = self.syncer.last_outcome
        assert outcome is not None
        self.actions[outcome.detail if outcome.action == "reload" else outcome.action] += 1
        self.done += 1
        self.peak_rss = max(self.peak_rss, await self.rss())

    async def rss(self) -> float:
        found = await self.process.status()
        return rss_mib([found.master_pid, *found.workers, *found.old_workers])

    async def reloads(self) -> int:
        return (await self.process.status()).reloads


async def churn(
    run: Churn, *, ingresses: int, changes: int, port: int, http_port: int
) -> list[float]:
    """Creations, deletions and endpoint changes until `changes` were made; the seconds from
    each new Ingress's arrival to its host's first 200."""
    served: list[float] = []
    churned: list[str] = []
    while run.done < changes:
        name = f"new{len(served)}"
        service, endpoints, ingress = objects(name, port, len(served))
        await run.change(upsert=service)
        await run.change(upsert=endpoints)
        arrived = perf_counter()
        await run.change(upsert=ingress)
        await asyncio.to_thread(first_200, http_port, f"{name}.example.com")
        served.append(perf_counter() - arrived)
        churned.append(name)
        if len(churned) > 10:
            gone = churned.pop(0)
            await run.change(delete=f"Ingress/{gone}")
            await run.change(delete=f"Service/{gone}")
        other = objects(f"svc{len(served) % ingresses}", port, len(served))[1]
        await run.change(upsert=other)
    return served


def haproxy_binary(root: Path) -> tuple[str, list[str] | None]:
    """The HAProxy the controller runs: the host's, or a script running the image's (see
    data_plane.haproxy_command), and what removes its container."""
    command, stop = haproxy_command(root, None)
    if stop is None:
        return command[0], None
    script = root / "haproxy"
    script.write_text(f'#!/bin/sh\nexec {shlex.join(command)} "$@"\n')
    script.chmod(0o755)
    return str(script), stop


async def measure(ingresses: int, changes: int) -> dict[str, Any]:
    port, http_port = free_port(), free_port()
    echo = EchoBackends()
    for index, ip in enumerate(IPS):
        echo.start(name=f"echo{index}", host=ip, port=port)
    root = Path(tempfile.mkdtemp(prefix="icch"))
    state = root / "state"
    state.mkdir(mode=0o700)
    binary, stop = haproxy_binary(root)
    run = Churn(state=state, http_port=http_port, binary=binary, contained=stop is not None)
    ingress_class = manifest(
        "IngressClass", "haproxy", spec={"controller": "ingress-ctl.io/haproxy"}
    )
    cluster = [o for i in range(ingresses) for o in objects(f"svc{i}", port)]
    load = LoadGenerator(
        port=http_port, host="svc0.example.com", path="/", clients=8, requests=10**9
    )
    try:
        run.store.replace_all([ingress_class, *cluster], [])
        await run.syncer.sync_once()
        before, rss_start = await run.reloads(), await run.rss()
        load.start()
        try:
            served = await churn(
                run, ingresses=ingresses, changes=changes, port=port, http_port=http_port
            )
        finally:
            result = load.stop()
        reloads = await run.reloads() - before
    finally:
        await run.process.stop()
        if stop is not None:
            subprocess.run(stop, capture_output=True, check=False)
        echo.stop()
        shutil.rmtree(root, ignore_errors=True)
    return {
        "ingresses": ingresses,
        "changes": run.done,
        "reloads": reloads,
        "reloads_per_1000": round(reloads * 1000 / run.done, 1),
        "reload_reasons": dict(
            sorted((k, v) for k, v in run.actions.items() if k not in ("runtime", "none"))
        ),
        "new_hosts": len(served),
        **{f"first_200_{k}": v for k, v in summary_ms(served).items()},
        "requests": result.total,
        "failed": result.failed,
        "haproxy_rss_mib_start": rss_start,
        "haproxy_rss_mib_peak": run.peak_rss,
    }


def main() -> None:
    sizes = dict(CHANGES)
    if "--ingresses" in sys.argv:
        size = int(sys.argv[sys.argv.index("--ingresses") + 1])
        sizes = {size: CHANGES.get(size, 1_000)}
    if "--changes" in sys.argv:
        sizes = dict.fromkeys(sizes, int(sys.argv[sys.argv.index("--changes") + 1]))
    image = os.environ.get(IMAGE_VARIABLE)
    version = haproxy_version(haproxy_command(Path(tempfile.gettempdir()), None)[0])
    rows = [asyncio.run(measure(size, changes)) for size, changes in sizes.items()]
    report(
        "churn_image" if image else "churn",
        "Service and Ingress churn under load: reloads, apply → first 200, failures"
        + (f" (HAProxy of {image})" if image else ""),
        rows,
        haproxy=version if image else None,
    )


if __name__ == "__main__":
    main()
