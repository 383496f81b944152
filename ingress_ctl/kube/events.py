"""Kubernetes Events about the Ingresses we serve: one Warning per problem translation found.

A problem becomes an Event when it appears; while it lasts nothing more is written.
When the same problem (same Ingress, reason and message) comes back later, the
existing Event's count is bumped instead of a new one being made. Each Ingress may
have `burst` Events at once and one more every `refill_s` seconds (a token
bucket): a flapping Ingress cannot flood the API server. Events are core/v1, named
after the Ingress and a hash of the problem, so a new leader re-announcing what
its predecessor already wrote gets 409 and moves on. Events are best effort: a
failed write is counted and logged, never retried.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kubernetes_asyncio import client

from ingress_ctl.kube.client import ApiErrors, call_json, describe_error
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.objects import Ingress
from ingress_ctl.model.problems import Problem
from ingress_ctl.model.snapshot import NamespacedName
from ingress_ctl.model.verdicts import IngressReport

log = logging.getLogger(__name__)

COMPONENT = "ingress-ctl"
MAX_MESSAGE = 1024
CONFLICT, NOT_FOUND = 409, 404

_REASONS = (
    (re.compile(r"^Service \S+ not found"), "ServiceNotFound"),
    (re.compile(r"^Service \S+ has no port"), "ServicePortNotFound"),
    (re.compile(r"\bSecret \S+.*\bnot found"), "SecretNotFound"),
    (re.compile(r"the oldest (Ingress )?wins"), "RuleConflict"),
)
"""Problems carry prose, not codes: the Event reason is read from the prose's shape."""


def event_reason(problem: Problem) -> str:
    """A CamelCase Event reason for a problem."""
    for pattern, reason in _REASONS:
        if pattern.search(problem.reason):
            return reason
    return "RuleRejected" if problem.severity == "error" else "RuleWarning"


@dataclass(frozen=True, order=True)
class IngressEvent:
    """One problem on one Ingress, as an Event says it."""

    namespace: str
    name: str
    uid: str
    reason: str
    message: str

    @property
    def event_name(self) -> str:
        """Stable name: the same problem on the same Ingress always names the same Event."""
        digest = hashlib.sha256(f"{self.uid}|{self.reason}|{self.message}".encode()).hexdigest()
        return f"{self.name[:200]}.{digest[:16]}"


def ingress_events(
    reports: Iterable[IngressReport], ingresses: Mapping[NamespacedName, Ingress]
) -> set[IngressEvent]:
    """An IngressEvent for each problem of each Ingress we serve."""
    events = set()
    for report in reports:
        ingress = ingresses.get((report.source.namespace, report.source.name))
        if report.state != "serving" or ingress is None:
            continue
        for problem in report.problems:
            events.add(
                IngressEvent(
                    namespace=ingress.metadata.namespace,
                    name=ingress.metadata.name,
                    uid=ingress.metadata.uid,
                    reason=event_reason(problem),
                    message=f"{problem.field}: {problem.reason}"[:MAX_MESSAGE],
                )
            )
    return events


@dataclass(frozen=True)
class Write:
    """An Event to write: count 1 creates it, a higher count bumps it."""

    event: IngressEvent
    count: int


@dataclass(frozen=True)
class Decision:
    """What to write for the problems seen now, and how many were rate-limited."""

    writes: tuple[Write, ...]
    limited: int


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class EventLog:
    """Deduplicates and rate-limits Events; pure (the caller passes the time)."""

    burst: int = 10
    refill_s: float = 60.0
    capacity: int = 4096
    """How many distinct Events' counts are remembered (the least recent are forgotten)."""
    _present: set[IngressEvent] = field(default_factory=set)
    _counts: OrderedDict[IngressEvent, int] = field(default_factory=OrderedDict)
    _buckets: dict[tuple[str, str, str], _Bucket] = field(default_factory=dict)

    def decide(self, current: set[IngressEvent], *, now: float) -> Decision:
        """The Events to write for problems that appeared since the last call."""
        appeared = sorted(current - self._present)
        self._present = set(current)
        self._refill(now)
        writes, limited = [], 0
        for event in appeared:
            if not self._take((event.namespace, event.name, event.uid), now):
                limited += 1
                continue
            count = self._counts.pop(event, 0) + 1
            self._counts[event] = count
            writes.append(Write(event=event, count=count))
        while len(self._counts) > self.capacity:
            self._counts.popitem(last=False)
        return Decision(writes=tuple(writes), limited=limited)

    def forget_present(self) -> None:
        """Treat every current problem as new on the next call (a new leader re-announces)."""
        self._present = set()

    def _refill(self, now: float) -> None:
        for key, bucket in list(self._buckets.items()):
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) / self.refill_s)
            bucket.at = now
            if bucket.tokens >= self.burst:
                del self._buckets[key]

    def _take(self, key: tuple[str, str, str], now: float) -> bool:
        bucket = self._buckets.setdefault(key, _Bucket(tokens=float(self.burst), at=now))
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True


def event_body(write: Write, *, at: datetime, instance: str) -> dict[str, Any]:
    """A core/v1 Event for one write."""
    event = write.event
    timestamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": event.event_name, "namespace": event.namespace},
        "involvedObject": {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "namespace": event.namespace,
            "name": event.name,
            "uid": event.uid,
        },
        "type": "Warning",
        "reason": event.reason,
        "message": event.message,
        "count": write.count,
        "firstTimestamp": timestamp,
        "lastTimestamp": timestamp,
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": instance[:128],
    }


class EventRecorder:
    """Writes the Events an EventLog decides on."""

    def __init__(self, *, api: client.ApiClient, metrics: Metrics, instance: str) -> None:
        self._api = client.CoreV1Api(api)
        self._metrics = metrics
        self._instance = instance

    async def write(self, decision: Decision) -> None:
        """Create or bump each Event; failures are logged and counted."""
        if decision.limited:
            self._metrics.events.labels(action="limited").inc(decision.limited)
        for write in decision.writes:
            body = event_body(write, at=datetime.now(UTC), instance=self._instance)
            try:
                action = await self._write(write, body)
            except ApiErrors as error:
                action = "error"
                log.warning(
                    "Event on Ingress %s/%s: %s",
                    body["metadata"]["namespace"],
                    write.event.name,
                    describe_error(error),
                )
            self._metrics.events.labels(action=action).inc()

    async def _write(self, write: Write, body: dict[str, Any]) -> str:
        namespace = write.event.namespace
        if write.count > 1:
            try:
                await call_json(
                    self._api.patch_namespaced_event,
                    write.event.event_name,
                    namespace,
                    {"count": write.count, "lastTimestamp": body["lastTimestamp"]},
                    _content_type="application/merge-patch+json",
                )
                return "updated"
            except client.ApiException as error:
                if error.status != NOT_FOUND:
                    raise
        try:
            await call_json(self._api.create_namespaced_event, namespace, body)
        except client.ApiException as error:
            if error.status == CONFLICT:
                return "existing"
            raise
        return "created"
