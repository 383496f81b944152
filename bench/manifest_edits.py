"""File mode at scale: a folder of 2,000 Ingress files, and one of them edited.

Times reading the whole folder (libyaml's loader, and PyYAML's pure-Python one
for comparison) and the file source's poll after one file changed, which
re-reads that file only.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from time import monotonic, perf_counter
from unittest.mock import patch

import yaml

from bench.clusters import ingress
from bench.reporting import report
from ingress_ctl.sources import files
from ingress_ctl.sources.files import ManifestWatch, load_manifests

INGRESSES = 2_000


def timed(action: Callable[[], object]) -> float:
    started = perf_counter()
    action()
    return round(perf_counter() - started, 3)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for index in range(INGRESSES):
            (root / f"ingress{index}.yaml").write_text(yaml.safe_dump(ingress(index)))
        watch = ManifestWatch([root])
        first_poll = timed(lambda: watch.poll(monotonic()))
        edited = root / "ingress7.yaml"
        edited.write_text(yaml.safe_dump(ingress(7, service="other")))
        poll_after_edit = timed(lambda: watch.poll(monotonic()))
        unchanged_poll = timed(lambda: watch.poll(monotonic()))
        libyaml = timed(lambda: load_manifests([root]))
        with patch.object(files, "yaml_loader", lambda: yaml.SafeLoader):
            pure = timed(lambda: load_manifests([root]))
    report(
        "manifest_edits",
        f"File mode: {INGRESSES:,} Ingress files, one edited (seconds)",
        [
            {"step": "first poll (reads every file)", "seconds": first_poll},
            {"step": "poll after one file was edited", "seconds": poll_after_edit},
            {"step": "poll with nothing changed", "seconds": unchanged_poll},
            {"step": "read every file, libyaml (CSafeLoader)", "seconds": libyaml},
            {"step": "read every file, pure-Python SafeLoader", "seconds": pure},
        ],
    )


if __name__ == "__main__":
    main()
