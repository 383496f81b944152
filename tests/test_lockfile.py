"""The state directory's lock: a second holder is refused, naming the first; death frees it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingress_ctl.lockfile import StateDirectoryBusy, hold


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    with (
        hold(tmp_path),
        pytest.raises(
            StateDirectoryBusy, match=f"in use by another ingress-ctl \\(pid {os.getpid()}\\)"
        ),
        hold(tmp_path),
    ):
        pass


def test_the_lock_is_free_again_once_released(tmp_path: Path) -> None:
    with hold(tmp_path):
        pass
    with hold(tmp_path):
        pass


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "held\n"
    with pytest.raises(StateDirectoryBusy, match=f"pid {holder.pid}"), hold(tmp_path):
        pass

    holder.kill()
    holder.wait()

    with hold(tmp_path):
        pass


HOLDER = """
import sys, time
from pathlib import Path
from ingress_ctl.lockfile import hold

with hold(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""
