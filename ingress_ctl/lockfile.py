"""The state directory's lock file: one controller per state directory.

`hold` takes an exclusive `flock` on `<state_dir>/ingress-ctl.lock` without
waiting and keeps it while the controller runs. The kernel drops it when the
process ends, however it ends (SIGKILL included), so there is never a stale
lock to clean up. The file names the holder's pid, for the message a second
controller prints. The descriptor is not inherited: HAProxy never holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from ingress_ctl.haproxy.naming import LOCK_FILE


class StateDirectoryBusy(RuntimeError):
    """Another controller holds the state directory."""


@contextlib.contextmanager
def hold(state_dir: Path) -> Iterator[None]:
    """Hold the state directory's lock for the duration; StateDirectoryBusy when taken."""
    descriptor = os.open(state_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip() or "unknown"
            raise StateDirectoryBusy(
                f"state directory {state_dir} is in use by another ingress-ctl (pid {holder}); "
                "stop it or give this one another --state-dir"
            ) from None
        with contextlib.suppress(OSError):  # a full disk: the lock holds all the same
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(descriptor)
