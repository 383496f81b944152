"""Data plane: wrk through HAProxy with our rendered configuration, against a hand-written
minimal HAProxy configuration with the same backends, and against the backend directly.

The backend is Debian's nginx answering a small fixed body, so that it is not the
bottleneck. Two clusters: one host, and 1,000 hosts with 3 paths each (every
Service's endpoint is the same nginx). Keep-alive and `Connection: close`.

Our configuration is rendered as the controller runs it: HTTPS on (the self-signed
fallback certificate), so the TLS redirect/HSTS rules are there; wrk sends plain HTTP.
The hand-written comparator has one backend per host and routes by host the way a
person would write it (`use_backend` through a host -> backend map; for one host, a
`default_backend`). A second reference, one backend and no routing at all, is shown
too (our ratio against it included), so that nothing is hidden.

HAProxy is the host's (`haproxy` on PATH), or, when $BENCH_HAPROXY_IMAGE names an image,
that image's HAProxy run by podman on the host network with the bench folder mounted at
the same path: `make bench` runs it once more on the image built from the Dockerfile
(trixie's HAProxy 3.0), results in `data_plane_image.json`.
"""

from __future__ import annotations

import os
import re
import shlex
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
from ingress_ctl.haproxy.applying import write_files
from ingress_ctl.haproxy.rendering import render
from ingress_ctl.model.objects import parse_object
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import Snapshot
from ingress_ctl.translation import translate
from ingress_ctl.translation.certificates import self_signed

BACKEND_IP, BACKEND_PORT = "127.0.0.60", 18060
OURS_PORT, MINIMAL_PORT, OURS_HTTPS_PORT, HAND_PORT = 18061, 18062, 18063, 18064
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
"""The reference without routing: one backend, whatever the host."""

HAND_HEAD = """
defaults
    mode http
    timeout connect 5s
    timeout client 50s
    timeout server 50s
frontend hand
    bind 127.0.0.1:{port}
"""
HAND_BACKEND = "backend {name}\n    server s1 {ip}:{backend_port}\n"


def hand_written(root: Path, hosts: int, *, port: int = HAND_PORT) -> str:
    """A hand-written minimal configuration with the same backends as ours: one per host,
    chosen by a host -> backend map (written next to it); one backend, no map, for 1 host."""
    names = [f"app{index}" for index in range(hosts)]
    head = HAND_HEAD.format(port=port)
    if hosts == 1:
        head += f"    default_backend {names[0]}\n"
    else:
        table = root / f"hand{hosts}.map"
        table.write_text("".join(f"host{i}.example.com {name}\n" for i, name in enumerate(names)))
        head += f"    use_backend %[req.hdr(host),field(1,:),lower,map_str({table})]\n"
        head += "    default_backend no_host\nbackend no_host\n"
        head += '    http-request return status 404 content-type text/plain string "no host"\n'
    backends = (
        HAND_BACKEND.format(name=name, ip=BACKEND_IP, backend_port=BACKEND_PORT) for name in names
    )
    return head + "".join(backends)


IMAGE_VARIABLE = "BENCH_HAPROXY_IMAGE"


def haproxy_command(root: Path, name: str | None) -> tuple[list[str], list[str] | None]:
    """How HAProxy runs, and what stops it: the host's binary (stopped by SIGTERM), or the
    image's named by $BENCH_HAPROXY_IMAGE, on the host's network and pids (its master's
    `show proc` names host pids). Podman does not pass the client's SIGTERM on: the
    container is removed by `name`, or, with no name (each run a container of its own, as
    the controller's `haproxy -c` beside its master), every container labelled with `root`."""
    image = os.environ.get(IMAGE_VARIABLE)
    if not image:
        return [shutil.which("haproxy") or "/usr/sbin/haproxy"], None
    label = f"ingress-ctl-bench={root}"
    podman = ["podman", "run", "--rm", "--network", "host", "--pid", "host", "--user", "0"]
    podman += ["--name", name] if name else ["--label", label]
    run = [*podman, "-v", f"{root}:{root}", "--entrypoint", "haproxy", image]
    if name:
        return run, ["podman", "rm", "--force", "--time", "2", name]
    every = f"podman ps -aq --filter label={shlex.quote(label)}"
    return run, ["sh", "-c", f"{every} | xargs -r podman rm --force --time 2"]


def haproxy_version(command: list[str]) -> str:
    """`haproxy -v`'s version word."""
    first = subprocess.run([*command, "-v"], capture_output=True, text=True, check=True)
    return first.stdout.split("\n")[0].removeprefix("HAProxy version ").split(" ")[0]


@contextmanager
def running(
    command: list[str],
    *,
    wait_port: int,
    host: str = "127.0.0.1",
    wait_s: float = 10,
    stop: list[str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + wait_s
        while (
            subprocess.run(
                ["curl", "-s", "-o", "/dev/null", f"http://{host}:{wait_port}/"], check=False
            ).returncode
            != 0
        ):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not answer on {wait_port}")
            time.sleep(0.05)
        yield process
    finally:
        if stop is not None:
            subprocess.run(stop, capture_output=True, check=False)
        process.terminate()
        process.wait(timeout=30)


def ours(root: Path, hosts: int) -> Path:
    """Our rendered configuration for `hosts` Ingresses, every endpoint the nginx, HTTPS on
    with a self-signed default certificate (as the controller always has: its fallback)."""
    manifests = cluster(hosts, endpoints=1)
    for raw in manifests:
        if raw["kind"] == "EndpointSlice":
            raw["endpoints"] = [{"addresses": [BACKEND_IP]}]
            raw["ports"] = [{"port": BACKEND_PORT}]
    objects = [obj for obj in map(parse_object, manifests) if obj is not None]
    settings = Settings(bind_address="127.0.0.1", http_port=OURS_PORT, https_port=OURS_HTTPS_PORT)
    snapshot = Snapshot.of(objects)
    routing = translate(snapshot, settings=settings, fallback_certificate=self_signed()).routing
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


def paired(*, hosts: int, close: bool) -> dict[str, Any]:
    """RUNS rounds of back-to-back runs against the hand-written, our and the no-routing
    HAProxy (all running): the median run of each, and the medians of the per-round ratios,
    so that both sides of a ratio see the same background load (a single run on 2 shared
    cores varies by ±10 %)."""
    host = f"host{hosts // 2}.example.com"
    ports = {"hand": HAND_PORT, "ours": OURS_PORT, "minimal": MINIMAL_PORT}
    rounds = [
        {name: wrk(port, host=host, path="/api/x", close=close) for name, port in ports.items()}
        for _ in range(RUNS)
    ]
    middle = len(rounds) // 2
    found: dict[str, Any] = {
        name: sorted((one[name] for one in rounds), key=lambda run: int(run["req/s"]))[middle]
        for name in ports
    }
    for other in ("hand", "minimal"):
        ratios = sorted(int(one["ours"]["req/s"]) / int(one[other]["req/s"]) for one in rounds)
        found[f"ours/{other}"] = round(ratios[middle], 3)
    return found


def row(
    target: str, mode: str, run: dict[str, Any], hand: object = "", minimal: object = ""
) -> dict[str, Any]:
    return {
        "target": target,
        "mode": mode,
        **run,
        "ours/hand-written": hand,
        "ours/no-routing": minimal,
    }


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="icdp"))
    haproxy, stop = haproxy_command(root, "icdp-minimal")
    (root / "nginx.conf").write_text(NGINX_CONF.format(root=root, ip=BACKEND_IP, port=BACKEND_PORT))
    (root / "minimal.cfg").write_text(
        MINIMAL_CONF.format(port=MINIMAL_PORT, ip=BACKEND_IP, backend_port=BACKEND_PORT)
    )
    rows = []
    nginx = ["nginx", "-p", str(root), "-c", str(root / "nginx.conf")]
    minimal_command = [*haproxy, "-db", "-f", str(root / "minimal.cfg")]
    with (
        running(nginx, wait_port=BACKEND_PORT, host=BACKEND_IP),
        running(minimal_command, wait_port=MINIMAL_PORT, stop=stop),
    ):
        for close in (False, True):
            mode = "close" if close else "keep-alive"
            direct = wrk(BACKEND_PORT, host="x", path="/", close=close, address=BACKEND_IP)
            rows.append(row("nginx directly", mode, direct))
            for hosts in (1, 1000):
                directory = ours(root, hosts)
                (root / f"hand{hosts}.cfg").write_text(hand_written(root, hosts))
                ours_haproxy, ours_stop = haproxy_command(root, f"icdp-ours-{hosts}")
                hand_haproxy, hand_stop = haproxy_command(root, f"icdp-hand-{hosts}")
                command = [*ours_haproxy, "-db", "-C", str(directory), "-f", "haproxy.cfg"]
                hand_command = [*hand_haproxy, "-db", "-f", str(root / f"hand{hosts}.cfg")]
                with (
                    running(command, wait_port=OURS_PORT, stop=ours_stop),
                    running(hand_command, wait_port=HAND_PORT, stop=hand_stop),
                ):
                    found = paired(hosts=hosts, close=close)
                target = f"{hosts} hosts x 3 paths"
                rows.append(row("HAProxy, one backend, no routing", mode, found["minimal"]))
                rows.append(
                    row(f"hand-written HAProxy, {hosts} backends ({target})", mode, found["hand"])
                )
                rows.append(
                    row(
                        f"ingress-ctl ({target})",
                        mode,
                        found["ours"],
                        found["ours/hand"],
                        found["ours/minimal"],
                    )
                )
    version = haproxy_version(haproxy_command(root, "icdp-version")[0])
    shutil.rmtree(root, ignore_errors=True)
    image = os.environ.get(IMAGE_VARIABLE)
    name, where = ("data_plane_image", f" in the image ({image})") if image else ("data_plane", "")
    title = f"Data plane: wrk through HAProxy {version}{where} (req/s, higher is better)"
    report(name, title, rows, haproxy=version)


if __name__ == "__main__":
    main()
