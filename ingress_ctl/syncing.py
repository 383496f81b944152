"""The syncing loop: store changes in, HAProxy configuration out.

Waits for the store to change, lets a burst of changes settle, then runs
translate and render on one snapshot and hands the files to the applier.
Records every pass in the status holder and the metrics, and logs each
problem once when it appears.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from time import monotonic

from ingress_ctl.applying import Applier, Outcome
from ingress_ctl.metrics import Metrics
from ingress_ctl.problems import Problem
from ingress_ctl.rendering import Rendered, render_state
from ingress_ctl.settings import Settings
from ingress_ctl.slots import Layout
from ingress_ctl.snapshot import Snapshot
from ingress_ctl.status import ControllerStatus, SyncRecord, now
from ingress_ctl.store import Store
from ingress_ctl.translation import Translation, translate

log = logging.getLogger(__name__)

RETRY_START_S = 0.5
RETRY_MAX_S = 30.0


def _build(
    snapshot: Snapshot, settings: Settings, layout: Layout | None
) -> tuple[Translation, Rendered]:
    translation = translate(snapshot, settings=settings)
    rendered = render_state(translation.routing, settings=settings, previous=layout)
    return translation, rendered


class Syncer:
    """Runs translate → render → apply whenever the store changes."""

    def __init__(
        self,
        *,
        store: Store,
        settings: Settings,
        applier: Applier,
        status: ControllerStatus,
        metrics: Metrics,
        settle_s: float = 0.05,
    ) -> None:
        self._store = store
        self._settings = settings
        self._applier = applier
        self._status = status
        self._metrics = metrics
        self._settle_s = settle_s
        self._logged: set[Problem] = set()
        self.last_outcome: Outcome | None = None

    async def run(self) -> None:
        """Sync after every burst of changes, forever; retry with backoff when HAProxy
        did not start or reload, even if nothing changes."""
        retry_s = RETRY_START_S
        while True:
            retrying = self.last_outcome is not None and self.last_outcome.retry
            if retrying:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._store.changed.wait(), retry_s)
                retry_s = min(retry_s * 2, RETRY_MAX_S)
            else:
                retry_s = RETRY_START_S
                await self._store.changed.wait()
            await asyncio.sleep(self._settle_s)
            self._store.changed.clear()
            await self.sync_once()

    async def sync_once(self) -> None:
        """One pass over the current snapshot."""
        started = monotonic()
        snapshot = self._store.snapshot()
        current = self._applier.current
        layout = current.layout if current is not None else None
        translation, rendered = await asyncio.to_thread(_build, snapshot, self._settings, layout)
        outcome = await self._applier.apply(rendered)
        self.last_outcome = outcome
        problems = self._store.problems() + translation.problems
        self._log_new(problems)
        duration = monotonic() - started
        self._record(snapshot, translation, problems, outcome.action, duration)

    def _record(
        self,
        snapshot: Snapshot,
        translation: Translation,
        problems: tuple[Problem, ...],
        action: str,
        duration: float,
    ) -> None:
        status, metrics = self._status, self._metrics
        status.objects = snapshot.count()
        status.ingresses = translation.ingresses
        status.problems = problems
        status.last_sync = SyncRecord(
            at=now(),
            revision=snapshot.revision,
            duration_ms=round(duration * 1000, 1),
            action=action,
        )
        if action != "rejected":
            status.last_error = None
        metrics.syncs.inc()
        metrics.sync_seconds.observe(duration)
        for kind, count in status.objects.items():
            metrics.objects.labels(kind=kind).set(count)
        errors = [p for p in problems if p.severity == "error"]
        metrics.rejected.set(len({p.source for p in errors}))
        metrics.problems.labels(severity="error").set(len(errors))
        metrics.problems.labels(severity="warning").set(len(problems) - len(errors))

    def _log_new(self, problems: tuple[Problem, ...]) -> None:
        current = set(problems)
        for problem in problems:
            if problem not in self._logged:
                log.warning("%s (%s)", problem, problem.severity)
        self._logged = current
