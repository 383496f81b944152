"""Leader election: one replica at a time holds a coordination.k8s.io/v1 Lease.

Only the leader writes to the cluster (Ingress status, Events); every replica
serves traffic whatever happens here. The loop follows client-go's rules: the
holder renews every RETRY_S; a candidate takes the Lease over when its holder
has not renewed it for the Lease's duration, timed on the candidate's own
monotonic clock (clocks of different nodes are never compared); a leader that
could not renew for RENEW_DEADLINE_S steps down. Writes carry the Lease's
resourceVersion, so two candidates never both win. On shutdown the leader
releases the Lease, and a successor takes over at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from time import monotonic
from typing import Any

from kubernetes_asyncio import client

from ingress_ctl.kube.client import ApiErrors, call_json, describe_error
from ingress_ctl.metrics import Metrics

log = logging.getLogger(__name__)

LEASE_S = 15
"""A Lease not renewed for this long may be taken over (client-go's defaults throughout)."""
RENEW_DEADLINE_S = 10.0
"""A leader that could not renew for this long steps down, before anyone may take over."""
RETRY_S = 2.0
"""Time between rounds: renewals, and attempts to acquire."""
NOT_FOUND = 404
CONFLICT = 409
RELEASE_TIMEOUT_S = 5.0
"""Shutdown does not wait longer than this for the Lease to be given up."""


class Step(StrEnum):
    """What a candidate does with the Lease on one round."""

    CREATE = "create"
    RENEW = "renew"
    TAKE_OVER = "take over"
    WAIT = "wait"


class Outcome(StrEnum):
    """How one round ended for this replica."""

    WON = "won"
    """We hold the Lease (created, renewed or taken over)."""
    HELD = "held"
    """Another replica holds a live Lease."""
    FAILED = "failed"
    """Undecided: the API server failed us, or another candidate wrote first."""


@dataclass(frozen=True)
class LeaseRecord:
    """The fields of a Lease that election reads."""

    holder: str
    duration_s: int
    renewed: str
    transitions: int

    @classmethod
    def of(cls, lease: dict[str, Any]) -> LeaseRecord:
        spec = lease.get("spec") or {}
        return cls(
            holder=spec.get("holderIdentity") or "",
            duration_s=int(spec.get("leaseDurationSeconds") or 0),
            renewed=str(spec.get("renewTime") or ""),
            transitions=int(spec.get("leaseTransitions") or 0),
        )


def next_step(
    record: LeaseRecord | None, *, identity: str, unchanged_since: float, now: float
) -> Step:
    """What to do with a Lease last seen changing at `unchanged_since` (monotonic seconds)."""
    if record is None:
        return Step.CREATE
    if record.holder == identity:
        return Step.RENEW
    if not record.holder or now - unchanged_since >= record.duration_s:
        return Step.TAKE_OVER
    return Step.WAIT


def default_identity() -> str:
    """This replica's name in the Lease: the pod (or host) name and a random suffix."""
    return f"{os.environ.get('POD_NAME') or socket.gethostname()}_{secrets.token_hex(4)}"


def micro_time(when: datetime) -> str:
    """A Kubernetes MicroTime: RFC 3339 in UTC with microseconds."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Leadership:
    """Runs the election for one Lease; `is_leader` and `term` say where we stand."""

    def __init__(
        self,
        *,
        api: client.ApiClient,
        namespace: str,
        name: str,
        metrics: Metrics,
    ) -> None:
        self.identity = default_identity()
        self.is_leader = False
        self.term = 0
        """Bumped each time this replica becomes leader."""
        self._api = client.CoordinationV1Api(api)
        self._namespace, self._name = namespace, name
        self._metrics = metrics
        self._seen: tuple[LeaseRecord | None, float] = (None, monotonic())
        self._renewed_at = 0.0

    async def run(self) -> None:
        """Campaign and renew forever."""
        while True:
            try:
                outcome = await self._round()
            except ApiErrors as error:
                log.warning("leader election: %s", describe_error(error))
                outcome = Outcome.FAILED
            self._settle(outcome)
            await asyncio.sleep(RETRY_S)

    async def release(self) -> None:
        """Give the Lease up if we hold it (on shutdown), so a successor need not wait."""
        if not self.is_leader:
            return
        self._set_leader(False)
        try:
            await asyncio.wait_for(self._release(), timeout=RELEASE_TIMEOUT_S)
        except ApiErrors as error:
            log.warning("could not release the Lease: %s", describe_error(error))

    async def _release(self) -> None:
        lease = await self._read()
        if lease is not None and LeaseRecord.of(lease).holder == self.identity:
            lease["spec"].update(holderIdentity="", leaseDurationSeconds=1)
            await self._replace(lease)
            log.info("released Lease %s/%s", self._namespace, self._name)

    async def _round(self) -> Outcome:
        lease = await self._read()
        record = LeaseRecord.of(lease) if lease is not None else None
        step = next_step(
            record, identity=self.identity, unchanged_since=self._observe(record), now=monotonic()
        )
        if step is Step.WAIT:
            return Outcome.HELD
        if lease is None:
            return await self._create()
        now = micro_time(datetime.now(UTC))
        spec = lease.setdefault("spec", {})
        if step is Step.TAKE_OVER:
            assert record is not None
            spec.update(
                holderIdentity=self.identity,
                acquireTime=now,
                leaseTransitions=record.transitions + 1,
            )
        spec.update(leaseDurationSeconds=LEASE_S, renewTime=now)
        return await self._replace(lease)

    def _observe(self, record: LeaseRecord | None) -> float:
        """When (monotonic) the Lease was first seen as it is now."""
        if record != self._seen[0]:
            self._seen = (record, monotonic())
        return self._seen[1]

    def _settle(self, outcome: Outcome) -> None:
        if outcome is Outcome.WON:
            self._renewed_at = monotonic()
            self._set_leader(True)
        elif outcome is Outcome.HELD:
            self._set_leader(False)
        elif self.is_leader and monotonic() - self._renewed_at > RENEW_DEADLINE_S:
            log.warning("could not renew the Lease for %.0f s; stepping down", RENEW_DEADLINE_S)
            self._set_leader(False)

    def _set_leader(self, leader: bool) -> None:
        if leader == self.is_leader:
            return
        self.is_leader = leader
        self._metrics.leader.set(int(leader))
        if leader:
            self.term += 1
        log.info(
            "%s leadership of Lease %s/%s as %s",
            "took" if leader else "lost",
            self._namespace,
            self._name,
            self.identity,
        )

    async def _read(self) -> dict[str, Any] | None:
        try:
            return await call_json(self._api.read_namespaced_lease, self._name, self._namespace)
        except client.ApiException as error:
            if error.status == NOT_FOUND:
                return None
            raise

    async def _create(self) -> Outcome:
        now = micro_time(datetime.now(UTC))
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self._name, "namespace": self._namespace},
            "spec": {
                "holderIdentity": self.identity,
                "leaseDurationSeconds": LEASE_S,
                "acquireTime": now,
                "renewTime": now,
                "leaseTransitions": 0,
            },
        }
        return await self._write(self._api.create_namespaced_lease, self._namespace, body)

    async def _replace(self, lease: dict[str, Any]) -> Outcome:
        return await self._write(
            self._api.replace_namespaced_lease, self._name, self._namespace, lease
        )

    async def _write(self, method: Any, *args: Any) -> Outcome:
        """Create or replace the Lease; FAILED when another candidate wrote first (409)."""
        try:
            await call_json(method, *args)
        except client.ApiException as error:
            if error.status == CONFLICT:
                return Outcome.FAILED
            raise
        return Outcome.WON
