"""/readyz and /status's `ready`: serving a configuration, with an HAProxy worker running."""

from __future__ import annotations

import pytest

from ingress_ctl.model.state import ControllerStatus, HAProxyReport

RUNNING = HAProxyReport(running=True, master_pid=10, restarts=2, last_exit="master 9 exited")
DOWN = HAProxyReport(running=False, restarts=3, last_exit="master 10 killed by SIGKILL", down_s=1)


@pytest.mark.parametrize(
    ("configured", "haproxy", "last_error", "expected"),
    [
        (False, None, None, (False, "not ready: no configuration serves yet")),
        (False, DOWN, "haproxy did not start", (False, "not ready: no configuration serves yet")),
        (True, None, None, (True, "ready")),
        (True, RUNNING, None, (True, "ready")),
        (
            True,
            DOWN,
            None,
            (False, "not ready: no HAProxy worker serves (master 10 killed by SIGKILL)"),
        ),
        (
            True,
            RUNNING,
            "cannot write the state directory: [Errno 28] No space left on device\nmore",
            (
                True,
                "ready: serving the last good configuration; cannot write the state "
                "directory: [Errno 28] No space left on device",
            ),
        ),
    ],
)
def test_readiness(
    configured: bool,
    haproxy: HAProxyReport | None,
    last_error: str | None,
    expected: tuple[bool, str],
) -> None:
    status = ControllerStatus(mode="files")
    status.ready, status.last_error = configured, last_error
    if haproxy is not None:
        status.haproxy = lambda: haproxy

    assert status.readiness() == expected
    report = status.report()
    assert (report.ready, report.haproxy) == (expected[0], haproxy)
