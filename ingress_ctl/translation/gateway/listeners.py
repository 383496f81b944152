"""Gateway listeners: which are valid, on which address, with which certificate, and why not.

A Gateway of one of our GatewayClasses listens on its own address: the first
IPAddress of `spec.addresses`, else a stable address of `--gateway-address-pool`,
else the controller's bind address. Each listener is checked as the spec says
(protocol, TLS mode and certificateRefs, allowed route kinds), then against the
others: on one port, the first listener's protocol wins (ProtocolConflict for
the rest) and two listeners with the same hostname conflict (HostnameConflict);
a port another Gateway, or the Ingress listeners, already hold is unavailable.
The Gateway's `spec.tls.backend.clientCertificateRef` (a kubernetes.io/tls Secret,
in another namespace only when a ReferenceGrant allows it) is the certificate
HAProxy presents to pods it reaches over TLS for the Gateway's routes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from ipaddress import ip_address

from ingress_ctl.model.conditions import Condition, ListenerStatus, RouteKind
from ingress_ctl.model.gateway_objects import GROUP, Gateway, Listener
from ingress_ctl.model.gateways import ListenerProtocol
from ingress_ctl.model.matching import ascii_lower
from ingress_ctl.model.routing import Certificate, ObjectRef
from ingress_ctl.model.settings import Settings
from ingress_ctl.translation.gateway.conditions import (
    ACCEPTED,
    CONFLICTED,
    PROGRAMMED,
    RESOLVED_REFS,
    condition,
)
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
    """One listener of a Gateway as translation sees it, and the routes attached so far."""

    gateway: Gateway
    source: ObjectRef
    listener: Listener
    protocol: ListenerProtocol | None
    kinds: tuple[str, ...] = ()
    accepted: tuple[bool, str, str] = (True, "Accepted", "")
    resolved: tuple[bool, str, str] = (True, "ResolvedRefs", "")
    conflicted: tuple[bool, str] = (False, "NoConflicts")
    certificate: Certificate | None = None
    attached: int = 0

    @property
    def name(self) -> str:
        return self.listener.name

    @property
    def port(self) -> int:
        return self.listener.port

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
    def programmed(self) -> tuple[bool, str]:
        if not self.accepted[0] or self.conflicted[0]:
            return False, "Invalid"
        if self.protocol is ListenerProtocol.HTTPS and self.certificate is None:
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

    def status(self) -> ListenerStatus:
        generation = self.gateway.metadata.generation
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
class GatewayState:
    """A Gateway of ours: its address, its listeners, and whether it could be accepted."""

    gateway: Gateway
    source: ObjectRef
    address: str | None
    listeners: list[ListenerState] = field(default_factory=list)
    address_problem: str | None = None
    client_certificate: Certificate | None = None
    """What the Gateway presents to pods over TLS (`spec.tls.backend.clientCertificateRef`)."""
    client_problem: tuple[str, str] | None = None
    """Why that reference cannot be used: a ResolvedRefs reason and message."""


def gateway_address(
    gateway: Gateway, settings: Settings, taken: set[str]
) -> tuple[str | None, str | None]:
    """(the address to listen on, why spec.addresses cannot be served)."""
    for found in gateway.spec.addresses:
        if found.type != "IPAddress":
            return None, f"address type {found.type!r} is not supported (only IPAddress)"
        try:
            return str(ip_address(found.value)), None
        except ValueError:
            return None, f"{found.value!r} is not an IP address"
    pool = settings.gateway_address_pool
    if pool is None or pool.num_addresses < 4:
        return None, None
    hosts = pool.num_addresses - 2
    key = f"{gateway.metadata.namespace}/{gateway.metadata.name}".encode()
    start = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % hosts
    for step in range(hosts):
        address = str(pool.network_address + 1 + (start + step) % hosts)
        if address not in taken:
            taken.add(address)
            return address, None
    return None, f"every address of {pool} is taken"


def check_listeners(
    state: GatewayState, *, grants: Grants, tls: TLSFold, held: dict[tuple[str, int], ObjectRef]
) -> None:
    """Check every listener of a Gateway, alone, then against each other and other Gateways."""
    for listener in state.gateway.spec.listeners:
        found = ListenerState(
            gateway=state.gateway,
            source=state.source,
            listener=listener,
            protocol=_protocol(listener.protocol),
        )
        _check_alone(found, grants=grants, tls=tls)
        state.listeners.append(found)
    _check_conflicts(state.listeners)
    client = _client_certificate(state.gateway, grants=grants, tls=tls)
    if isinstance(client, tuple):
        state.client_problem = client
    else:
        state.client_certificate = client
    for found in state.listeners:
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


def _check_alone(found: ListenerState, *, grants: Grants, tls: TLSFold) -> None:
    if found.protocol is None:
        found.reject(
            "UnsupportedProtocol", f"protocol {found.listener.protocol!r} is not supported"
        )
        return
    _kinds(found)
    mode = found.listener.tls.mode if found.listener.tls else None
    if found.protocol is ListenerProtocol.TLS and mode != "Passthrough":
        found.reject("UnsupportedValue", "TLS listeners support tls.mode Passthrough only")
    elif found.protocol is ListenerProtocol.HTTPS:
        if mode != "Terminate":
            found.reject("UnsupportedValue", "HTTPS listeners need tls.mode Terminate")
        else:
            _certificate(found, grants=grants, tls=tls)


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
        found.unresolved("InvalidCertificateRef", "an HTTPS listener needs a certificateRef")
    namespace = found.gateway.metadata.namespace
    for i, ref in enumerate(refs):
        where = f"certificateRefs[{i}]"
        target = ref.namespace or namespace
        if ref.group not in ("", "core") or ref.kind != "Secret":
            found.unresolved(
                "InvalidCertificateRef", f"{where}: {ref.group}/{ref.kind} is not a Secret"
            )
        elif not grants.allows("Gateway", namespace, "Secret", target, ref.name):
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
            found.conflicted = (True, "ProtocolConflict")
            continue
        key = (found.port, found.hostname)
        if key in names:
            found.conflicted = (True, "HostnameConflict")
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
