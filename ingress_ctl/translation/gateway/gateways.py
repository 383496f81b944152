"""`translate_gateways`: our GatewayClasses, their Gateways and the routes attached to them.

GatewayClasses are ours by `spec.controllerName`; their Gateways, oldest
first, get an address and checked listeners (their own, then those of the
ListenerSets they admit: `listener_sets`); routes of every kind, oldest
first, attach to listeners (`attachment`) and add their matches, SNI routes
or TCP backend to the ports of those listeners. Each Gateway port becomes a
`GatewayPort`; every object gets the status the spec asks for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ingress_ctl.haproxy import naming
from ingress_ctl.model.conditions import (
    Condition,
    GatewayAddressStatus,
    GatewayClassStatus,
    GatewayStatus,
    GatewayStatuses,
    ParentStatus,
    RouteStatus,
)
from ingress_ctl.model.gateway_objects import (
    BackendTLSPolicy,
    Gateway,
    GatewayClass,
    GRPCRoute,
    HTTPRoute,
    ListenerSet,
    ReferenceGrant,
    TCPRoute,
    TLSRoute,
)
from ingress_ctl.model.gateway_objects import Route as RouteObject
from ingress_ctl.model.gateways import (
    ClientValidation,
    GatewayPort,
    HTTPMatch,
    ListenerCertificate,
    ListenerProtocol,
    SNIRoute,
)
from ingress_ctl.model.matching import ascii_lower
from ingress_ctl.model.objects import ConfigMap, Namespace
from ingress_ctl.model.routing import CABundle, ObjectRef
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import NamespacedName, Snapshot
from ingress_ctl.model.views import canonical_ip
from ingress_ctl.translation.fold import Fold
from ingress_ctl.translation.gateway.attachment import Attachment, Parent, attach
from ingress_ctl.translation.gateway.backend_tls import backend_tls
from ingress_ctl.translation.gateway.conditions import (
    ACCEPTED,
    FEATURES,
    INSECURE_FRONTEND_VALIDATION,
    PROGRAMMED,
    RESOLVED_REFS,
    condition,
)
from ingress_ctl.translation.gateway.frontend import insecure
from ingress_ctl.translation.gateway.http import (
    RouteRules,
    grpc_rules,
    http_rules,
    matches_for,
    precedence,
)
from ingress_ctl.translation.gateway.isolation import claimed, guards
from ingress_ctl.translation.gateway.listener_sets import (
    PARENT_NOT_ACCEPTED,
    attached_listener_sets,
    listener_set_status,
    listener_sets_of,
)
from ingress_ctl.translation.gateway.listeners import (
    GatewayState,
    ListenerSetState,
    ListenerState,
    check_listeners,
    gateway_address,
)
from ingress_ctl.translation.gateway.references import Backends, Grants, Unresolved
from ingress_ctl.translation.gateway.streams import StreamTarget, stream_target
from ingress_ctl.translation.gateway.translated import GatewayTranslation
from ingress_ctl.translation.tls import TLSFold

INGRESS_PORTS = ObjectRef(kind="Flag", name="--http-port/--https-port")


@dataclass
class _Ports:
    """What routes add to each Gateway port while they attach."""

    http: dict[tuple[NamespacedName, int], list[tuple[tuple[object, ...], HTTPMatch]]] = field(
        default_factory=dict
    )
    sni: dict[tuple[NamespacedName, int], list[SNIRoute]] = field(default_factory=dict)
    tcp: dict[tuple[NamespacedName, int], str] = field(default_factory=dict)


def translate_gateways(
    fold: Fold, snapshot: Snapshot, settings: Settings, tls: TLSFold
) -> GatewayTranslation:
    """Fold the Gateway API objects of a snapshot into Gateway ports and statuses."""
    classes = {
        name: found
        for (_, name), found in snapshot.objects(GatewayClass).items()
        if found.spec.controller_name == settings.controller_name
    }
    if not classes:
        return GatewayTranslation()
    grants = Grants(snapshot.objects(ReferenceGrant))
    namespaces = snapshot.objects(Namespace)
    gateways = _gateways(snapshot, settings, classes, grants, tls)
    listener_sets = {
        (found.source.namespace, found.source.name): found
        for state in gateways.values()
        for found in state.listener_sets
    }
    policies = backend_tls(
        snapshot.objects(BackendTLSPolicy), snapshot.objects(ConfigMap), fold.ca_bundles
    )
    backends = Backends(fold=fold, grants=grants, tls=policies)
    ports = _Ports()
    routes = [
        _route(found, gateways, listener_sets, namespaces, backends, ports)
        for found in _oldest_first(_routes(snapshot))
    ]
    served = tuple(_gateway_ports(gateways.values(), ports))
    return GatewayTranslation(
        ports=served,
        splits=tuple(backends.splits[name] for name in sorted(backends.splits)),
        statuses=GatewayStatuses(
            classes=tuple(_class_status(found) for _, found in sorted(classes.items())),
            gateways=tuple(_gateway_status(state, settings) for state in gateways.values()),
            listener_sets=tuple(
                listener_set_status(found)
                for _, found in sorted(listener_sets.items(), key=lambda item: item[0])
            ),
            routes=tuple(status for status in routes if status is not None),
            policies=policies.statuses(),
        ),
        certificates=frozenset(
            listener.certificate.file
            for state in gateways.values()
            for listener in state.every_listener
            if listener.certificate is not None and listener.usable
        )
        | {
            state.client_certificate.file
            for state in gateways.values()
            if state.client_certificate is not None
        },
        ca_bundles=_ca_bundles(gateways.values(), served),
    )


def _client_validation(listeners: list[ListenerState]) -> ClientValidation | None:
    """How an HTTPS port checks client certificates (its listeners share the port's)."""
    ca = next((item.client_ca for item in listeners if item.client_ca is not None), None)
    if ca is None or ca.pem is None:
        return None
    return ClientValidation(ca_file=naming.certificate_file(ca.pem.encode()), optional=ca.optional)


def _ca_bundles(
    states: Iterable[GatewayState], ports: tuple[GatewayPort, ...]
) -> tuple[CABundle, ...]:
    pems = {
        naming.certificate_file(listener.client_ca.pem.encode()): listener.client_ca.pem
        for state in states
        for listener in state.listeners
        if listener.client_ca is not None and listener.client_ca.pem is not None
    }
    files = {port.client_validation.ca_file for port in ports if port.client_validation}
    return tuple(CABundle(file=file, pem=pems[file]) for file in sorted(files))


def _oldest_first(objects: Iterable[RouteObject]) -> list[RouteObject]:
    return sorted(objects, key=lambda found: found.metadata.age)


def _routes(snapshot: Snapshot) -> Iterable[RouteObject]:
    for kind in (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute):
        yield from snapshot.objects(kind).values()  # type: ignore[misc]


def _gateways(
    snapshot: Snapshot,
    settings: Settings,
    classes: dict[str, GatewayClass],
    grants: Grants,
    tls: TLSFold,
) -> dict[NamespacedName, GatewayState]:
    ours = sorted(
        (
            found
            for found in snapshot.objects(Gateway).values()
            if found.spec.gateway_class_name in classes
        ),
        key=lambda found: found.metadata.age,
    )
    taken = {item.value for found in ours for item in found.spec.addresses}
    held: dict[tuple[str, int], ObjectRef] = {
        ("*", settings.http_port): INGRESS_PORTS,
        ("*", settings.https_port): INGRESS_PORTS,
    }
    sets = listener_sets_of(
        ours, snapshot.objects(ListenerSet).values(), snapshot.objects(Namespace)
    )
    states: dict[NamespacedName, GatewayState] = {}
    config_maps = snapshot.objects(ConfigMap)
    for found in ours:
        meta = found.metadata
        source = ObjectRef(kind="Gateway", namespace=meta.namespace, name=meta.name)
        choice = gateway_address(found, settings, taken)
        parameters = _parameters_problem(found)
        state = GatewayState(
            gateway=found,
            source=source,
            address=choice.address,
            address_problem=parameters or choice.problem,
            problem_reason="InvalidParameters" if parameters else "UnsupportedAddress",
            address_unusable=choice.unusable,
            listener_sets=sets.get((meta.namespace, meta.name), []),
        )
        if state.address_problem is None and choice.unusable is None:
            check_listeners(state, grants=grants, tls=tls, held=held, config_maps=config_maps)
        else:
            for refused in state.listener_sets:
                refused.refused = refused.refused or PARENT_NOT_ACCEPTED
        states[(meta.namespace, meta.name)] = state
    return states


def _parameters_problem(found: Gateway) -> str | None:
    """Why the Gateway's infrastructure.parametersRef is refused: this controller reads no
    parameters of any kind."""
    infrastructure = found.spec.infrastructure
    if infrastructure is None or infrastructure.parameters_ref is None:
        return None
    ref = infrastructure.parameters_ref
    kind = f"{ref.kind}.{ref.group}" if ref.group else ref.kind
    return f"parametersRef {kind[:80]} {ref.name[:80]!r}: ingress-ctl takes no Gateway parameters"


def _route(
    found: RouteObject,
    gateways: dict[NamespacedName, GatewayState],
    listener_sets: dict[NamespacedName, ListenerSetState],
    namespaces: Mapping[NamespacedName, Namespace],
    backends: Backends,
    ports: _Ports,
) -> RouteStatus | None:
    meta = found.metadata
    source = ObjectRef(kind=found.kind, namespace=meta.namespace, name=meta.name)
    hostnames = getattr(found.spec, "hostnames", ())
    parents = [
        parent
        for ref in found.spec.parent_refs
        if (
            parent := attach(
                source,
                ref,
                hostnames,
                gateways=gateways,
                listener_sets=listener_sets,
                namespaces=namespaces,
            )
        )
        is not None
    ]
    if not parents:
        return None
    by_client: dict[str | None, list[tuple[int, Parent]]] = {}
    for i, parent in enumerate(parents):
        by_client.setdefault(_client_file(parent, gateways), []).append((i, parent))
    statuses: dict[int, ParentStatus] = {}
    for client, members in by_client.items():
        backends.client_certificate = client
        rules = _rules(found, source, backends)
        for i, parent in members:
            for attachment in parent.attachments:
                _add(attachment, rules, found, source, ports)
            if parent.refused is None:
                gateway = (parent.ref.namespace, parent.ref.name)
                for policy in backends.tls_used.get(source, {}):
                    backends.tls.used_by(policy, gateway)
            statuses[i] = _parent_status(parent, rules, meta.generation)
    backends.client_certificate = None
    return RouteStatus(
        kind=found.kind,
        namespace=meta.namespace,
        name=meta.name,
        parents=tuple(statuses[i] for i in range(len(parents))),
    )


def _rules(found: RouteObject, source: ObjectRef, backends: Backends) -> RouteRules | StreamTarget:
    if isinstance(found, HTTPRoute):
        return http_rules(found, source, backends)
    if isinstance(found, GRPCRoute):
        return grpc_rules(found, source, backends)
    return stream_target(found.spec.rules, source, backends)


def _client_file(parent: Parent, gateways: dict[NamespacedName, GatewayState]) -> str | None:
    """The certificate file the parent's Gateway presents to TLS pods, if any."""
    state = gateways.get((parent.ref.namespace, parent.ref.name))
    certificate = state.client_certificate if state is not None else None
    return certificate.file if certificate is not None else None


def _add(
    attachment: Attachment,
    rules: RouteRules | StreamTarget,
    found: RouteObject,
    source: ObjectRef,
    ports: _Ports,
) -> None:
    listener = attachment.listener
    listener.attached += 1
    meta = listener.gateway.metadata
    key = ((meta.namespace, meta.name), listener.port)
    if isinstance(rules, RouteRules):
        age = found.metadata.age
        own = listener.hostname or ""
        others = [
            ascii_lower(item.hostname or "")
            for item in listener.gateway.spec.listeners
            if item.port == listener.port
        ]
        ordered = {
            (item.rule, item.host): item
            for item in matches_for(rules, source, attachment.hosts)
            if not claimed(item.host, own, others)
        }
        orders = {item.rule: item.order for item in rules.matches}
        ports.http.setdefault(key, []).extend(
            (precedence(item, age, orders[item.rule]), item) for item in ordered.values()
        )
    elif rules.backend is not None and listener.protocol is ListenerProtocol.TLS:
        ports.sni.setdefault(key, []).extend(
            SNIRoute(host=host, backend=rules.backend, source=source, terminate=listener.terminates)
            for host in attachment.hosts
        )
    elif rules.backend is not None:
        ports.tcp.setdefault(key, rules.backend)


def _parent_status(
    parent: Parent, rules: RouteRules | StreamTarget, generation: int
) -> ParentStatus:
    if parent.refused is not None:
        accepted = condition(ACCEPTED, False, *parent.refused, generation=generation)
    elif isinstance(rules, RouteRules) and rules.unsupported:
        message = "; ".join(rules.unsupported)
        accepted = condition(ACCEPTED, False, "UnsupportedValue", message, generation=generation)
    else:
        accepted = condition(ACCEPTED, True, "Accepted", generation=generation)
    unresolved: Unresolved | None = rules.unresolved
    if unresolved is None:
        resolved = condition(RESOLVED_REFS, True, "ResolvedRefs", generation=generation)
    else:
        resolved = condition(
            RESOLVED_REFS, False, unresolved.reason, unresolved.message, generation=generation
        )
    return ParentStatus(parent=parent.ref, conditions=(accepted, resolved))


def _gateway_ports(states: Iterable[GatewayState], ports: _Ports) -> list[GatewayPort]:
    made = []
    for state in states:
        by_port: dict[int, list[ListenerState]] = {}
        for listener in state.every_listener:
            if listener.usable:
                by_port.setdefault(listener.port, []).append(listener)
        meta = state.gateway.metadata
        for port, listeners in sorted(by_port.items()):
            key = ((meta.namespace, meta.name), port)
            protocol = listeners[0].protocol
            assert protocol is not None
            made.append(
                GatewayPort(
                    gateway=state.source,
                    address=state.address,
                    port=port,
                    protocol=protocol,
                    matches=_sorted_matches(
                        ports.http.get(key, [])
                        + guards((item.hostname or "" for item in listeners), state.source)
                    ),
                    certificates=_certificates(listeners),
                    listener_hosts=_listener_hosts(protocol, listeners),
                    client_validation=_client_validation(listeners),
                    sni_routes=tuple(
                        sorted(ports.sni.get(key, []), key=lambda r: _host_order(r.host))
                    ),
                    backend=ports.tcp.get(key),
                )
            )
    return made


def _sorted_matches(found: list[tuple[tuple[object, ...], HTTPMatch]]) -> tuple[HTTPMatch, ...]:
    kept: dict[HTTPMatch, None] = {}
    for _, match in sorted(found, key=lambda item: item[0]):
        kept.setdefault(match, None)
    return tuple(kept)


def _host_order(host: str) -> tuple[object, ...]:
    """Exact names first, then wildcards and "" by length, longest first."""
    return (host.startswith("*.") or host == "", -len(host), host)


def _certificates(listeners: list[ListenerState]) -> tuple[ListenerCertificate, ...]:
    found = {
        listener.hostname or "": ListenerCertificate(
            host=listener.hostname or "", file=listener.certificate.file
        )
        for listener in listeners
        if listener.certificate is not None
    }
    ordered = sorted(found.values(), key=lambda item: _host_order(item.host))
    first = next((item for item in found.values()), None)
    if first is not None:
        ordered.remove(first)
        ordered.insert(0, first)
    return tuple(ordered)


def _listener_hosts(protocol: ListenerProtocol, listeners: list[ListenerState]) -> tuple[str, ...]:
    """An HTTPS port's listener hostnames, most specific first (none when only one)."""
    if protocol is not ListenerProtocol.HTTPS:
        return ()
    hosts = sorted({listener.hostname or "" for listener in listeners}, key=_host_order)
    return tuple(hosts) if len(hosts) > 1 else ()


def _class_status(found: GatewayClass) -> GatewayClassStatus:
    generation = found.metadata.generation
    return GatewayClassStatus(
        name=found.metadata.name,
        conditions=(condition(ACCEPTED, True, "Accepted", generation=generation),),
        supported_features=FEATURES,
    )


def _gateway_status(state: GatewayState, settings: Settings) -> GatewayStatus:
    generation = state.gateway.metadata.generation
    invalid = [item for item in state.listeners if not item.accepted[0] or item.conflicted[0]]
    usable = any(item.usable for item in state.listeners)
    if state.address_problem is not None:
        accepted = condition(
            ACCEPTED, False, state.problem_reason, state.address_problem, generation=generation
        )
    elif invalid and len(invalid) == len(state.listeners):
        accepted = condition(ACCEPTED, False, "ListenersNotValid", generation=generation)
    elif invalid:
        names = ", ".join(item.name for item in invalid)
        accepted = condition(
            ACCEPTED, True, "ListenersNotValid", f"not valid: {names}", generation=generation
        )
    else:
        accepted = condition(ACCEPTED, True, "Accepted", generation=generation)
    if state.address_unusable is not None and state.address_problem is None:
        programmed = condition(
            PROGRAMMED, False, "AddressNotUsable", state.address_unusable, generation=generation
        )
    else:
        programmed = condition(
            PROGRAMMED,
            accepted.status == "True" and usable,
            "Programmed" if usable else "Invalid",
            generation=generation,
        )
    found: tuple[Condition, ...] = (accepted, programmed)
    if insecure(state.gateway):
        found += (
            condition(
                INSECURE_FRONTEND_VALIDATION,
                True,
                "ConfigurationChanged",
                "spec.tls.frontend serves clients without a valid certificate",
                generation=generation,
            ),
        )
    addresses = (state.address,) if state.address else settings.publish_addresses
    extra: tuple[Condition, ...] = ()
    if state.client_problem is not None:
        reason, message = state.client_problem
        extra = (condition(RESOLVED_REFS, False, reason, message, generation=generation),)
    elif state.client_certificate is not None:
        extra = (condition(RESOLVED_REFS, True, "ResolvedRefs", generation=generation),)
    return GatewayStatus(
        namespace=state.gateway.metadata.namespace,
        name=state.gateway.metadata.name,
        addresses=tuple(
            GatewayAddressStatus(type="IPAddress" if _is_ip(value) else "Hostname", value=value)
            for value in addresses
        ),
        conditions=(*found, *extra),
        listeners=tuple(item.status() for item in state.listeners),
        attached_listener_sets=attached_listener_sets(state),
    )


def _is_ip(value: str) -> bool:
    """Whether a status address (an IP address, or a --publish-address DNS name) is an IP."""
    try:
        canonical_ip(value)
    except ValueError:
        return False
    return True
