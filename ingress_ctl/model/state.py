"""What /status reports: the controller's state, as values, and the holder that keeps it.

The syncing loop records each sync and reload here; the status server only
reads `report()`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from ingress_ctl import __version__
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


class StatusReport(Value):
    """The JSON body of /status."""

    version: str
    mode: Mode
    started_at: datetime
    ready: bool
    last_sync: SyncRecord | None
    last_reload: ReloadRecord | None
    last_error: str | None
    objects: dict[str, int]
    ingresses: tuple[IngressReport, ...]
    problems: tuple[Problem, ...]


class ControllerStatus:
    """Mutable holder of the latest facts; only the syncing loop writes it."""

    def __init__(self, *, mode: Mode) -> None:
        self.mode: Mode = mode
        self.started_at = now()
        self.ready = False
        self.last_sync: SyncRecord | None = None
        self.last_reload: ReloadRecord | None = None
        self.last_error: str | None = None
        self.objects: dict[str, int] = {}
        self.ingresses: tuple[IngressReport, ...] = ()
        self.problems: tuple[Problem, ...] = ()
        self.routing: Routing | None = None
        """The routing model of the last sync (the status page's hosts and backends)."""
        self.leader: Callable[[], bool] | None = None
        """Kubernetes mode: whether this replica holds the leader-election Lease now."""

    def report(self) -> StatusReport:
        """A frozen copy for /status."""
        return StatusReport(
            version=__version__,
            mode=self.mode,
            started_at=self.started_at,
            ready=self.ready,
            last_sync=self.last_sync,
            last_reload=self.last_reload,
            last_error=self.last_error,
            objects=dict(self.objects),
            ingresses=self.ingresses,
            problems=self.problems,
        )
