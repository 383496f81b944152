"""Kubernetes mode: one informer per kind (and namespace) filling the store.

Each informer lists, marks itself listed, then watches from the list's
resourceVersion with bookmarks. A watch that ends is resumed from the last
resourceVersion seen; one that fails (broken connection, API server down or
refusing) is resumed after a backoff: a blip costs no relist. Only 410 Gone (the
version has expired, as after an API server restart) means a relist. Objects are
read as raw JSON dicts: kubernetes-asyncio's generated models are several times
slower to decode.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from kubernetes_asyncio import client

from ingress_ctl.kube.client import ApiErrors, call_json, describe_error, read_json
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.objects import KubeObject, ObjectError, describe, object_key, parse_object
from ingress_ctl.model.problems import Problem
from ingress_ctl.store import ObjectKey, Store

log = logging.getLogger(__name__)

WATCH_TIMEOUT_S = 300
"""The API server ends each watch after this long; the informer resumes it."""
WATCH_CALL_TIMEOUT = aiohttp.ClientTimeout(sock_connect=10, sock_read=WATCH_TIMEOUT_S + 30)
"""A watch that stays silent past the server's own timeout is a dead connection."""
BACKOFF_START_S = 0.2
BACKOFF_MAX_S = 5.0
GONE = 410
LIST_PAGE = 500
"""Objects per list page: a list of 10,000 EndpointSlices is never one body in memory."""


@dataclass(frozen=True)
class Resource:
    """How to list one kind with kubernetes-asyncio: the API class and its methods."""

    kind: str
    api: Callable[[client.ApiClient], Any]
    all_namespaces: str
    one_namespace: str | None
    """None for cluster-scoped kinds."""


INGRESS_CLASSES = Resource("IngressClass", client.NetworkingV1Api, "list_ingress_class", None)
SERVICES = Resource(
    "Service", client.CoreV1Api, "list_service_for_all_namespaces", "list_namespaced_service"
)
NAMESPACED_RESOURCES = (
    Resource(
        "Ingress", client.NetworkingV1Api, "list_ingress_for_all_namespaces",
        "list_namespaced_ingress",
    ),
    SERVICES,
    Resource(
        "EndpointSlice", client.DiscoveryV1Api, "list_endpoint_slice_for_all_namespaces",
        "list_namespaced_endpoint_slice",
    ),
    Resource("Secret", client.CoreV1Api, "list_secret_for_all_namespaces", "list_namespaced_secret"),
    Resource(
        "ConfigMap", client.CoreV1Api, "list_config_map_for_all_namespaces",
        "list_namespaced_config_map",
    ),
)  # fmt: skip


class Gone(Exception):
    """The watch's resourceVersion is too old (410): relist."""


class Backoff:
    """Growing, jittered delays between attempts (so informers never retry in lockstep)."""

    def __init__(self) -> None:
        self._delay = BACKOFF_START_S

    async def wait(self) -> None:
        await asyncio.sleep(self._delay * random.uniform(1.0, 1.5))
        self._delay = min(self._delay * 2, BACKOFF_MAX_S)


ListCall = Callable[..., Awaitable[aiohttp.ClientResponse]]


class Informer:
    """Lists and watches one kind, in one namespace or in all, into the store."""

    def __init__(
        self,
        *,
        api: client.ApiClient,
        resource: Resource,
        store: Store,
        metrics: Metrics,
        namespace: str | None = None,
        field_selector: str | None = None,
        page_size: int = LIST_PAGE,
    ) -> None:
        self.resource = resource
        self._page_size = page_size
        self.namespace = namespace if resource.one_namespace is not None else None
        self.listed = asyncio.Event()
        self._store = store
        self._metrics = metrics
        self._selector = {"field_selector": field_selector} if field_selector else {}
        self._version = ""
        """The last resourceVersion seen: where a watch resumes."""
        self._call = self._method(api)

    def _method(self, api: client.ApiClient) -> ListCall:
        target = self.resource.api(api)
        if self.namespace is None:
            method: ListCall = getattr(target, self.resource.all_namespaces)
            return method
        assert self.resource.one_namespace is not None
        bound = getattr(target, self.resource.one_namespace)
        namespace = self.namespace

        async def in_namespace(**kwargs: Any) -> aiohttp.ClientResponse:
            response: aiohttp.ClientResponse = await bound(namespace, **kwargs)
            return response

        return in_namespace

    @property
    def name(self) -> str:
        return f"{self.resource.kind}@{self.namespace or '*'}"

    async def run(self) -> None:
        """List, then watch forever; relist whenever the watch expires."""
        reason = "start"
        while True:
            await self._relist(reason)
            try:
                await self._follow()
            except Gone:
                log.info("%s: watch expired (410 Gone); relisting", self.name)
                reason = "expired"

    async def _relist(self, reason: str) -> None:
        backoff = Backoff()
        while True:
            try:
                await self._list(reason)
                return
            except ApiErrors as error:
                log.warning("%s: list failed: %s", self.name, describe_error(error))
                await backoff.wait()
                reason = "error"

    async def _follow(self) -> None:
        """Watch from the last version seen, resuming after failures, until 410 Gone."""
        backoff = Backoff()
        while True:
            try:
                await self._watch()
                backoff = Backoff()
            except ApiErrors as error:
                log.warning("%s: watch failed: %s; resuming", self.name, describe_error(error))
                await backoff.wait()

    async def _list(self, reason: str) -> None:
        """List in pages (one consistent snapshot: every page has the list's version; an
        expired continue token fails the list, which starts again)."""
        objects: list[KubeObject] = []
        rejected: list[tuple[ObjectKey, list[Problem]]] = []
        token: str | None = None
        while True:
            pages = {"_continue": token} if token else {}
            body = await call_json(self._call, limit=self._page_size, **pages, **self._selector)
            self._parse_page(body.get("items", ()), objects, rejected)
            token = body["metadata"].get("continue")
            if not token:
                break
        self._store.replace_kind(
            self.resource.kind, objects, namespace=self.namespace, rejected=rejected
        )
        self._metrics.lists.labels(kind=self.resource.kind, reason=reason).inc()
        self.listed.set()
        self._version = str(body["metadata"]["resourceVersion"])
        log.debug("%s: listed %d at %s", self.name, len(objects), self._version)

    def _parse_page(
        self,
        items: list[dict[str, Any]],
        objects: list[KubeObject],
        rejected: list[tuple[ObjectKey, list[Problem]]],
    ) -> None:
        for raw in items:
            raw.setdefault("kind", self.resource.kind)
            parsed = _parse(raw)
            if isinstance(parsed, list):
                rejected.append((object_key(describe(raw)), parsed))
            elif parsed is not None:
                objects.append(parsed)

    async def _watch(self) -> None:
        response = await self._call(
            watch=True,
            resource_version=self._version,
            allow_watch_bookmarks=True,
            timeout_seconds=WATCH_TIMEOUT_S,
            _preload_content=False,
            _request_timeout=WATCH_CALL_TIMEOUT,
            **self._selector,
        )
        if response.status != 200:
            await _read_failure(response)
        async with response:
            async for event in _events(response):
                self._version = self._apply(event) or self._version

    def _apply(self, event: dict[str, Any]) -> str | None:
        """Apply one watch event to the store; the resourceVersion it carries."""
        kind, raw = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            if raw.get("code") == GONE:
                raise Gone()
            raise client.ApiException(status=raw.get("code", 0), reason=raw.get("message", ""))
        version = raw.get("metadata", {}).get("resourceVersion")
        if kind == "BOOKMARK":
            return str(version) if version else None
        raw.setdefault("kind", self.resource.kind)
        if kind == "DELETED":
            self._store.delete(object_key(describe(raw)))
        else:
            parsed = _parse(raw)
            if isinstance(parsed, list):
                self._store.reject(object_key(describe(raw)), parsed)
            elif parsed is not None:
                self._store.upsert(parsed)
        return str(version) if version else None


def informers(
    *, api: client.ApiClient, store: Store, metrics: Metrics, namespaces: Sequence[str]
) -> list[Informer]:
    """IngressClasses once, and every namespaced kind in each namespace (all when none)."""
    scopes: Sequence[str | None] = namespaces or [None]
    found = [Informer(api=api, resource=INGRESS_CLASSES, store=store, metrics=metrics)]
    for namespace in scopes:
        found.extend(
            Informer(api=api, resource=resource, store=store, metrics=metrics, namespace=namespace)
            for resource in NAMESPACED_RESOURCES
        )
    return found


def _parse(raw: dict[str, Any]) -> KubeObject | list[Problem] | None:
    """The parsed object, or the list of problems that made it unreadable."""
    try:
        return parse_object(raw)
    except ObjectError as error:
        source = describe(raw)
        return [Problem(source=source, field=where, reason=why) for where, why in error.fields]


async def _read_failure(response: aiohttp.ClientResponse) -> None:
    """Raise for a watch the server refused: Gone for 410, else ApiException."""
    try:
        await read_json(response)
    except client.ApiException as error:
        if error.status == GONE:
            raise Gone() from None
        raise


async def _events(response: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
    """Watch events, one JSON object per line, whatever the line length."""
    pending = b""
    async for chunk in response.content.iter_any():
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.strip():
                yield json.loads(line)
