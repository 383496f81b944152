"""References across objects: ReferenceGrants, and backendRefs resolved into backends.

A reference into another namespace holds only when a ReferenceGrant in the
target's namespace allows the referring kind from the referring namespace to
the target kind (and name, when the grant names one). A Service port that a
BackendTLSPolicy applies to is reached over TLS (`backend_tls`). A backendRef that cannot
be used (not a Service, not granted, missing Service or port) makes the route's
ResolvedRefs False and its share of requests answers 500; the shares of the
usable ones go to their backends, in proportion to their weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ingress_ctl.haproxy import naming
from ingress_ctl.model.gateway_api import GROUP
from ingress_ctl.model.gateway_objects import BackendRef, ReferenceGrant
from ingress_ctl.model.gateways import Split, WeightedBackend
from ingress_ctl.model.policies import Policy, Protocol, Upstream
from ingress_ctl.model.routing import Backend, Mode, ObjectRef, ServiceRef
from ingress_ctl.model.snapshot import NamespacedName
from ingress_ctl.translation.fold import Fold
from ingress_ctl.translation.gateway.backend_tls import BackendTLS

PLAIN = Policy()
ERROR_BACKEND = Backend(name=naming.GATEWAY_ERROR_BACKEND, status=500)
H2C_PROTOCOLS = frozenset({"kubernetes.io/h2c"})
"""Service port appProtocols that ask for cleartext HTTP/2 (prior knowledge)."""


@dataclass(frozen=True)
class Grants:
    """The ReferenceGrants of a snapshot, by namespace."""

    grants: Mapping[NamespacedName, ReferenceGrant]

    def allows(self, from_kind: str, from_ns: str, to_kind: str, to_ns: str, to_name: str) -> bool:
        """Whether a `from_kind` in `from_ns` may refer to `to_kind` `to_ns/to_name` (a core
        kind: Service or Secret)."""
        if from_ns == to_ns:
            return True
        for (namespace, _), grant in self.grants.items():
            if namespace != to_ns:
                continue
            sources = grant.spec.from_
            if not any(
                item.group == GROUP and item.kind == from_kind and item.namespace == from_ns
                for item in sources
            ):
                continue
            if any(
                item.group in ("", "core") and item.kind == to_kind and item.name in (None, to_name)
                for item in grant.spec.to
            ):
                return True
        return False


@dataclass(frozen=True, slots=True)
class Unresolved:
    """Why a backendRef cannot be used: a ResolvedRefs reason and a message."""

    reason: str
    message: str


@dataclass
class Backends:
    """Resolves backendRefs into backends and weighted splits, for every route."""

    fold: Fold
    grants: Grants
    tls: BackendTLS = field(default_factory=BackendTLS)
    splits: dict[str, Split] = field(default_factory=dict)
    tls_used: dict[ObjectRef, dict[NamespacedName, None]] = field(default_factory=dict)
    """The BackendTLSPolicies each route's backends use."""
    client_certificate: str | None = None
    """The certificate file presented to TLS pods by the Gateways resolved for now."""

    def resolve(
        self,
        route: ObjectRef,
        ref: BackendRef,
        where: str,
        *,
        tcp: bool = False,
        policy: Policy = PLAIN,
    ) -> str | Unresolved:
        """The backend a backendRef reaches (with `policy`), or why it cannot be used."""
        if ref.group not in ("", "core") or ref.kind != "Service":
            return Unresolved(
                "InvalidKind", f"{where}: {ref.group or 'core'}/{ref.kind} is not a Service"
            )
        namespace = ref.namespace or route.namespace
        if not self.grants.allows(route.kind, route.namespace, "Service", namespace, ref.name):
            message = f"{where}: no ReferenceGrant in {namespace} allows Service {ref.name}"
            return Unresolved("RefNotPermitted", message)
        service = self.fold.index.services.get((namespace, ref.name))
        if service is None:
            return Unresolved(
                "BackendNotFound", f"{where}: Service {namespace}/{ref.name} not found"
            )
        port = next((item for item in service.spec.ports if item.port == ref.port), None)
        if port is None:
            message = f"{where}: Service {namespace}/{ref.name} has no port {ref.port}"
            return Unresolved("BackendNotFound", message)
        service_ref = ServiceRef(namespace=namespace, name=ref.name, port=ref.port or 0)
        if tcp:
            backend, missing = self.fold.service_backend(
                service_ref, tcp_name=naming.passthrough_backend_name(service_ref)
            )
        else:
            tls_policies, upstream = self.tls.applying(namespace, ref.name, port.name)
            self.tls_used.setdefault(route, {}).update(dict.fromkeys(tls_policies))
            if upstream is not None:
                update = {"client_certificate": self.client_certificate}
                policy = with_upstream(policy, upstream.model_copy(update=update))
            elif port.app_protocol in H2C_PROTOCOLS:
                policy = h2c(policy)
            backend, missing = self.fold.service_backend(service_ref, policy=policy)
        self.fold.uses.setdefault(route, {})[backend.name] = missing
        return backend.name

    def choose(self, shares: list[tuple[str, int]], *, tcp: bool = False) -> str | None:
        """The backend (or split) sharing requests between these weighted backends; the
        error backend (HTTP) or None (TCP: refused) when no weight is above 0."""
        merged: dict[str, int] = {}
        for backend, weight in shares:
            if weight > 0:
                merged[backend] = merged.get(backend, 0) + weight
        if tcp:
            merged.pop(ERROR_BACKEND.name, None)
        if not merged:
            return None if tcp else self.error()
        if len(merged) == 1:
            return next(iter(merged))
        key = tuple(sorted(merged.items()))
        name = naming.split_name(key)
        backends = tuple(WeightedBackend(backend=b, weight=w) for b, w in key)
        self.splits[name] = Split(name=name, backends=backends)
        return name

    def error(self) -> str:
        """The backend answering 500."""
        self.fold.backends[ERROR_BACKEND.name] = ERROR_BACKEND
        return ERROR_BACKEND.name

    def answering(self, policy: Policy) -> str:
        """A backend with no servers whose policy answers every request (a redirect)."""
        backend = Backend(name=naming.filter_backend_name(policy), policy=policy, mode=Mode.HTTP)
        self.fold.backends[backend.name] = backend
        return backend.name


def h2c(policy: Policy) -> Policy:
    """The policy, talking cleartext HTTP/2 to the pods (gRPC; appProtocol kubernetes.io/h2c)."""
    return with_upstream(policy, Upstream(protocol=Protocol.H2C))


def with_upstream(policy: Policy, upstream: Upstream) -> Policy:
    """The policy, talking to the pods as `upstream` says."""
    return policy.model_copy(
        update={"backend": policy.backend.model_copy(update={"upstream": upstream})}
    )
