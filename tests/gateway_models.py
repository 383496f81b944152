"""Routing models with Gateway ports, built directly (translation makes them in production)."""

from __future__ import annotations

from ingress_ctl.haproxy import naming
from ingress_ctl.model.gateways import (
    GatewayPort,
    HTTPMatch,
    ListenerCertificate,
    ListenerProtocol,
    SNIRoute,
    Split,
    ValueMatch,
    WeightedBackend,
)
from ingress_ctl.model.policies import Policy
from ingress_ctl.model.routing import (
    Backend,
    Certificate,
    Mode,
    ObjectRef,
    PathType,
    Routing,
    Server,
    ServiceRef,
)

GATEWAY = ObjectRef(kind="Gateway", namespace="default", name="gw")
ROUTE = ObjectRef(kind="HTTPRoute", namespace="default", name="web")
NOT_FOUND = Backend(name=naming.NOT_FOUND_BACKEND, status=404)


def service_backend(
    name: str,
    *servers: tuple[str, int],
    policy: Policy | None = None,
    mode: Mode = Mode.HTTP,
) -> Backend:
    """The backend of Service `name` port 80 (with its policy's id in the name when it has one)."""
    service = ServiceRef(namespace="default", name=name, port=80)
    policy = policy or Policy()
    if mode is Mode.TCP:
        backend_name = naming.passthrough_backend_name(service)
    elif policy == Policy():
        backend_name = naming.backend_name(service)
    else:
        backend_name = naming.policy_backend_name(service, policy)
    return Backend(
        name=backend_name,
        service=service,
        servers=tuple(Server(address, port) for address, port in servers),
        policy=policy,
        mode=mode,
    )


def match(
    host: str,
    path: str,
    backend: str,
    path_type: PathType = PathType.PREFIX,
    *,
    method: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    rule: str = "spec.rules[0].matches[0]",
    source: ObjectRef = ROUTE,
) -> HTTPMatch:
    return HTTPMatch(
        host=host,
        path=path,
        path_type=path_type,
        method=method,
        headers=tuple(ValueMatch(name=n, value=v) for n, v in (headers or {}).items()),
        query=tuple(ValueMatch(name=n, value=v) for n, v in (query or {}).items()),
        backend=backend,
        source=source,
        rule=rule,
    )


def http_port(port: int, *matches: HTTPMatch, address: str | None = None) -> GatewayPort:
    return GatewayPort(
        gateway=GATEWAY,
        address=address,
        port=port,
        protocol=ListenerProtocol.HTTP,
        matches=matches,
    )


def https_port(
    port: int, certificates: tuple[tuple[str, Certificate], ...], *matches: HTTPMatch
) -> GatewayPort:
    return GatewayPort(
        gateway=GATEWAY,
        address=None,
        port=port,
        protocol=ListenerProtocol.HTTPS,
        matches=matches,
        certificates=tuple(
            ListenerCertificate(host=host, file=certificate.file)
            for host, certificate in certificates
        ),
    )


def tls_port(port: int, *routes: tuple[str, str]) -> GatewayPort:
    return GatewayPort(
        gateway=GATEWAY,
        address=None,
        port=port,
        protocol=ListenerProtocol.TLS,
        sni_routes=tuple(
            SNIRoute(host=host, backend=backend, source=ROUTE) for host, backend in routes
        ),
    )


def tcp_port(port: int, backend: str | None) -> GatewayPort:
    return GatewayPort(
        gateway=GATEWAY, address=None, port=port, protocol=ListenerProtocol.TCP, backend=backend
    )


def split(name: str, *members: tuple[str, int]) -> Split:
    return Split(
        name=name,
        backends=tuple(WeightedBackend(backend=b, weight=w) for b, w in members),
    )


def gateway_routing(
    *ports: GatewayPort,
    backends: tuple[Backend, ...] = (),
    splits: tuple[Split, ...] = (),
    certificates: tuple[Certificate, ...] = (),
) -> Routing:
    """Only Gateway ports (the Ingress frontend answers 404 to everything)."""
    return Routing(
        default_backend=NOT_FOUND.name,
        default_source="built-in 404",
        backends=(NOT_FOUND, *backends),
        gateway_ports=ports,
        splits=splits,
        certificates=tuple(sorted(set(certificates), key=lambda c: c.file)),
    )
