"""Reporting back to the cluster: after each sync, the leader publishes status and Events.

The syncing loop records each pass in the status holder; this loop looks at it every
TICK_S and reports when anything it depends on moved: a new sync, a new term of
leadership, or a change of the published Service. Status is level-triggered (what
differs from the desired addresses is patched, failures are retried after RETRY_S);
Events are edge-triggered by the EventLog. The status of Gateway API objects goes
to the GatewayStatusWriter's queue (it writes and retries on its own). Followers
report nothing.
"""

from __future__ import annotations

import asyncio
import logging
from time import monotonic

from ingress_ctl.kube.events import EventLog, EventRecorder, ingress_events
from ingress_ctl.kube.gateway_writing import GatewayStatusWriter
from ingress_ctl.kube.leading import Leadership
from ingress_ctl.kube.publishing import AddressSource, StatusPublisher, status_updates
from ingress_ctl.model.objects import Ingress
from ingress_ctl.model.state import ControllerStatus
from ingress_ctl.store import Store

log = logging.getLogger(__name__)

TICK_S = 0.1
"""How often the loop looks for a new sync."""
RETRY_S = 2.0
"""Pause after a failed status patch before the next attempt."""


class Reporter:
    """Turns the last sync's reports into Ingress status patches and Events."""

    def __init__(
        self,
        *,
        store: Store,
        status: ControllerStatus,
        leadership: Leadership,
        addresses: AddressSource,
        publisher: StatusPublisher,
        recorder: EventRecorder,
        gateway: GatewayStatusWriter | None = None,
    ) -> None:
        self._store = store
        self._status = status
        self._leadership = leadership
        self._addresses = addresses
        self._publisher = publisher
        self._recorder = recorder
        self._gateway = gateway
        self._event_log = EventLog()

    async def run(self) -> None:
        """Report whenever the inputs move, while leading; forever."""
        reported: tuple[object, ...] | None = None
        term = 0
        while True:
            await asyncio.sleep(TICK_S)
            if not self._leadership.is_leader or self._status.last_sync is None:
                continue
            if self._leadership.term != term:
                term = self._leadership.term
                self._event_log.forget_present()
            inputs = (self._status.last_sync, term, self._addresses.revision)
            if inputs == reported:
                continue
            if await self.report_once():
                reported = inputs
            else:
                reported = None
                await asyncio.sleep(RETRY_S)

    async def report_once(self) -> bool:
        """Publish status and write Events for the last sync; False if an Ingress status
        patch failed."""
        snapshot = self._store.snapshot()
        if self._gateway is not None:
            await self._gateway.submit(self._status.gateway, snapshot)
        ingresses = snapshot.objects(Ingress)
        reports = self._status.ingresses
        decision = self._event_log.decide(ingress_events(reports, ingresses), now=monotonic())
        await self._recorder.write(decision)
        addresses = self._addresses.current()
        if addresses is None:
            return True
        return await self._publisher.publish(status_updates(reports, ingresses, addresses))
