"""Benchmark output: a markdown table on stdout and a JSON file in bench/results/."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingress_ctl import __version__

RESULTS = Path(__file__).parent / "results"


def machine(*, haproxy: str | None = None) -> dict[str, str]:
    """CPU count and versions (HAProxy's: `haproxy` on PATH unless given), printed with
    every table."""
    if haproxy is None:
        first = subprocess.run(["haproxy", "-v"], capture_output=True, text=True, check=False)
        haproxy = first.stdout.split("\n")[0].removeprefix("HAProxy version ").split(" ")[0]
    return {
        "cpus": str(os.cpu_count()),
        "python": platform.python_version(),
        "haproxy": haproxy,
        "ingress-ctl": __version__,
    }


def percentile(values: Sequence[float], pct: float) -> float:
    """The pct-th percentile (nearest rank) of values."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    """p50, p95, p99, max and mean of durations in seconds, as milliseconds."""
    return {
        "p50_ms": round(percentile(values, 50) * 1000, 2),
        "p95_ms": round(percentile(values, 95) * 1000, 2),
        "p99_ms": round(percentile(values, 99) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2),
    }


def report(
    name: str, title: str, rows: list[dict[str, Any]], *, haproxy: str | None = None
) -> None:
    """Print rows as a markdown table and save them with the machine facts."""
    facts = machine(haproxy=haproxy)
    print(f"\n### {title}\n")
    print(", ".join(f"{key} {value}" for key, value in facts.items()) + "\n")
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row[column]) for column in columns) + " |")
    RESULTS.mkdir(exist_ok=True)
    payload: dict[str, Any] = {"benchmark": name, "title": title}
    payload |= {"at": datetime.now(UTC).isoformat(), "machine": facts, "rows": rows}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
