"""Where the data plane's time goes: HAProxy CPU time per request, by group of rules.

The throughput ratio of `data_plane` is noisy on 2 shared cores; CPU time per
request is not. HAProxy runs with one thread; wrk sends keep-alive requests for
a few seconds; the worker's user+system time (from /proc) divided by the
requests answered gives microseconds of HAProxy CPU per request. Variants of
our rendered configuration drop one group of rules each, so the differences
say what each group costs; one replaces our routing (host key, route map,
host default) by the hand-written host map. Every configuration is measured
ROUNDS times, interleaved, and the median is shown. Our configuration has
HTTPS on, as the controller runs it (see data_plane.ours).

CPU time on 2 shared cores still varies by about ±1 µs between runs. When
valgrind is installed, a second column counts the user-space instructions
HAProxy executes per request (callgrind, counters zeroed after a warm-up):
slow to take, but the same from run to run, so that it ranks the variants.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.data_plane import (
    BACKEND_IP,
    BACKEND_PORT,
    HAND_PORT,
    MINIMAL_CONF,
    MINIMAL_PORT,
    NGINX_CONF,
    OURS_PORT,
    hand_written,
    ours,
    running,
)
from bench.reporting import report

ROUNDS = 5
HOSTS = 1000
FORWARDED = r"\n    http-request ((del|add|set)-header x-forwarded|set-var\(txn\.scheme\))[^\n]*"
TLS_POLICY = (
    r"\n    (http-request (set-var\(txn\.(tls|hsts)\)|redirect)"
    r"|http-response set-header strict)[^\n]*"
)
ROUTING = (
    r"\n    http-request set-var\(txn\.(hostkey|path|backend)\)[^\n]*"
    r"|\n    use_backend %\[var\(txn\.backend\)\][^\n]*"
)
HARDENING = (
    r"\n    http-request (normalize-uri|deny deny_status 400)[^\n]*"
    r"|\n    (stick-table|tcp-request connection)[^\n]*"
)
"""Path normalisation, the Host and path checks, the per-source connection limit."""
HOST_MAP = "use_backend %[req.hdr(host),field(1,:),lower,map_str(maps/bench-hosts.map)]"


def variants(config: str) -> dict[str, str]:
    """Our configuration, and copies without one group of rules each."""
    bare = re.sub(TLS_POLICY, "", re.sub(FORWARDED, "", config))
    routed = re.sub(ROUTING, "", config).replace(
        "\n    default_backend", f"\n    {HOST_MAP}\n    default_backend", 1
    )
    return {
        "ingress-ctl (all rules)": config,
        "without forwarded-header rules": re.sub(FORWARDED, "", config),
        "without TLS redirect/HSTS rules": re.sub(TLS_POLICY, "", config),
        "without both": bare,
        "without request hardening (normalisation, checks, source limit)": re.sub(
            HARDENING, "", config
        ),
        "without both and option forwardfor": bare.replace("    option forwardfor\n", ""),
        "our routing replaced by the hand-written host map": routed,
    }


def host_map(directory: Path) -> str:
    """Host -> backend of our cluster (from the route map's root prefixes), for HOST_MAP."""
    lines = (directory / "maps" / "routes.map").read_text().splitlines()
    pairs = (line.split(" ") for line in lines)
    return "".join(
        f"{key[:-1]} {backend}\n"
        for key, backend in pairs
        if key.endswith("/") and key.count("/") == 1
    )


def one_thread(config: str) -> str:
    return config.replace("global\n", "global\n    nbthread 1\n", 1)


def cpu_per_request(command: list[str], port: int, host: str) -> float:
    """Microseconds of HAProxy CPU per answered request (keep-alive, 4 s of wrk)."""
    with running(command, wait_port=port):
        workers = _haproxy_pids(command)
        before = sum(_cpu_ticks(pid) for pid in workers)
        output = subprocess.run(
            ["wrk", "-t1", "-c32", "-d4s", "-H", f"Host: {host}", f"http://127.0.0.1:{port}/api/x"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        after = sum(_cpu_ticks(pid) for pid in workers)
    requests = int(re.search(r"(\d+) requests in", output)[1])  # type: ignore[index]
    seconds = (after - before) / os.sysconf("SC_CLK_TCK")
    return round(seconds / requests * 1e6, 2)


def _haproxy_pids(command: list[str]) -> list[int]:
    found = subprocess.run(["pgrep", "-f", " ".join(command)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def instructions_per_request(command: list[str], port: int, host: str) -> float | str:
    """User-space instructions per answered request under callgrind ("" without valgrind)."""
    valgrind, control = shutil.which("valgrind"), shutil.which("callgrind_control")
    if valgrind is None or control is None:
        return ""
    with tempfile.TemporaryDirectory(prefix="iccg") as scratch:
        out = Path(scratch) / "callgrind.out"
        wrapped = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}", *command]
        url = f"http://127.0.0.1:{port}/api/x"
        load = ["wrk", "-t1", "-c4", "-H", f"Host: {host}", url]
        with running(wrapped, wait_port=port, wait_s=300) as process:
            subprocess.run([*load, "-d1s"], capture_output=True, check=True)
            subprocess.run([control, "-z", str(process.pid)], capture_output=True, check=True)
            output = subprocess.run([*load, "-d4s"], capture_output=True, text=True, check=True)
            subprocess.run([control, "-d", str(process.pid)], capture_output=True, check=True)
            total = _dumped_instructions(Path(scratch))
    requests = int(re.search(r"(\d+) requests in", output.stdout)[1])  # type: ignore[index]
    return round(total / requests)


def _dumped_instructions(scratch: Path) -> int:
    """The `totals:` of the dump that `callgrind_control -d` asked for (written shortly)."""
    for _ in range(100):
        for dump in scratch.glob("callgrind.out.*"):
            found = re.search(r"^totals:\s+(\d+)", dump.read_text(), re.MULTILINE)
            if found:
                return int(found[1])
        time.sleep(0.1)
    raise RuntimeError("callgrind wrote no dump")


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="icdc"))
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    (root / "nginx.conf").write_text(NGINX_CONF.format(root=root, ip=BACKEND_IP, port=BACKEND_PORT))
    minimal = MINIMAL_CONF.format(port=MINIMAL_PORT, ip=BACKEND_IP, backend_port=BACKEND_PORT)
    (root / "minimal.cfg").write_text("global\n    nbthread 1\n" + minimal)
    (root / "hand.cfg").write_text("global\n    nbthread 1\n" + hand_written(root, HOSTS))
    host = f"host{HOSTS // 2}.example.com"
    runs: dict[str, tuple[list[str], int]] = {
        "hand-written, one backend, no routing": (
            [haproxy, "-db", "-f", str(root / "minimal.cfg")],
            MINIMAL_PORT,
        ),
        "hand-written, host map, 1,000 backends": (
            [haproxy, "-db", "-f", str(root / "hand.cfg")],
            HAND_PORT,
        ),
    }
    directory = ours(root, HOSTS)
    (directory / "maps" / "bench-hosts.map").write_text(host_map(directory))
    config = (directory / "haproxy.cfg").read_text()
    for index, (name, text) in enumerate(variants(one_thread(config)).items()):
        (directory / f"variant{index}.cfg").write_text(text)
        runs[name] = (
            [haproxy, "-db", "-C", str(directory), "-f", f"variant{index}.cfg"],
            OURS_PORT,
        )
    costs: dict[str, list[float]] = {name: [] for name in runs}
    nginx = ["nginx", "-p", str(root), "-c", str(root / "nginx.conf")]
    with running(nginx, wait_port=BACKEND_PORT, host=BACKEND_IP):
        for _ in range(ROUNDS):
            for name, (command, port) in runs.items():
                costs[name].append(cpu_per_request(command, port, host))
        counts = {name: instructions_per_request(*run, host) for name, run in runs.items()}
    shutil.rmtree(root, ignore_errors=True)
    rows: list[dict[str, Any]] = [
        {
            "configuration": name,
            "HAProxy CPU µs/request": round(statistics.median(found), 2),
            "instructions/request": counts[name],
        }
        for name, found in costs.items()
    ]
    title = f"Data plane: HAProxy CPU per request (1,000 hosts, 1 thread, median of {ROUNDS})"
    report("data_plane_cost", title, rows)


if __name__ == "__main__":
    main()
