"""Gateway listeners: which are valid, on which address, with which certificate, and why not.

A Gateway of one of our GatewayClasses listens on its own address: the first
IPAddress of `spec.addresses`, else a stable address of `--gateway-address-pool`,
else the controller's bind address. Each listener is checked as the spec says
(protocol, TLS mode and certificateRefs, allowed route kinds), then against the
others: on one port, the first listener's protocol wins (ProtocolConflict for
the rest) and two listeners with the same hostname conflict (HostnameConflict);
a port another Gateway, or the Ingress listeners, already hold is unavailable.
The listeners of the ListenerSets a Gateway admits (`listener_sets`) join its
own after them, in the spec's precedence (the Gateway's, then each set's by
age and namespace/name): a set's listener that conflicts with an earlier one
is not accepted.

The Gateway's `spec.tls.backend.clientCertificateRef` (a kubernetes.io/tls Secret,
in another namespace only when a ReferenceGrant allows it) is the certificate
HAProxy presents to pods it reaches over TLS for the Gateway's routes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Network, ip_address

from ingress_ctl.model.conditions import Condition, ListenerStatus, RouteKind
from ingress_ctl.model.gateway_api import GROUP
from ingress_ctl.model.gateway_objects import Gateway, Listener, ListenerSet
from ingress_ctl.model.gateways import ListenerProtocol
from ingress_ctl.model.matching import ascii_lower, parse_host
from ingress_ctl.model.objects import ConfigMap
from ingress_ctl.model.routing import Certificate, ObjectRef
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import NamespacedName
from ingress_ctl.translation.gateway.conditions import (
    ACCEPTED,
    CONFLICTED,
    PROGRAMMED,
    RESOLVED_REFS,
    condition,
)
from ingress_ctl.translation.gateway.frontend import FrontendCA, frontend_ca
from ingress_ctl.translation.gateway.references import Grants
from ingress_ctl.translation.tls import TLSFold

ROUTE_KINDS: dict[ListenerProtocol, tuple[str, ...]] = {
    ListenerProtocol.HTTP: ("HTTPRoute", "GRPCRoute"),
    ListenerProtocol.HTTPS: ("HTTPRoute", "GRPCRoute"),
    ListenerProtocol.TLS: ("TLSRoute",),
    ListenerProtocol.TCP: ("TCPRoute",),
}


@dataclass
class ListenerState:
    """One listener of a Gateway (its own, or one of an admitted ListenerSet) as
    translation sees it, and the routes attached so far."""

    gateway: Gateway
    source: ObjectRef
    listener: Listener
    protocol: ListenerProtocol | None
    listener_set: ListenerSet | None = None
    """The ListenerSet that declares it; None for the Gateway's own."""
    kinds: tuple[str, ...] = ()
    accepted: tuple[bool, str, str] = (True, "Accepted", "")
    resolved: tuple[bool, str, str] = (True, "ResolvedRefs", "")
    conflicted: tuple[bool, str] = (False, "NoConflicts")
    certificate: Certificate | None = None
    client_ca: FrontendCA | None = None
    """HTTPS: how client certificates are checked (its port's `spec.tls.frontend`)."""
    attached: int = 0

    @property
    def name(self) -> str:
        return self.listener.name

    @property
    def port(self) -> int:
        return self.listener.port

    @property
    def owner(self) -> Gateway | ListenerSet:
        """The object that declares the listener: its namespace is the listener's
        `Same`, its kind what ReferenceGrants name, its generation what status observes."""
        return self.gateway if self.listener_set is None else self.listener_set

    @property
    def hostname(self) -> str | None:
        return ascii_lower(self.listener.hostname) if self.listener.hostname else None

    @property
    def attachable(self) -> bool:
        """Accepted and without conflict: routes attach (and count) even while it cannot
        serve (an HTTPS listener without a usable certificate)."""
        return self.accepted[0] and not self.conflicted[0]

    @property
    def usable(self) -> bool:
        """Attachable, and with what it needs to serve."""
        return self.attachable and self.programmed[0]

    @property
    def terminates(self) -> bool:
        """HAProxy terminates TLS here: HTTPS, and TLS listeners of tls.mode Terminate."""
        mode = self.listener.tls.mode if self.listener.tls else None
        return self.protocol is ListenerProtocol.HTTPS or (
            self.protocol is ListenerProtocol.TLS and mode == "Terminate"
        )

    @property
    def programmed(self) -> tuple[bool, str]:
        if self.conflicted[0] and self.listener_set is not None:
            return False, self.conflicted[1]
        if not self.accepted[0] or self.conflicted[0]:
            return False, "Invalid"
        if self.terminates and self.certificate is None:
            return False, "Invalid"
        return True, "Programmed"

    def reject(self, reason: str, message: str) -> None:
        """Not accepted: no route kind is supported here (the spec's empty supportedKinds)."""
        if self.accepted[0]:
            self.accepted = (False, reason, message)
        self.kinds = ()

    def unresolved(self, reason: str, message: str) -> None:
        if self.resolved[0]:
            self.resolved = (False, reason, message)

    def conflict(self, reason: str) -> None:
        """Conflicted with an earlier listener: a ListenerSet's is then not accepted either."""
        self.conflicted = (True, reason)
        if self.listener_set is not None:
            self.accepted = (False, reason, "")

    def status(self) -> ListenerStatus:
        generation = self.owner.metadata.generation
        programmed, why = self.programmed
        return ListenerStatus(
            name=self.name,
            supported_kinds=tuple(RouteKind(group=GROUP, kind=kind) for kind in self.kinds),
            attached_routes=self.attached,
            conditions=(
                condition(ACCEPTED, *self.accepted, generation=generation),
                condition(PROGRAMMED, programmed, why, generation=generation),
                condition(RESOLVED_REFS, *self.resolved, generation=generation),
                Condition(
                    type=CONFLICTED,
                    status="True" if self.conflicted[0] else "False",
                    reason=self.conflicted[1],
                    observed_generation=generation,
                ),
            ),
        )


@dataclass
class ListenerSetState:
    """A ListenerSet whose parent is a Gateway of ours: admitted or why not, its listeners."""

    listener_set: ListenerSet
    source: ObjectRef
    refused: str | None = None
    """The Accepted reason when its Gateway does not take its listeners."""
    listeners: list[ListenerState] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        """Admitted, and at least one of its listeners can serve."""
        return self.refused is None and any(item.usable for item in self.listeners)


@dataclass
class GatewayState:
    """A Gateway of ours: its address, its listeners, and whether it could be accepted."""

    gateway: Gateway
    source: ObjectRef
    address: str | None
    listeners: list[ListenerState] = field(default_factory=list)
    """Its own listeners (a parentRef of kind Gateway attaches to these only)."""
    address_problem: str | None = None
    """Why spec.addresses is not supported, or the Gateway's parameters are refused (the
    Gateway is not accepted, for `problem_reason`)."""
    problem_reason: str = "UnsupportedAddress"
    address_unusable: str | None = None
    """Why an address of spec.addresses cannot be used (the Gateway is not programmed)."""
    listener_sets: list[ListenerSetState] = field(default_factory=list)
    """The admitted ListenerSets, in the spec's precedence."""
    client_certificate: Certificate | None = None
    """What the Gateway presents to pods over TLS (`spec.tls.backend.clientCertificateRef`)."""
    client_problem: tuple[str, str] | None = None
    """Why that reference cannot be used: a ResolvedRefs reason and message."""

    @property
    def every_listener(self) -> list[ListenerState]:
        """Its own listeners, then its ListenerSets': the order conflicts are decided in."""
        return self.listeners + [item for found in self.listener_sets for item in found.listeners]


@dataclass(frozen=True)
class AddressChoice:
    """Where a Gateway listens, or why it cannot: spec.addresses against the pool."""

    address: str | None = None
    problem: str | None = None
    """spec.addresses is not supported: the Gateway's UnsupportedAddress."""
    unusable: str | None = None
    """An address given cannot be used here: the Gateway's AddressNotUsable."""


def gateway_address(gateway: Gateway, settings: Settings, taken: set[str]) -> AddressChoice:
    """Where a Gateway listens: the IPAddress it names (inside the address pool, when there is
    one: the addresses this node's HAProxy serves Gateways on), else one of the pool's (an
    address with an empty value asks for that too)."""
    given: list[str] = []
    for found in gateway.spec.addresses:
        if found.type != "IPAddress":
            return AddressChoice(
                problem=f"address type {found.type[:80]!r} is not supported (only IPAddress)"
            )
        if not found.value:
            continue
        try:
            given.append(str(ip_address(found.value)))
        except ValueError:
            return AddressChoice(problem=f"{found.value[:80]!r} is not an IP address")
    pool = settings.gateway_address_pool
    if given:
        return _static_address(tuple(dict.fromkeys(given)), pool)
    if pool is None or pool.num_addresses < 4:
        return AddressChoice()
    hosts = pool.num_addresses - 2
    key = f"{gateway.metadata.namespace}/{gateway.metadata.name}".encode()
    start = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % hosts
    for step in range(hosts):
        address = str(pool.network_address + 1 + (start + step) % hosts)
        if address not in taken:
            taken.add(address)
            return AddressChoice(address=address)
    return AddressChoice(problem=f"every address of {pool} is taken")


def _static_address(given: tuple[str, ...], pool: IPv4Network | None) -> AddressChoice:
    outside = [value for value in given if pool is not None and ip_address(value) not in pool]
    if outside:
        return AddressChoice(
            unusable=f"{outside[0]} is not in the Gateway address pool {pool}: not served here"
        )
    if len(given) > 1:
        return AddressChoice(unusable=f"{len(given)} addresses: a Gateway listens on one")
    return AddressChoice(address=given[0])


def check_listeners(
    state: GatewayState,
    *,
    grants: Grants,
    tls: TLSFold,
    held: dict[tuple[str, int], ObjectRef],
    config_maps: Mapping[NamespacedName, ConfigMap],
) -> None:
    """Check every listener of a Gateway and of its admitted ListenerSets, alone, then
    against each other and other Gateways."""
    owners = [(state.listeners, None)] + [
        (found.listeners, found.listener_set)
        for found in state.listener_sets
        if found.refused is None
    ]
    for listeners, listener_set in owners:
        declared = (
            state.gateway.spec.listeners if listener_set is None else listener_set.spec.listeners
        )
        for listener in declared:
            found = ListenerState(
                gateway=state.gateway,
                source=state.source,
                listener=listener,
                protocol=_protocol(listener.protocol),
                listener_set=listener_set,
            )
            _check_alone(found, grants=grants, tls=tls)
            if found.accepted[0] and found.protocol is ListenerProtocol.HTTPS:
                _client_validation(found, grants=grants, config_maps=config_maps)
            listeners.append(found)
    _check_conflicts(state.every_listener)
    client = _client_certificate(state.gateway, grants=grants, tls=tls)
    if isinstance(client, tuple):
        state.client_problem = client
    else:
        state.client_certificate = client
    for found in state.every_listener:
        if not found.accepted[0] or found.conflicted[0]:
            continue
        key = (state.address or "*", found.port)
        owner = held.setdefault(key, state.source)
        if owner != state.source:
            found.reject("PortUnavailable", f"port {found.port} is held by {owner}")


def _protocol(text: str) -> ListenerProtocol | None:
    try:
        return ListenerProtocol(text)
    except ValueError:
        return None


def _dns_name(raw: str) -> bool:
    try:
        parse_host(raw)
    except ValueError:
        return False
    return True


def _check_alone(found: ListenerState, *, grants: Grants, tls: TLSFold) -> None:
    if found.protocol is None:
        found.reject(
            "UnsupportedProtocol", f"protocol {found.listener.protocol!r} is not supported"
        )
        return
    if found.listener.hostname is not None and not _dns_name(found.listener.hostname):
        found.reject("UnsupportedValue", "hostname is not a DNS name (optionally '*.'-prefixed)")
        return
    _kinds(found)
    mode = found.listener.tls.mode if found.listener.tls else None
    if found.protocol is ListenerProtocol.TLS and mode not in ("Passthrough", "Terminate"):
        found.reject("UnsupportedValue", "TLS listeners need tls.mode Passthrough or Terminate")
    elif found.protocol is ListenerProtocol.HTTPS and mode != "Terminate":
        found.reject("UnsupportedValue", "HTTPS listeners need tls.mode Terminate")
    elif found.terminates:
        _certificate(found, grants=grants, tls=tls)


def _client_validation(
    found: ListenerState, *, grants: Grants, config_maps: Mapping[NamespacedName, ConfigMap]
) -> None:
    """The client certificate validation of an HTTPS listener's port, as `frontend` says."""
    ca = frontend_ca(found.gateway, found.port, config_maps=config_maps, grants=grants)
    if ca is None:
        return
    for reason, message in ca.problems:
        found.unresolved(reason, message)
    if ca.pem is None:
        found.reject("NoValidCACertificate", "no caCertificateRef of spec.tls.frontend is usable")
    found.client_ca = ca


def _kinds(found: ListenerState) -> None:
    assert found.protocol is not None
    supported = ROUTE_KINDS[found.protocol]
    asked = found.listener.allowed_routes.kinds
    if not asked:
        found.kinds = supported
        return
    kept = [item.kind for item in asked if item.group == GROUP and item.kind in supported]
    found.kinds = tuple(dict.fromkeys(kept))
    if len(kept) != len(asked):
        wrong = ", ".join(f"{item.group}/{item.kind}" for item in asked if item.kind not in kept)
        found.unresolved("InvalidRouteKinds", f"route kinds not supported here: {wrong}")


def _certificate(found: ListenerState, *, grants: Grants, tls: TLSFold) -> None:
    assert found.listener.tls is not None
    refs = found.listener.tls.certificate_refs
    if not refs:
        found.unresolved(
            "InvalidCertificateRef", "a listener that terminates TLS needs a certificateRef"
        )
    namespace = found.owner.metadata.namespace
    for i, ref in enumerate(refs):
        where = f"certificateRefs[{i}]"
        target = ref.namespace or namespace
        if ref.group not in ("", "core") or ref.kind != "Secret":
            found.unresolved(
                "InvalidCertificateRef", f"{where}: {ref.group}/{ref.kind} is not a Secret"
            )
        elif not grants.allows(found.owner.kind, namespace, "Secret", target, ref.name):
            found.unresolved(
                "RefNotPermitted",
                f"{where}: no ReferenceGrant in {target} allows Secret {ref.name}",
            )
        else:
            certificate = tls.certificate(target, ref.name)
            if isinstance(certificate, str):
                found.unresolved(
                    "InvalidCertificateRef", f"{where}: Secret {target}/{ref.name}: {certificate}"
                )
            elif found.certificate is None:
                found.certificate = certificate


def _check_conflicts(listeners: list[ListenerState]) -> None:
    first: dict[int, ListenerState] = {}
    names: set[tuple[int, str | None]] = set()
    for found in listeners:
        if not found.accepted[0]:
            continue
        owner = first.setdefault(found.port, found)
        if owner.protocol is not found.protocol:
            found.conflict("ProtocolConflict")
            continue
        key = (found.port, found.hostname)
        if key in names:
            found.conflict("HostnameConflict")
        names.add(key)


def _client_certificate(
    gateway: Gateway, *, grants: Grants, tls: TLSFold
) -> Certificate | tuple[str, str] | None:
    """The certificate a Gateway presents to TLS backends, why it cannot (a ResolvedRefs
    reason and message), or None when it names none."""
    backend = gateway.spec.tls.backend if gateway.spec.tls else None
    ref = backend.client_certificate_ref if backend else None
    if ref is None:
        return None
    where = "spec.tls.backend.clientCertificateRef"
    namespace = gateway.metadata.namespace
    target = ref.namespace or namespace
    if ref.group not in ("", "core") or ref.kind != "Secret":
        return "InvalidClientCertificateRef", f"{where}: {ref.group}/{ref.kind} is not a Secret"
    if not grants.allows("Gateway", namespace, "Secret", target, ref.name):
        return "RefNotPermitted", f"{where}: no ReferenceGrant in {target} allows Secret {ref.name}"
    found = tls.certificate(target, ref.name)
    if isinstance(found, str):
        return "InvalidClientCertificateRef", f"{where}: Secret {target}/{ref.name}: {found}"
    return found
