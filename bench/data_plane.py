"""Data plane: wrk through HAProxy with our rendered configuration, against a hand-written
minimal HAProxy configuration with the same backend, and against the backend directly.

The backend is Debian's nginx answering a small fixed body, so that it is not the
bottleneck. Two clusters: one host, and 1,000 hosts with 3 paths each (every
Service's endpoint is the same nginx). Keep-alive and `Connection: close`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.clusters import cluster
from bench.reporting import report
from ingress_ctl.applying import write_files
from ingress_ctl.objects import parse_object
from ingress_ctl.rendering import render
from ingress_ctl.settings import Settings
from ingress_ctl.snapshot import Snapshot
from ingress_ctl.translation import translate

BACKEND_IP, BACKEND_PORT = "127.0.0.60", 18060
OURS_PORT, MINIMAL_PORT = 18061, 18062
DURATION_S, CONNECTIONS, RUNS = 4, 32, 5

NGINX_CONF = """
daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    server {{
        listen {ip}:{port} reuseport;
        location / {{ return 200 "ok\\n"; }}
    }}
}}
"""

MINIMAL_CONF = """
defaults
    mode http
    timeout connect 5s
    timeout client 50s
    timeout server 50s
frontend minimal
    bind 127.0.0.1:{port}
    default_backend app
backend app
    server s1 {ip}:{backend_port}
"""


@contextmanager
def running(command: list[str], *, wait_port: int, host: str = "127.0.0.1") -> Iterator[None]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while (
            subprocess.run(
                ["curl", "-s", "-o", "/dev/null", f"http://{host}:{wait_port}/"], check=False
            ).returncode
            != 0
        ):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not answer on {wait_port}")
            time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def ours(root: Path, hosts: int) -> Path:
    """Our rendered configuration for `hosts` Ingresses, every endpoint the nginx."""
    manifests = cluster(hosts, endpoints=1)
    for raw in manifests:
        if raw["kind"] == "EndpointSlice":
            raw["endpoints"] = [{"addresses": [BACKEND_IP]}]
            raw["ports"] = [{"port": BACKEND_PORT}]
    objects = [obj for obj in map(parse_object, manifests) if obj is not None]
    settings = Settings(bind_address="127.0.0.1", http_port=OURS_PORT)
    routing = translate(Snapshot.of(objects), settings=settings).routing
    directory = root / f"ours{hosts}"
    write_files(directory, render(routing, settings=settings))
    return directory


def wrk(
    port: int, *, host: str, path: str, close: bool, address: str = "127.0.0.1"
) -> dict[str, Any]:
    """One wrk run: requests per second, p99 latency, non-2xx answers."""
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION_S}s", "--latency"]
    command += ["-H", f"Host: {host}"]
    if close:
        command += ["-H", "Connection: close"]
    output = subprocess.run(
        [*command, f"http://{address}:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", output)[1])  # type: ignore[index]
    p99 = re.search(r"99%\s+([0-9.]+)(us|ms|s)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "req/s": round(rate),
        "p99": f"{p99[1]}{p99[2]}" if p99 else "?",
        "non-2xx": int(errors[1]) if errors else 0,
    }


def paired(
    *, hosts: int, close: bool, minimal_port: int, ours_port: int
) -> tuple[dict[str, Any], dict[str, Any], float]:
    """RUNS alternating runs against the hand-written and our HAProxy (both running): the
    median run of each, and the median of the per-pair ratios, so that both sides see
    the same background load (a single run on 2 shared cores varies by ±10 %)."""
    host = f"host{hosts // 2}.example.com"
    pairs = [
        (
            wrk(minimal_port, host=host, path="/api/x", close=close),
            wrk(ours_port, host=host, path="/api/x", close=close),
        )
        for _ in range(RUNS)
    ]
    ratios = sorted(int(o["req/s"]) / int(m["req/s"]) for m, o in pairs)
    middle = len(pairs) // 2
    minimal = sorted((m for m, _ in pairs), key=lambda run: int(run["req/s"]))[middle]
    found = sorted((o for _, o in pairs), key=lambda run: int(run["req/s"]))[middle]
    return minimal, found, round(ratios[middle], 3)


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="icdp"))
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    (root / "nginx.conf").write_text(NGINX_CONF.format(root=root, ip=BACKEND_IP, port=BACKEND_PORT))
    (root / "minimal.cfg").write_text(
        MINIMAL_CONF.format(port=MINIMAL_PORT, ip=BACKEND_IP, backend_port=BACKEND_PORT)
    )
    rows = []
    nginx = ["nginx", "-p", str(root), "-c", str(root / "nginx.conf")]
    minimal_command = [haproxy, "-db", "-f", str(root / "minimal.cfg")]
    with (
        running(nginx, wait_port=BACKEND_PORT, host=BACKEND_IP),
        running(minimal_command, wait_port=MINIMAL_PORT),
    ):
        for close in (False, True):
            mode = "close" if close else "keep-alive"
            direct = wrk(BACKEND_PORT, host="x", path="/", close=close, address=BACKEND_IP)
            rows.append({"target": "nginx directly", "mode": mode, **direct, "ours/minimal": ""})
            for hosts in (1, 1000):
                directory = ours(root, hosts)
                command = [haproxy, "-db", "-C", str(directory), "-f", "haproxy.cfg"]
                with running(command, wait_port=OURS_PORT):
                    minimal, found, ratio = paired(
                        hosts=hosts, close=close, minimal_port=MINIMAL_PORT, ours_port=OURS_PORT
                    )
                target = f"{hosts} hosts x 3 paths"
                rows.append(
                    {
                        "target": f"hand-written HAProxy ({target})",
                        "mode": mode,
                        **minimal,
                        "ours/minimal": "",
                    }
                )
                rows.append(
                    {
                        "target": f"ingress-ctl ({target})",
                        "mode": mode,
                        **found,
                        "ours/minimal": ratio,
                    }
                )
    shutil.rmtree(root, ignore_errors=True)
    report("data_plane", "Data plane: wrk through HAProxy (req/s, higher is better)", rows)


if __name__ == "__main__":
    main()
