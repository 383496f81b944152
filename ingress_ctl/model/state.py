"""What /status reports: the controller's state, as values, and the holder that keeps it.

The syncing loop records each sync and reload here; the status server only
reads `report()`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from ingress_ctl import __version__
from ingress_ctl.model.conditions import GatewayStatuses
from ingress_ctl.model.problems import Problem
from ingress_ctl.model.routing import Routing, Value
from ingress_ctl.model.verdicts import IngressReport

Mode = Literal["files", "kubernetes"]


def now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


class SyncRecord(Value):
    """One pass of translate + render + apply."""

    at: datetime
    revision: int
    duration_ms: float
    action: str
    """What applying did: `none`, `runtime`, `reload`, `start` or `rejected`."""


class ReloadRecord(Value):
    """One attempt to make HAProxy serve new files."""

    at: datetime
    ok: bool
    reason: str
    detail: str = ""
    duration_ms: float = 0.0


class HAProxyReport(Value):
    """The supervised HAProxy: whether a worker serves, and how it fared."""

    running: bool
    master_pid: int | None = None
    restarts: int = 0
    """Restarts after the master exited unasked (a worker or the master died)."""
    last_exit: str | None = None
    """Why HAProxy last stopped unasked, or why it last failed to restart."""
    down_s: float = 0.0
    """Seconds without a serving HAProxy since it last stopped unasked."""


class StatusReport(Value):
    """The JSON body of /status."""

    version: str
    haproxy_version: str | None
    """What `haproxy -v` said at start (2.6 on bookworm hosts, 3.0 in the image)."""
    mode: Mode
    started_at: datetime
    ready: bool
    last_sync: SyncRecord | None
    last_reload: ReloadRecord | None
    last_error: str | None
    haproxy: HAProxyReport | None
    objects: dict[str, int]
    ingresses: tuple[IngressReport, ...]
    problems: tuple[Problem, ...]
    gateway_api: GatewayStatuses = GatewayStatuses()
    """The status of the Gateway API objects we own (GatewayClasses, Gateways, routes)."""


class ControllerStatus:
    """Mutable holder of the latest facts; the syncing loop writes it, and `haproxy`
    reads the supervised process's own facts."""

    def __init__(self, *, mode: Mode) -> None:
        self.mode: Mode = mode
        self.haproxy_version: str | None = None
        self.started_at = now()
        self.ready = False
        self.last_sync: SyncRecord | None = None
        self.last_reload: ReloadRecord | None = None
        self.last_error: str | None = None
        self.objects: dict[str, int] = {}
        self.ingresses: tuple[IngressReport, ...] = ()
        self.problems: tuple[Problem, ...] = ()
        self.gateway = GatewayStatuses()
        """What the last sync computed for the Gateway API objects we own."""
        self.haproxy: Callable[[], HAProxyReport] | None = None
        self.routing: Routing | None = None
        """The routing model of the last sync (the status page's hosts and backends)."""
        self.sections: dict[str, str] = {}
        """Backend -> the HAProxy section serving it, where they differ: a Service that took
        a spare backend (`sp_...`) is counted by HAProxy under the spare's name."""
        self.leader: Callable[[], bool] | None = None
        """Kubernetes mode: whether this replica holds the leader-election Lease now."""

    def readiness(self) -> tuple[bool, str]:
        """Whether traffic is served, and a one-line reason (the body of /readyz).

        Ready once a configuration serves and while an HAProxy worker runs; a newer
        configuration that could not be applied is said, not counted against readiness.
        """
        haproxy = self.haproxy() if self.haproxy is not None else None
        if not self.ready:
            return False, "not ready: no configuration serves yet"
        if haproxy is not None and not haproxy.running:
            return False, f"not ready: no HAProxy worker serves ({haproxy.last_exit})"
        if self.last_error is not None:
            first = self.last_error.strip().split("\n", 1)[0]
            return True, f"ready: serving the last good configuration; {first}"
        return True, "ready"

    def report(self) -> StatusReport:
        """A frozen copy for /status."""
        return StatusReport(
            version=__version__,
            haproxy_version=self.haproxy_version,
            mode=self.mode,
            started_at=self.started_at,
            ready=self.readiness()[0],
            haproxy=self.haproxy() if self.haproxy is not None else None,
            last_sync=self.last_sync,
            last_reload=self.last_reload,
            last_error=self.last_error,
            objects=dict(self.objects),
            ingresses=self.ingresses,
            problems=self.problems,
            gateway_api=self.gateway,
        )
