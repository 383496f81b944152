"""Writing the status of the Gateway API objects we own, from a queue, as the leader.

`submit` (called by the reporting loop after each sync, never waiting on the
API server) compares what each object's status should say (`gateway_status`)
with what the store holds and queues the objects that differ, the latest
desired status replacing any still queued for the same object. Workers write
them a few at a time through the status subresource: a JSON merge patch that
carries the resourceVersion it was computed from, so a concurrent change
answers 409 Conflict; the object is then read again, its status recomputed and
written only if it still differs (MAX_ATTEMPTS in all). A write that fails is
counted, logged with the object, and tried again after a growing delay unless a
newer status replaced it (one the API server refuses as invalid is not: the next
sync submits it again). Until the watch brings our own write back, the store
still holds the version before it: the writer remembers what it wrote, so that
stale version causes no second write. Nothing is written unless this replica
leads when the write starts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from kubernetes_asyncio import client

from ingress_ctl.kube.client import ApiErrors, call_json, describe_error
from ingress_ctl.kube.gateway_status import (
    Document,
    ObjectKey,
    Target,
    desired_status,
    differs,
    targets,
)
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.conditions import GatewayStatuses
from ingress_ctl.model.gateway_api import API_RESOURCES, GROUP
from ingress_ctl.model.snapshot import Snapshot

log = logging.getLogger(__name__)

PARALLEL_WRITES = 4
MAX_ATTEMPTS = 3
"""Writes of one object per turn: the first, and one after each 409 Conflict."""
RETRY_START_S = 1.0
RETRY_MAX_S = 30.0
CONFLICT = 409
NOT_FOUND = 404
REFUSED = frozenset({400, 422})
"""The API server refuses the status itself: the same write would fail again."""


def now_text() -> str:
    """The current time as a condition's lastTransitionTime (RFC 3339, UTC, seconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Written:
    """What our last write of an object turned `before` (a resourceVersion) into."""

    before: str
    after: str
    status: Document


class GatewayStatusWriter:
    """Queues and writes Gateway API statuses (see the module docstring)."""

    def __init__(
        self,
        *,
        api: client.ApiClient,
        metrics: Metrics,
        controller_name: str,
        is_leader: Callable[[], bool],
        clock: Callable[[], str] = now_text,
    ) -> None:
        self._objects = client.CustomObjectsApi(api)
        self._metrics = metrics
        self._controller = controller_name
        self._is_leader = is_leader
        self._clock = clock
        self._pending: dict[ObjectKey, Target] = {}
        self._busy: set[ObjectKey] = set()
        self._wake = asyncio.Event()
        self._written: dict[ObjectKey, Written] = {}
        self._failures: dict[ObjectKey, int] = {}
        self._versions: dict[str, str] = {}
        """The version each kind was last written at (tried first next time)."""
        self.idle = asyncio.Event()
        """Set while nothing is queued or being written."""
        self.idle.set()

    async def submit(self, statuses: GatewayStatuses, snapshot: Snapshot) -> int:
        """Queue every object whose status differs from `statuses`; how many were queued.
        The comparing runs in a thread (10,000 routes take a tenth of a second or more)."""
        memo = dict(self._written)
        found, held = await asyncio.to_thread(
            differing, statuses, snapshot, memo, controller=self._controller, now=self._clock()
        )
        for key, target in found.items():
            if target is None:
                self._pending.pop(key, None)  # a queued older status is moot now
            else:
                self._pending[key] = target
        for key in memo.keys() - held:  # gone, no longer ours, or the store caught up
            if self._written.get(key) is memo[key]:
                del self._written[key]
        self._wake_up()
        return sum(target is not None for target in found.values())

    def _wake_up(self) -> None:
        if self._pending:
            self.idle.clear()
        self._wake.set()

    async def run(self, *, parallel: int = PARALLEL_WRITES) -> None:
        """Write what is queued, forever."""
        await asyncio.gather(*(self._work() for _ in range(parallel)))

    async def _work(self) -> None:
        while True:
            key = next((key for key in self._pending if key not in self._busy), None)
            if key is None:
                if not self._busy:
                    self.idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            target = self._pending.pop(key)
            self._busy.add(key)
            try:
                if self._is_leader():
                    await self._write(current(target, self._written))
            finally:
                self._busy.discard(key)
                self._wake.set()

    async def _write(self, target: Target) -> None:
        kind, namespace, name = target.key
        status, version = target.status, target.resource_version
        try:
            for _ in range(MAX_ATTEMPTS):
                written = desired_status(
                    target.desired, status, controller=self._controller, now=self._clock()
                )
                if not differs(written, status):
                    break
                try:
                    body = {"metadata": {"resourceVersion": version}, "status": written}
                    answer = await self._call("patch", target.key, body)
                except client.ApiException as error:
                    if error.status != CONFLICT:
                        raise
                    fresh = await self._call("get", target.key)
                    status, version = (
                        fresh.get("status") or {},
                        fresh["metadata"]["resourceVersion"],
                    )
                    continue
                self._written[target.key] = Written(
                    before=version,
                    after=answer["metadata"]["resourceVersion"],
                    status=answer.get("status") or {},
                )
                self._metrics.gateway_status_writes.labels(kind=kind).inc()
                log.info("status of %s %s written", kind, _name(namespace, name))
                break
            else:
                raise client.ApiException(status=CONFLICT, reason="conflicts on every attempt")
        except ApiErrors as error:
            if isinstance(error, client.ApiException) and error.status == NOT_FOUND:
                log.debug("status of %s %s: gone", kind, _name(namespace, name))
                self._failures.pop(target.key, None)
                return
            self._failed(target, error)
            return
        self._failures.pop(target.key, None)

    def _failed(self, target: Target, error: BaseException) -> None:
        kind, namespace, name = target.key
        self._metrics.gateway_status_failures.labels(kind=kind).inc()
        if isinstance(error, client.ApiException) and error.status in REFUSED:
            log.error(
                "status of %s %s refused: %s; written again when it changes",
                kind,
                _name(namespace, name),
                describe_error(error),
            )
            return
        failures = self._failures.get(target.key, 0) + 1
        self._failures[target.key] = failures
        delay = min(RETRY_START_S * 2 ** (failures - 1), RETRY_MAX_S)
        log.warning(
            "status of %s %s: %s; trying again in %.0f s",
            kind,
            _name(namespace, name),
            describe_error(error),
            delay,
        )
        asyncio.get_running_loop().call_later(delay, self._retry, target)

    def _retry(self, target: Target) -> None:
        if target.key not in self._pending:  # else a newer status is queued
            self._pending[target.key] = target
            self._wake_up()

    async def _call(self, verb: str, key: ObjectKey, body: Any = None) -> dict[str, Any]:
        """GET or merge-PATCH an object's status subresource at the version its kind is
        served at (tried in order of preference; 404 at every one means it is gone)."""
        kind, namespace, name = key
        resource = API_RESOURCES[kind]
        known = self._versions.get(kind)
        versions = [known] if known else []
        versions += [version for version in resource.versions if version != known]
        for version in versions:
            where: tuple[str, ...] = (GROUP, version)
            where += (
                (namespace, resource.plural, name)
                if resource.namespaced
                else (
                    resource.plural,
                    name,
                )
            )
            try:
                answer = await self._request(verb, resource.namespaced, where, body)
            except client.ApiException as error:
                if error.status == NOT_FOUND and version != versions[-1]:
                    continue
                raise
            self._versions[kind] = version
            return answer
        raise AssertionError("no version to try")  # every kind has one

    async def _request(
        self, verb: str, namespaced: bool, where: tuple[str, ...], body: Any
    ) -> dict[str, Any]:
        scope = "namespaced" if namespaced else "cluster"
        if verb == "get":
            method = getattr(self._objects, f"get_{scope}_custom_object_status")
            return await call_json(method, *where)
        method = getattr(self._objects, f"patch_{scope}_custom_object_status")
        return await call_json(method, *where, body, _content_type="application/merge-patch+json")


def differing(
    statuses: GatewayStatuses,
    snapshot: Snapshot,
    memo: Mapping[ObjectKey, Written],
    *,
    controller: str,
    now: str,
) -> tuple[dict[ObjectKey, Target | None], set[ObjectKey]]:
    """Each target, or None when its status already says what `statuses` wants; and the
    keys whose memo still stands (the store has not caught up with our write yet)."""
    found: dict[ObjectKey, Target | None] = {}
    standing = set()
    for target in targets(statuses, snapshot):
        stands = target.key in memo and memo[target.key].before == target.resource_version
        if stands:
            standing.add(target.key)
        status = current(target, memo).status
        written = desired_status(target.desired, status, controller=controller, now=now)
        found[target.key] = target if differs(written, status) else None
    return found, standing


def current(target: Target, memo: Mapping[ObjectKey, Written]) -> Target:
    """The target as it stands: the store's view, or what our own write made of that view
    when the watch has not brought the write back yet."""
    written = memo.get(target.key)
    if written is None or written.before != target.resource_version:
        return target
    return replace(target, status=written.status, resource_version=written.after)


def _name(namespace: str, name: str) -> str:
    return f"{namespace}/{name}" if namespace else name
