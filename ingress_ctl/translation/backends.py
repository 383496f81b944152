"""Backends: a Service port and its endpoints, as a routing Backend.

Endpoints come from every EndpointSlice labelled with the Service's name, or,
when a Service has none, from its legacy Endpoints object. Ready endpoints
serve; serving-but-terminating ones only when nothing is ready. A backend
sends the PROXY protocol when its Service's annotation asks for it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Set
from dataclasses import dataclass, field
from functools import partial
from itertools import islice, repeat
from operator import attrgetter, eq

from ingress_ctl.haproxy import naming
from ingress_ctl.model.matching import parse_host
from ingress_ctl.model.objects import (
    EndpointPort,
    Endpoints,
    EndpointSlice,
    Service,
    ServicePort,
)
from ingress_ctl.model.routing import Backend, ProxyProtocol, Server, ServiceRef
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import NamespacedName, Resolved, Snapshot
from ingress_ctl.translation.makers import new_backend

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
_SERVICE_DNS = re.compile(r"^(?:[a-z0-9-]+\.)+(?P<namespace>[a-z0-9-]+)\.(?:svc|pod)(?:\..*)?$")
"""A cluster DNS name of a Service (`<service>.<namespace>.svc[.<cluster domain>]`, also
`<host>.<service>.<namespace>.svc...`) or a pod (`<a-b-c-d>.<namespace>.pod...`)."""


@dataclass(frozen=True)
class ExternalNames:
    """Which ExternalName Services may be served, and what their names resolve to."""

    resolved: Resolved = field(default_factory=dict)
    allow_all: bool = False
    """--allow-external-name: every namespace, and targets in other namespaces."""
    namespaces: frozenset[str] = frozenset()
    """--allow-external-name-namespace: these namespaces, targets outside other namespaces."""

    @classmethod
    def of(cls, snapshot: Snapshot, settings: Settings) -> ExternalNames:
        return cls(
            resolved=snapshot.resolved,
            allow_all=settings.allow_external_name,
            namespaces=frozenset(settings.allow_external_name_namespaces),
        )


PortKey = tuple[str, str, int | str]
"""A Service port (namespace, name, port) as the key of `Index.resolved` and `Index.totals`:
a tuple hashes without a Python call, a ServiceRef with one."""


@dataclass(frozen=True)
class Index:
    """Services and their endpoint objects, indexed for lookups by Service."""

    services: Mapping[NamespacedName, Service]
    slices: Mapping[NamespacedName, list[EndpointSlice]]
    endpoints: Mapping[NamespacedName, Endpoints]
    external: ExternalNames = ExternalNames()
    resolved: dict[PortKey, tuple[Backend, str | None]] = field(default_factory=dict)
    """Backends already resolved in this translation (many paths share one Service)."""
    totals: dict[PortKey, int] = field(default_factory=dict)
    """Every endpoint of the Service ports resolved so far, ready or not (counted with their
    servers: each report of an Ingress names them)."""
    send_proxy: dict[NamespacedName, ProxyProtocol] = field(default_factory=dict)
    """The PROXY protocol of the Services that ask for one (read once, with their problems)."""

    @classmethod
    def of(
        cls,
        snapshot: Snapshot,
        *,
        only: Set[NamespacedName] | None = None,
        external: ExternalNames | None = None,
    ) -> Index:
        """Index a snapshot's Services, EndpointSlices and Endpoints (the slices of `only`
        these Services, when given)."""
        slices: dict[NamespacedName, list[EndpointSlice]] = defaultdict(list)
        for (namespace, _), eps in snapshot.objects(EndpointSlice).items():
            service = eps.metadata.labels.get(SERVICE_NAME_LABEL)
            if service and (only is None or (namespace, service) in only):
                slices[(namespace, service)].append(eps)
        for found in slices.values():
            if len(found) > 1:  # most Services have one slice
                found.sort(key=attrgetter("metadata.name"))
        return cls(
            services=snapshot.objects(Service),
            slices=slices,
            endpoints=snapshot.objects(Endpoints),
            external=external or ExternalNames(),
        )


def endpoint_servers(ref: ServiceRef, *, index: Index) -> tuple[Server, ...]:
    """The servers of a Service port (none if the Service or port is missing)."""
    try:
        port, service = _service_port(ref, index=index)
    except BackendError:
        return ()
    return _servers(service, port, index=index)[0]


def endpoint_total(ref: ServiceRef, *, index: Index) -> int:
    """Every endpoint of a Service port, ready or not (0 if the Service or port is missing);
    an ExternalName's addresses. Counted when the port is resolved."""
    key = (ref.namespace, ref.name, ref.port)
    total = index.totals.get(key)
    if total is None:
        resolve_backend(ref, index=index)
        total = index.totals[key]
    return total


class BackendError(ValueError):
    """The Service or its port is missing: the backend exists but has no servers."""


def resolve_backend(ref: ServiceRef, *, index: Index) -> tuple[Backend, str | None]:
    """The Backend for a Service port, and the reason it has no servers, if any."""
    key = (ref.namespace, ref.name, ref.port)
    found = index.resolved.get(key)
    if found is None:
        backend, missing, index.totals[key] = _resolve(ref, index=index)
        found = index.resolved[key] = (backend, missing)
    return found


def _resolve(ref: ServiceRef, *, index: Index) -> tuple[Backend, str | None, int]:
    """The backend of a Service port, why it has no server, and its endpoints counted."""
    name = naming.backend_name(ref)
    try:
        port, service = _service_port(ref, index=index)
        external = service.spec.type == "ExternalName"
        if external:
            servers = _external(service, port, index.external)
            total = len(servers)
        else:
            servers, total = _servers(service, port, index=index)
    except BackendError as error:
        return Backend(name=name, service=ref), str(error), 0
    proxy = index.send_proxy.get((ref.namespace, ref.name))
    backend = new_backend(
        name=name, service=ref, servers=servers, resolve=external, send_proxy=proxy
    )
    return backend, None, total


def _service_port(ref: ServiceRef, *, index: Index) -> tuple[ServicePort, Service]:
    service = index.services.get((ref.namespace, ref.name))
    if service is None:
        raise BackendError(f"Service {ref.namespace}/{ref.name} not found")
    for port in service.spec.ports:
        if port.port == ref.port or (port.name is not None and port.name == ref.port):
            return port, service
    if service.spec.type == "ExternalName" and not service.spec.ports and isinstance(ref.port, int):
        # ExternalName Services usually declare no ports: the Ingress's number is the port.
        return ServicePort(port=ref.port), service
    raise BackendError(f"Service {ref.namespace}/{ref.name} has no port {ref.port!r}")


def _external(service: Service, port: ServicePort, policy: ExternalNames) -> tuple[Server, ...]:
    """The servers of an ExternalName Service: the addresses its name resolved to, each
    checked by `resolving` (HAProxy never resolves a tenant's name itself)."""
    ref = service.metadata
    where = f"ExternalName of Service {ref.namespace}/{ref.name}"
    try:
        host = parse_host(service.spec.external_name or "")
    except ValueError as error:
        raise BackendError(f"{where}: {error}") from None
    if host.startswith("*."):
        raise BackendError(f"ExternalName {host!r} is a wildcard")
    if not policy.allow_all and ref.namespace not in policy.namespaces:
        raise BackendError(
            f"{where}: ExternalName Services are not served (allow them with "
            f"--allow-external-name or --allow-external-name-namespace {ref.namespace})"
        )
    other = _SERVICE_DNS.fullmatch(host)
    if other is not None and other["namespace"] != ref.namespace and not policy.allow_all:
        raise BackendError(
            f"{where}: {host!r} is a Service of namespace {other['namespace']}; reaching "
            "another namespace needs --allow-external-name"
        )
    found = policy.resolved.get(host)
    if found is None:
        raise BackendError(f"{where}: {host!r} is not resolved yet")
    if isinstance(found, str):
        raise BackendError(f"{where}: {host!r} {found}")
    target = port.target_port if isinstance(port.target_port, int) else port.port
    return tuple(Server(address=address, port=target) for address in found)


Addresses = list[tuple[int, Collection[str]]]
"""Endpoint addresses with the port they serve on, as each slice (or subset) lists them: one
entry for almost every Service; a port or an address may repeat across entries."""
EndpointSets = tuple[Addresses, Addresses, int]
"""The addresses of a Service port's ready endpoints, of its serving, terminating ones, and
the count of every endpoint, ready or not."""

_WEIGHT: int = Server._field_defaults["weight"]
_server = partial(tuple.__new__, Server)
"""The Server of an (address, port, weight) triple, as `Server._make` makes it but without a
Python call each (a pass makes 100,000 of them)."""


def _servers(
    service: Service, port: ServicePort, *, index: Index
) -> tuple[tuple[Server, ...], int]:
    """The servers of a Service port, sorted: its ready endpoints, else its serving,
    terminating ones; and the count of every endpoint, ready or not."""
    key = (service.metadata.namespace, service.metadata.name)
    slices = index.slices.get(key)
    if slices:
        ready, fallback, total = _slice_servers(slices, port)
    else:
        legacy = index.endpoints.get(key)
        ready, fallback, total = _legacy_servers(legacy, port) if legacy else ([], [], 0)
    return _sorted_servers(ready or fallback), total


def _sorted_servers(found: Addresses) -> tuple[Server, ...]:
    """The servers of these addresses, each (address, port) once, sorted by (address, port,
    weight). The addresses of a single entry (almost every Service: one slice) are sorted as
    strings, the port added as each Server is made: the same order, without a triple to
    make, hash and compare per endpoint (100,000 a pass at scale); and, sorted, they are
    each once unless two neighbours are equal (no set to hash them into)."""
    if len(found) == 1:
        [(port, addresses)] = found
        ordered = sorted(addresses)
        if any(map(eq, ordered, islice(ordered, 1, None))):  # an address twice (rare): once
            ordered = sorted(set(ordered))
        triples: Iterable[tuple[str, int, int]] = zip(ordered, repeat(port), repeat(_WEIGHT))
    else:
        triples = sorted(
            {(address, port, _WEIGHT) for port, addresses in found for address in addresses}
        )
    return tuple(map(_server, triples))


def _target_port(ports: tuple[EndpointPort, ...], port: ServicePort) -> int | None:
    """The endpoint port of a Service port: by name, else by number."""
    wanted = port.name or ""
    for candidate in ports:
        if (candidate.name or "") == wanted and candidate.port is not None:
            return candidate.port
    number = port.target_port if isinstance(port.target_port, int) else port.port
    if port.target_port is None or isinstance(port.target_port, int):
        for candidate in ports:
            if candidate.port == number:
                return number
    return None


def _slice_servers(slices: list[EndpointSlice], port: ServicePort) -> EndpointSets:
    ready: Addresses = []
    terminating: Addresses = []
    total = 0
    for eps in slices:
        if eps.address_type not in ("IPv4", "IPv6"):
            continue
        target = _target_port(eps.ports, port)
        if target is None:
            continue
        if eps.ready:  # an entry without addresses stays out: none ready serves terminating ones
            ready.append((target, eps.ready))
        if eps.terminating:
            terminating.append((target, eps.terminating))
        total += len(eps.ready) + len(eps.terminating) + len(eps.not_ready)
    return ready, terminating, total


def _legacy_servers(endpoints: Endpoints, port: ServicePort) -> EndpointSets:
    ready: Addresses = []
    total = 0
    for subset in endpoints.subsets:
        target = _target_port(subset.ports, port)
        if target is not None:
            if subset.addresses:
                ready.append((target, [address.ip for address in subset.addresses]))
            total += len(subset.addresses) + len(subset.not_ready_addresses)
    return ready, [], total
