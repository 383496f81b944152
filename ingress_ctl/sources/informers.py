"""Kubernetes mode: one informer per kind (and namespace) filling the store.

Each informer lists, marks itself listed, then watches from the list's
resourceVersion with bookmarks. A watch that ends is resumed from the last
resourceVersion seen; one that fails (broken connection, API server down or
refusing) is resumed after a backoff: a blip costs no relist. Only 410 Gone (the
version has expired, as after an API server restart) means a relist. Objects are
read as raw JSON dicts: kubernetes-asyncio's generated models are several times
slower to decode.

The Gateway API kinds (custom resources, each read at the first version of its
`API_RESOURCES` entry that the server serves) and Namespaces are optional: a
cluster without the Gateway API CRDs, or a ClusterRole that does not grant them,
must still serve Ingresses. A kind the server does not serve (404) or does not
let us read (403) counts as listed and empty, is logged once, and is looked for
again every ABSENT_RETRY_S seconds: installing the CRDs later needs no restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import aiohttp
from kubernetes_asyncio import client

from ingress_ctl.kube.client import ApiErrors, call_json, describe_error, read_json
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.gateway_api import API_RESOURCES, GROUP
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
ABSENT = frozenset({403, 404})
"""Answers that mean an optional kind cannot be read here (not served, or not granted)."""
ABSENT_RETRY_S = 10.0
"""How often an optional kind that is not served (or not granted) is looked for again."""
LIST_PAGE = 500
"""Objects per list page: a list of 10,000 EndpointSlices is never one body in memory."""


ListCall = Callable[..., Awaitable[aiohttp.ClientResponse]]


@dataclass(frozen=True)
class Resource:
    """How to list one built-in kind with kubernetes-asyncio: the API class and its methods."""

    kind: str
    api: Callable[[client.ApiClient], Any]
    all_namespaces: str
    one_namespace: str | None
    """None for cluster-scoped kinds."""
    optional: bool = False
    """Not served or not granted (see ABSENT) means none, rather than an error to retry."""

    @property
    def namespaced(self) -> bool:
        return self.one_namespace is not None

    def calls(self, api: client.ApiClient, namespace: str | None) -> tuple[ListCall, ...]:
        """The list call, in one namespace or in all."""
        target = self.api(api)
        if namespace is None:
            return (getattr(target, self.all_namespaces),)
        assert self.one_namespace is not None
        return (partial(getattr(target, self.one_namespace), namespace),)


@dataclass(frozen=True)
class CustomResource:
    """How to list one custom kind: its group, plural and versions (preferred first)."""

    kind: str
    group: str
    plural: str
    versions: tuple[str, ...]
    namespaced: bool
    optional: bool = True

    def calls(self, api: client.ApiClient, namespace: str | None) -> tuple[ListCall, ...]:
        """A list call per version, in the order they are tried."""
        objects = client.CustomObjectsApi(api)
        if namespace is None:
            return tuple(
                partial(objects.list_cluster_custom_object, self.group, version, self.plural)
                for version in self.versions
            )
        return tuple(
            partial(
                objects.list_namespaced_custom_object, self.group, version, namespace, self.plural
            )
            for version in self.versions
        )


INGRESS_CLASSES = Resource("IngressClass", client.NetworkingV1Api, "list_ingress_class", None)
NAMESPACES = Resource("Namespace", client.CoreV1Api, "list_namespace", None, optional=True)
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
GATEWAY_RESOURCES = tuple(
    CustomResource(kind, GROUP, found.plural, found.versions, found.namespaced)
    for kind, found in API_RESOURCES.items()
)


class Gone(Exception):
    """The watch's resourceVersion is too old (410): relist."""


class Absent(Exception):
    """An optional kind cannot be read here (see ABSENT): none, until it can."""


class Backoff:
    """Growing, jittered delays between attempts (so informers never retry in lockstep)."""

    def __init__(self) -> None:
        self._delay = BACKOFF_START_S

    async def wait(self) -> None:
        await asyncio.sleep(self._delay * random.uniform(1.0, 1.5))
        self._delay = min(self._delay * 2, BACKOFF_MAX_S)


class Informer:
    """Lists and watches one kind, in one namespace or in all, into the store."""

    def __init__(
        self,
        *,
        api: client.ApiClient,
        resource: Resource | CustomResource,
        store: Store,
        metrics: Metrics,
        namespace: str | None = None,
        field_selector: str | None = None,
        page_size: int = LIST_PAGE,
    ) -> None:
        self.resource = resource
        self._page_size = page_size
        self.namespace = namespace if resource.namespaced else None
        self.listed = asyncio.Event()
        self._store = store
        self._metrics = metrics
        self._selector = {"field_selector": field_selector} if field_selector else {}
        self._version = ""
        """The last resourceVersion seen: where a watch resumes."""
        self._calls = resource.calls(api, self.namespace)
        self._call = self._calls[0]
        """The list call of the version the server serves (the first that answered)."""
        self.absent: str | None = None
        """Why an optional kind is not read now (logged when it starts and ends)."""

    @property
    def name(self) -> str:
        return f"{self.resource.kind}@{self.namespace or '*'}"

    async def run(self) -> None:
        """List, then watch forever; relist whenever the watch expires. An optional kind
        that cannot be read is looked for again every ABSENT_RETRY_S."""
        reason = "start"
        while True:
            if not await self._relist(reason):
                await asyncio.sleep(ABSENT_RETRY_S)
                continue
            try:
                await self._follow()
            except Gone:
                log.info("%s: watch expired (410 Gone); relisting", self.name)
                reason = "expired"
            except Absent as why:  # no longer served (or watching is not granted)
                self._mark_absent(str(why))
                await asyncio.sleep(ABSENT_RETRY_S)
                reason = "start"

    async def _relist(self, reason: str) -> bool:
        """List until it succeeds; False if the kind is absent (then stored as none)."""
        backoff = Backoff()
        while True:
            try:
                await self._list(reason)
                return True
            except Absent as why:
                self._mark_absent(str(why))
                return False
            except ApiErrors as error:
                log.warning("%s: list failed: %s", self.name, describe_error(error))
                await backoff.wait()
                reason = "error"

    def _mark_absent(self, why: str) -> None:
        if self.absent is None:
            log.info(
                "%s: %s; none until it is, looked for again every %.0f s",
                self.name,
                why,
                ABSENT_RETRY_S,
            )
        self.absent = why
        self._store.replace_kind(self.resource.kind, (), namespace=self.namespace)
        self.listed.set()

    def _absence(self, error: BaseException) -> Absent | None:
        """What a failed call means: Absent for an optional kind, else None (a failure)."""
        if not (self.resource.optional and isinstance(error, client.ApiException)):
            return None
        if error.status not in ABSENT:
            return None
        served = "not served by the API server" if error.status == 404 else "not granted"
        return Absent(f"{served} (HTTP {error.status}: {error.reason})")

    async def _follow(self) -> None:
        """Watch from the last version seen, resuming after failures, until 410 Gone (or
        until an optional kind is no longer served)."""
        backoff = Backoff()
        while True:
            try:
                await self._watch()
                backoff = Backoff()
            except ApiErrors as error:
                absent = self._absence(error)
                if absent is not None:
                    raise absent from None
                log.warning("%s: watch failed: %s; resuming", self.name, describe_error(error))
                await backoff.wait()

    async def _list(self, reason: str) -> None:
        """List in pages (one consistent snapshot: every page has the list's version; an
        expired continue token fails the list, which starts again)."""
        objects: list[KubeObject] = []
        rejected: list[tuple[ObjectKey, list[Problem]]] = []
        body = await self._first_page()
        while True:
            self._parse_page(body.get("items", ()), objects, rejected)
            token = body["metadata"].get("continue")
            if not token:
                break
            body = await self._page(token)
        self._store.replace_kind(
            self.resource.kind, objects, namespace=self.namespace, rejected=rejected
        )
        self._metrics.lists.labels(kind=self.resource.kind, reason=reason).inc()
        self.listed.set()
        self._version = str(body["metadata"]["resourceVersion"])
        if self.absent is not None:
            log.info("%s: now readable; %d listed", self.name, len(objects))
            self.absent = None
        log.debug("%s: listed %d at %s", self.name, len(objects), self._version)

    async def _first_page(self) -> dict[str, Any]:
        """The first page, from the first version the server serves (which later calls use)."""
        absent: Absent | None = None
        for call in self._calls:
            self._call = call
            try:
                return await self._page(None)
            except client.ApiException as error:
                absent = self._absence(error)
                if absent is None:
                    raise
                if error.status != 404:
                    break  # not granted: no other version would be
        assert absent is not None
        raise absent

    async def _page(self, token: str | None) -> dict[str, Any]:
        pages = {"_continue": token} if token else {}
        return await call_json(self._call, limit=self._page_size, **pages, **self._selector)

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
    """Each cluster-scoped kind once, and every namespaced kind in each namespace (all when
    none): the Ingress kinds, Namespaces and the Gateway API's."""
    scopes: Sequence[str | None] = namespaces or [None]
    kinds: tuple[Resource | CustomResource, ...] = (
        INGRESS_CLASSES,
        NAMESPACES,
        *NAMESPACED_RESOURCES,
        *GATEWAY_RESOURCES,
    )
    found = [
        Informer(api=api, resource=resource, store=store, metrics=metrics)
        for resource in kinds
        if not resource.namespaced
    ]
    for namespace in scopes:
        found.extend(
            Informer(api=api, resource=resource, store=store, metrics=metrics, namespace=namespace)
            for resource in kinds
            if resource.namespaced
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
