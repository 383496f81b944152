"""Where the data plane's time goes: HAProxy CPU time per request, by group of rules.

The throughput ratio of `data_plane` is noisy on 2 shared cores; CPU time per
request is not. HAProxy runs with one thread; wrk sends keep-alive requests for
a few seconds; the worker's user+system time (from /proc) divided by the
requests answered gives microseconds of HAProxy CPU per request. Variants of
our rendered configuration drop one group of rules each, so the differences
say what each group costs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.data_plane import (
    BACKEND_IP,
    BACKEND_PORT,
    MINIMAL_CONF,
    MINIMAL_PORT,
    NGINX_CONF,
    OURS_PORT,
    ours,
    running,
)
from bench.reporting import report

FORWARDED = r"\n    http-request (del|set)-header x-forwarded[^\n]*"
TLS_POLICY = (
    r"\n    (http-request (set-var\(txn\.(tls|hsts|scheme)\)|redirect)"
    r"|http-response set-header strict)[^\n]*"
)


def variants(config: str) -> dict[str, str]:
    """Our configuration, and copies without one group of rules each."""
    return {
        "ingress-ctl (all rules)": config,
        "without forwarded-header rules": re.sub(FORWARDED, "", config),
        "without TLS redirect/HSTS rules": re.sub(TLS_POLICY, "", config),
        "without both": re.sub(TLS_POLICY, "", re.sub(FORWARDED, "", config)),
        "without both and option forwardfor": re.sub(
            TLS_POLICY, "", re.sub(FORWARDED, "", config)
        ).replace("    option forwardfor\n", ""),
    }


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


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="icdc"))
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    (root / "nginx.conf").write_text(NGINX_CONF.format(root=root, ip=BACKEND_IP, port=BACKEND_PORT))
    minimal = MINIMAL_CONF.format(port=MINIMAL_PORT, ip=BACKEND_IP, backend_port=BACKEND_PORT)
    (root / "minimal.cfg").write_text("global\n    nbthread 1\n" + minimal)
    rows: list[dict[str, Any]] = []
    nginx = ["nginx", "-p", str(root), "-c", str(root / "nginx.conf")]
    with running(nginx, wait_port=BACKEND_PORT, host=BACKEND_IP):
        base = cpu_per_request([haproxy, "-db", "-f", str(root / "minimal.cfg")], MINIMAL_PORT, "x")
        rows.append({"configuration": "hand-written minimal", "HAProxy CPU µs/request": base})
        directory = ours(root, 1000)
        config = (directory / "haproxy.cfg").read_text()
        for name, text in variants(one_thread(config)).items():
            (directory / "haproxy.cfg").write_text(text)
            command = [haproxy, "-db", "-C", str(directory), "-f", "haproxy.cfg"]
            cost = cpu_per_request(command, OURS_PORT, "host500.example.com")
            rows.append({"configuration": name, "HAProxy CPU µs/request": cost})
    shutil.rmtree(root, ignore_errors=True)
    report("data_plane_cost", "Data plane: HAProxy CPU per request (1,000 hosts, 1 thread)", rows)


if __name__ == "__main__":
    main()
