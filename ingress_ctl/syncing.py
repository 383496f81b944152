"""The syncing loop: store changes in, HAProxy configuration out.

Waits for the store to change, lets a burst of changes settle, then runs
translate and render on one snapshot and hands the files to the applier.
Translation goes through `translation.incremental`: when only Ingresses, Services and
endpoints changed, just the Ingresses they reach are folded again.
ExternalNames are resolved (and checked) before each full pass and again every
`resolving.REFRESH_S` seconds; a changed answer makes a full pass.
When only EndpointSlices or Endpoints changed, a fast pass recomputes just the
servers of the Services they belong to and places them in their slots through
the runtime API (milliseconds, whatever the cluster's size); a full pass
follows once changes pause, so the files on disk catch up.
Records every pass in the status holder and the metrics, and logs each
problem once when it appears.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from time import monotonic
from typing import TYPE_CHECKING

from ingress_ctl.building import build, rebuild
from ingress_ctl.model.problems import Problem
from ingress_ctl.model.routing import Certificate
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import Snapshot
from ingress_ctl.model.state import ControllerStatus, SyncRecord, now
from ingress_ctl.refreshing import REFRESH_S, Resolver
from ingress_ctl.store import ObjectKey, Store
from ingress_ctl.translation import Translation
from ingress_ctl.translation.endpoints import EndpointRefresher
from ingress_ctl.translation.incremental import Translator

if TYPE_CHECKING:
    from ingress_ctl.haproxy.applying import Applier, Outcome
    from ingress_ctl.metrics import Metrics

log = logging.getLogger(__name__)

RETRY_START_S = 0.5
RETRY_MAX_S = 30.0
CATCH_UP_S = 1.0
ENDPOINT_KINDS = frozenset({"EndpointSlice", "Endpoints"})


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
        fallback_certificate: Certificate | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        """`fallback_certificate` is the default certificate when --default-ssl-certificate
        gives none; without either, nothing is served over HTTPS. `resolver` keeps the
        ExternalNames resolved (a fresh one by default)."""
        self._store = store
        self._resolver = resolver or Resolver()
        self._settings = settings
        self._applier = applier
        self._status = status
        self._metrics = metrics
        self._settle_s = settle_s
        self._logged: set[Problem] = set()
        self.last_outcome: Outcome | None = None
        self._translation: Translation | None = None
        self._translator = Translator(settings=settings, fallback_certificate=fallback_certificate)
        self._refresher: EndpointRefresher | None = None
        self._behind = False
        """Endpoint-only passes ran since the last full pass: the files on disk lag."""

    async def run(self) -> None:
        """Sync after every burst of changes, forever. Retry with backoff when HAProxy did
        not start or reload, even if nothing changes; after endpoint-only passes, make a
        full pass once changes pause, so the files on disk catch up."""
        retry_s = RETRY_START_S
        while True:
            if self.last_outcome is not None and self.last_outcome.retry:
                await self._changed_within(retry_s)
                retry_s = min(retry_s * 2, RETRY_MAX_S)
            elif self._behind and not await self._changed_within(CATCH_UP_S):
                await self.sync_once(full=True)
                continue
            else:
                retry_s = RETRY_START_S
                if not await self._changed_within(REFRESH_S):
                    if self._resolver.names and await self._resolver.refresh():
                        await self.sync_once(full=True)
                    continue
            await asyncio.sleep(self._settle_s)
            self._store.changed.clear()
            await self.sync_once()

    async def _changed_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._store.changed.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def sync_once(self, *, full: bool = False) -> None:
        """One pass over the current snapshot: endpoint-only when it can, else full."""
        started = monotonic()
        dirty = self._store.take_dirty()
        snapshot = self._store.snapshot()
        outcome = None if full else await self._endpoints_only(dirty, snapshot)
        if outcome is None:
            outcome = await self._full(snapshot)
        self.last_outcome = outcome
        assert self._translation is not None
        problems = self._store.problems() + self._translation.problems
        self._log_new(problems)
        self._record(snapshot, self._translation, problems, outcome.action, monotonic() - started)

    async def _full(self, snapshot: Snapshot) -> Outcome:
        current = self._applier.current
        layout = current.layout if current is not None else None
        snapshot = await self._resolver.with_resolved(snapshot)
        translation, rendered = await asyncio.to_thread(
            partial(build, snapshot, self._settings, layout, translator=self._translator)
        )
        if not self._translator.patched:
            log.debug("full translation: %s", self._translator.why_full)
        self._translation, self._behind = translation, False
        self._refresher = await asyncio.to_thread(EndpointRefresher, translation.routing, snapshot)
        resized = partial(rebuild, translation.routing, self._settings, layout)
        return await self._applier.apply(rendered, resized=resized)

    async def _endpoints_only(
        self, dirty: set[ObjectKey] | None, snapshot: Snapshot
    ) -> Outcome | None:
        """The fast pass when only EndpointSlices or Endpoints changed; None otherwise."""
        translation, refresher = self._translation, self._refresher
        if not dirty or translation is None or refresher is None:
            return None
        if any(kind not in ENDPOINT_KINDS for kind, _, _ in dirty):
            return None
        changed = refresher.refresh(snapshot, dirty)
        outcome = await self._applier.apply_servers(changed)
        if outcome is None:
            self._refresher = None
            return None
        self._translation = translation.model_copy(update={"routing": refresher.routing})
        self._behind = True
        return outcome

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
        status.gateway = translation.gateway
        status.problems = problems
        status.routing = translation.routing
        current = self._applier.current
        status.sections = current.layout.pool.names() if current is not None else {}
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
