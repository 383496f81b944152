"""`make bench`: every benchmark in turn, each printing its own markdown table."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = (
    "runtime_latency",
    "control_plane",
    "watch_scale",
    "apply_to_first_200",
    "data_plane",
    "data_plane_cost",
    "render_scale",
    "manifest_edits",
    "status_page",
    "churn",
    "gateway_status",
)


def main() -> int:
    chosen = sys.argv[1:] or list(BENCHMARKS)
    for name in chosen:
        print(f"\n## {name}", flush=True)
        importlib.import_module(f"bench.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
