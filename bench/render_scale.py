"""`ingress-ctl render` of a 10,000-Ingress List against a bare `json.load` of the same file.

The whole command (interpreter start, parse, translate, render, print) runs as
a child process; `json.load` of the same file runs in this process in the same
run, so the ratio holds whatever the machine's load. Targets (issue #12): the
ratio at most 3 and the command's peak RSS at most 300 MB.

The command runs as installed from the wheel, with its bytecode compiled: the child's
bytecode goes to a cache of the run's own (one untimed run fills it) even where
PYTHONDONTWRITEBYTECODE is set, which would otherwise have every run compile the package.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.clusters import cluster
from bench.reporting import report

INGRESSES = 10_000
ENDPOINTS = 10
"""Per Service: 100,000 endpoints in all."""
RATIO_TARGET = 3.0
RSS_TARGET_MB = 300
INGRESS_CTL = Path(sys.executable).with_name("ingress-ctl")


def write_list(folder: Path, ingresses: int) -> Path:
    """The generated cluster as one JSON List (what `kubectl get -o json` prints)."""
    path = folder / "cluster.json"
    items = cluster(ingresses, endpoints=ENDPOINTS)
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    return path


def json_load_s(path: Path) -> float:
    """Seconds of the best of three bare `json.load` runs of the file."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        with path.open() as file:
            json.load(file)
        best = min(best, time.perf_counter() - started)
    return best


def installed_env(folder: Path) -> dict[str, str]:
    """The environment of the command, its bytecode cached under folder."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    return env


def render_run(path: Path, env: dict[str, str]) -> tuple[float, float]:
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
    return elapsed, usage.ru_maxrss / 1024


def measure(ingresses: int = INGRESSES) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        path = write_list(Path(folder), ingresses)
        size_mb = path.stat().st_size / 1e6
        env = installed_env(Path(folder))
        render_run(path, env)  # compiles the bytecode
        baseline = json_load_s(path)
        runs = [render_run(path, env) for _ in range(3)]
    seconds = min(elapsed for elapsed, _ in runs)
    rss = max(peak for _, peak in runs)
    ratio = seconds / baseline
    return {
        "ingresses": ingresses,
        "endpoints": ingresses * ENDPOINTS,
        "file_MB": round(size_mb, 1),
        "json_load_s": round(baseline, 2),
        "render_s": round(seconds, 2),
        "ratio": round(ratio, 2),
        "ratio_target": f"<= {RATIO_TARGET}: {'met' if ratio <= RATIO_TARGET else 'MISSED'}",
        "rss_MB": round(rss),
        "rss_target": f"<= {RSS_TARGET_MB}: {'met' if rss <= RSS_TARGET_MB else 'MISSED'}",
    }


def main() -> None:
    report(
        "render_scale",
        "`ingress-ctl render` of one JSON List vs `json.load` of it (best of 3 each)",
        [measure()],
    )


if __name__ == "__main__":
    main()
