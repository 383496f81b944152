"""`ingress-ctl render` of a 10,000-Ingress List against a bare `json.load` of the same file.

The whole command (interpreter start, parse, translate, render, print) runs as
a child process; `json.load` of the same file runs in this process in the same
run, in alternate rounds, so that both meet the same load of the machine.
Targets (issue #12): the ratio at most 3 and the command's peak RSS at most 300 MB.

The command is the venv's `ingress-ctl`, with its bytecode compiled: the child's bytecode
(and its compiled templates) go to a cache of the run's own (one untimed run fills it) even
where PYTHONDONTWRITEBYTECODE is set, which would otherwise have every run compile them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from bench.clusters import cluster
from bench.reporting import report

INGRESSES = 10_000
ENDPOINTS = 10
"""Per Service: 100,000 endpoints in all."""
ROUNDS = 5
RATIO_TARGET = 3.0
RSS_TARGET_MB = 300
INGRESS_CTL = Path(sys.executable).with_name("ingress-ctl")


def write_list(folder: Path, ingresses: int) -> Path:
    """The generated cluster as one JSON List (what `kubectl get -o json` prints)."""
    path = folder / "cluster.json"
    items = cluster(ingresses, endpoints=ENDPOINTS)
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    return path


class Timed(NamedTuple):
    """Wall-clock and CPU seconds of one run."""

    wall: float
    cpu: float


def json_load(path: Path) -> Timed:
    """One bare `json.load` of the file, in this process."""
    started, cpu = time.perf_counter(), time.process_time()
    with path.open() as file:
        json.load(file)
    return Timed(time.perf_counter() - started, time.process_time() - cpu)


def installed_env(folder: Path) -> dict[str, str]:
    """The environment of the command, its bytecode cached under folder."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    return env


def render_run(path: Path, env: dict[str, str]) -> tuple[Timed, float]:
    """Seconds and peak RSS (MB) of one whole `ingress-ctl render -f path` process."""
    started = time.perf_counter()
    with subprocess.Popen(
        [str(INGRESS_CTL), "render", "-f", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    ) as child:
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"ingress-ctl render exited with {child.returncode}")
    return Timed(elapsed, usage.ru_utime + usage.ru_stime), usage.ru_maxrss / 1024


def measure(ingresses: int = INGRESSES) -> dict[str, object]:
    """Rounds of one `json.load`, then one render: both meet the same load of the machine."""
    with tempfile.TemporaryDirectory() as folder:
        path = write_list(Path(folder), ingresses)
        size_mb = path.stat().st_size / 1e6
        env = installed_env(Path(folder))
        render_run(path, env)  # compiles the bytecode
        loads, renders, peaks = [], [], []
        for _ in range(ROUNDS):
            loads.append(json_load(path))
            timed, peak = render_run(path, env)
            renders.append(timed)
            peaks.append(peak)
    baseline = min(loads, key=lambda timed: timed.wall)
    seconds = min(renders, key=lambda timed: timed.wall)
    rss = max(peaks)
    ratio = seconds.wall / baseline.wall
    return {
        "ingresses": ingresses,
        "endpoints": ingresses * ENDPOINTS,
        "file_MB": round(size_mb, 1),
        "json_load_s": round(baseline.wall, 2),
        "render_s": round(seconds.wall, 2),
        "ratio": round(ratio, 2),
        "ratio_target": f"<= {RATIO_TARGET}: {'met' if ratio <= RATIO_TARGET else 'MISSED'}",
        "cpu_ratio": round(min(r.cpu for r in renders) / min(j.cpu for j in loads), 2),
        "rss_MB": round(rss),
        "rss_target": f"<= {RSS_TARGET_MB}: {'met' if rss <= RSS_TARGET_MB else 'MISSED'}",
    }


def main() -> None:
    report(
        "render_scale",
        f"`ingress-ctl render` of one JSON List vs `json.load` of it (best of {ROUNDS} rounds of"
        " one each; cpu_ratio: the same in CPU seconds, which the machine's load moves less)",
        [measure()],
    )


if __name__ == "__main__":
    main()
