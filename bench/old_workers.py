"""Old workers after reloads: how many HAProxy processes, and how much memory, while
WebSocket connections stay open across 20 reloads, for two `hard-stop-after` values.

Real HAProxy driven by the controller's pipeline (a ConfigMap change makes each reload),
a WebSocket backend on 127.0.0.64 (answers the upgrade, then echoes) and clients that
open 5 WebSocket connections through HAProxy after every reload, keeping all of them open
(100 at the end). A reload leaves the worker before it serving its connections until they
close or `hard-stop-after` passes. Workers are counted by HAProxy's master (`show proc`);
memory is the RSS of the master and every worker, from /proc.
Run: `python -m bench old_workers`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.churn import rss_mib
from bench.reporting import report
from bench.runtime_latency import manifest
from ingress_ctl.haproxy.applying import Applier
from ingress_ctl.haproxy.process import HAProxyProcess
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.objects import KubeObject
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.state import ControllerStatus
from ingress_ctl.store import Store
from ingress_ctl.syncing import Syncer
from tests.conftest import free_port

BACKEND = "127.0.0.64"
RELOADS = 20
PER_RELOAD = 5
INTERVAL_S = 1.5
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC11B85"


async def websocket_backend(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers a WebSocket upgrade (RFC 6455 handshake), then echoes until the peer closes."""
    head = await reader.readuntil(b"\r\n\r\n")
    key = next(
        line.split(b":", 1)[1].strip()
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key:")
    )
    accept = base64.b64encode(hashlib.sha1(key + GUID.encode()).digest())
    writer.write(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )
    try:
        await writer.drain()
        while data := await reader.read(4096):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass  # an old worker stopped by hard-stop-after closed it
    writer.close()


def open_websocket(port: int) -> socket.socket:
    """A WebSocket connection through HAProxy (upgraded: 101), left open."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(b"ingress-ctl-bench").decode()
    connection.sendall(
        f"GET / HTTP/1.1\r\nHost: ws.example.com\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    reply = connection.recv(4096)
    assert reply.startswith(b"HTTP/1.1 101"), reply[:100]
    return connection


def cluster(port: int, generation: int, hard_stop_after: str) -> list[KubeObject]:
    backend = {"service": {"name": "ws", "port": {"number": 80}}}
    rule = {
        "host": "ws.example.com",
        "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]},
    }
    data = {"hard-stop-after": hard_stop_after, "timeout-queue": f"{5 + generation}s"}
    return [
        manifest("IngressClass", "haproxy", spec={"controller": "ingress-ctl.io/haproxy"}),
        manifest("ConfigMap", "config", data=data),
        manifest("Service", "ws", spec={"ports": [{"port": 80, "targetPort": port}]}),
        manifest(
            "EndpointSlice", "ws-slice", addressType="IPv4", ports=[{"port": port}],
            endpoints=[{"addresses": [BACKEND]}],
        ),
        manifest("Ingress", "ws", spec={"ingressClassName": "haproxy", "rules": [rule]}),
    ]  # fmt: skip


async def measure(hard_stop_after: str) -> dict[str, Any]:
    port, http_port = free_port(), free_port()
    server = await asyncio.start_server(websocket_backend, BACKEND, port)
    state = Path(tempfile.mkdtemp(prefix="icow"))
    store, metrics, status = Store(), Metrics(), ControllerStatus(mode="files")
    process = HAProxyProcess(binary=shutil.which("haproxy") or "/usr/sbin/haproxy", state_dir=state)
    settings = Settings(bind_address="127.0.0.1", http_port=http_port, configmap="bench/config")
    applier = Applier(process=process, state_dir=state, status=status, metrics=metrics)
    syncer = Syncer(store=store, settings=settings, applier=applier, status=status, metrics=metrics)
    held: list[socket.socket] = []
    workers, memory = [], []
    started = time.monotonic()
    try:
        store.replace_all(cluster(port, 0, hard_stop_after), [])
        await syncer.sync_once()
        for generation in range(1, RELOADS + 1):
            for _ in range(PER_RELOAD):
                held.append(await asyncio.to_thread(open_websocket, http_port))
            store.replace_all(cluster(port, generation, hard_stop_after), [])
            await syncer.sync_once()
            assert syncer.last_outcome is not None and syncer.last_outcome.action == "reload"
            await asyncio.sleep(INTERVAL_S)
            found = await process.status()
            workers.append(len(found.workers) + len(found.old_workers))
            memory.append(rss_mib([found.master_pid, *found.workers, *found.old_workers]))
        alive = await asyncio.to_thread(lambda: sum(map(_open, held)))
    finally:
        for connection in held:
            connection.close()
        await process.stop()
        server.close()
        shutil.rmtree(state, ignore_errors=True)
    return {
        "hard-stop-after": hard_stop_after,
        "reloads": RELOADS,
        "seconds": round(time.monotonic() - started, 1),
        "websockets_opened": len(held),
        "websockets_open_at_end": alive,
        "workers_max": max(workers),
        "workers_at_end": workers[-1],
        "rss_mib_after_first_reload": memory[0],
        "rss_mib_max": max(memory),
        "rss_mib_at_end": memory[-1],
    }


def _open(connection: socket.socket) -> bool:
    """Whether a held connection still echoes (the worker holding it still runs); called
    outside the event loop, which runs the backend."""
    try:
        connection.sendall(b"\x81\x00")  # any bytes: the backend echoes them
        return connection.recv(16) != b""
    except OSError:
        return False


def main() -> None:
    rows = [asyncio.run(measure(value)) for value in ("60s", "10s")]
    report("old_workers", "Workers and HAProxy RSS over 20 reloads with WebSockets held open", rows)


if __name__ == "__main__":
    main()
