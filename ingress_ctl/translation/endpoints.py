"""The fast pass: new servers for the few Services whose endpoints changed.

A full translation reads every object; when only EndpointSlices or Endpoints
changed, `EndpointRefresher` recomputes the servers of just the Services they
belong to, with the same functions a full translation uses, and patches them
into the routing model. It keeps, from the last full translation, where each
Service's backends sit in the model and which slices each Service has, so a
pass costs the same whatever the cluster's size. A full translation of the
same objects gives the same model (a property test checks it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace

from ingress_ctl.model.objects import Endpoints, EndpointSlice, Service
from ingress_ctl.model.routing import Backend, Routing
from ingress_ctl.model.snapshot import NamespacedName, Snapshot
from ingress_ctl.translation.backends import SERVICE_NAME_LABEL, Index, endpoint_servers

ObjectKey = tuple[str, str, str]


class EndpointRefresher:
    """Owns the routing model between full translations, for endpoint-only changes."""

    def __init__(self, routing: Routing, snapshot: Snapshot) -> None:
        self.routing = routing
        self._positions: dict[NamespacedName, list[int]] = defaultdict(list)
        for position, backend in enumerate(routing.backends):
            if backend.service is not None and not backend.resolve:
                self._positions[(backend.service.namespace, backend.service.name)].append(position)
        self._owner: dict[NamespacedName, NamespacedName] = {}
        self._slices: dict[NamespacedName, dict[str, EndpointSlice]] = defaultdict(dict)
        for (namespace, name), eps in snapshot.objects(EndpointSlice).items():
            self._place(namespace, name, eps)

    def _place(self, namespace: str, name: str, eps: EndpointSlice | None) -> set[NamespacedName]:
        """Move one slice to its (new) Service; the Services whose slices changed."""
        touched = set()
        old = self._owner.pop((namespace, name), None)
        if old is not None:
            self._slices[old].pop(name, None)
            touched.add(old)
        service = eps.metadata.labels.get(SERVICE_NAME_LABEL) if eps is not None else None
        if eps is not None and service:
            self._owner[(namespace, name)] = (namespace, service)
            self._slices[(namespace, service)][name] = eps
            touched.add((namespace, service))
        return touched

    def refresh(self, snapshot: Snapshot, changed: Iterable[ObjectKey]) -> list[Backend]:
        """Take these changed EndpointSlices/Endpoints from snapshot; the backends whose
        servers changed (self.routing is updated)."""
        services: set[NamespacedName] = set()
        slices = snapshot.objects(EndpointSlice)
        for kind, namespace, name in changed:
            if kind == "Endpoints":
                services.add((namespace, name))
            else:
                services |= self._place(namespace, name, slices.get((namespace, name)))
        index = Index(
            services=snapshot.objects(Service),
            slices={
                service: [self._slices[service][n] for n in sorted(self._slices[service])]
                for service in services
            },
            endpoints=snapshot.objects(Endpoints),
        )
        backends = list(self.routing.backends)
        updated = []
        for service in services:
            for position in self._positions.get(service, ()):
                backend = backends[position]
                assert backend.service is not None
                servers = endpoint_servers(backend.service, index=index)
                if servers != backend.servers:
                    backends[position] = replace(backend, servers=servers)
                    updated.append(backends[position])
        if updated:
            self.routing = self.routing.model_copy(update={"backends": tuple(backends)})
        return updated
