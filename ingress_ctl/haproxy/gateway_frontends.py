"""What haproxy.cfg and the map files say for Gateway API ports: frontends, chains, maps.

Apart from `rendering` so that rendering the routing of Ingresses alone imports neither
this nor the Gateway API's model and tables (`rendering.render_state` imports it for a
routing with Gateway ports or splits). The template prints a `GatewayFrontend` per port;
the route, host, parent, stream and split maps come from `gateway_tables`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ingress_ctl.haproxy import escaping, gateway_tables, naming
from ingress_ctl.haproxy.gateway_tables import PortTable, Step
from ingress_ctl.model.gateways import ClientValidation, GatewayPort, ListenerProtocol, ValueMatch
from ingress_ctl.model.routing import Routing

GatewayRendering = tuple[list["GatewayFrontend"], dict[str, dict[str, str]], int]
"""The frontends for the template (one per port, two for a TLS port that terminates), the
Gateway maps by file, and the backends per split line (see gateway_tables.split_slots)."""


def render_gateways(routing: Routing, sections: dict[str, str], bind_host: str) -> GatewayRendering:
    """The frontends and maps of the routing's Gateway ports (section names as `sections` say)."""
    tables = gateway_tables.http_tables(routing)
    return (
        _frontends(routing, tables, sections, bind_host),
        _maps(routing, tables, sections),
        gateway_tables.split_slots(routing.splits) if routing.splits else 0,
    )


@dataclass(frozen=True)
class _Condition:
    """A header or query condition: the fetch word (name escaped) and the value it must equal."""

    fetch: str
    value: str


@dataclass(frozen=True)
class _GatewayStep:
    id: str
    """`<chain id>_<index>`: marks the step while its conditions are checked."""
    backend: str
    method: str | None
    conditions: tuple[_Condition, ...]
    """Header conditions, then query conditions."""


@dataclass(frozen=True)
class _GatewayChain:
    id: str
    steps: tuple[_GatewayStep, ...]


@dataclass(frozen=True)
class _ListenerHost:
    """How the template tells whether a name (SNI or Host) is a listener's: `exact` (equal),
    `suffix` (ends with `value`, a wildcard listener) or `any` (a listener without hostname)."""

    index: int
    how: str
    value: str


def _listener_hosts(port: GatewayPort) -> tuple[_ListenerHost, ...]:
    """The listener hostnames of an HTTPS port, most specific first, numbered."""
    return tuple(
        _ListenerHost(
            index,
            "any" if not host else "suffix" if host.startswith("*.") else "exact",
            host[1:] if host.startswith("*.") else host,
        )
        for index, host in enumerate(port.listener_hosts)
    )


@dataclass(frozen=True)
class GatewayFrontend:
    """What the template prints for one Gateway port."""

    frontend: str
    bind: str
    tcp: bool
    tls: bool
    crt_lines: tuple[tuple[str, ...], ...]
    listeners: tuple[_ListenerHost, ...] = ()
    """HTTPS with listeners of several hostnames: SNI and Host must choose the same one."""
    client_validation: ClientValidation | None = None
    """HTTPS: the CA bundle client certificates are checked against, and whether optional."""
    terminated: bool = False
    """A TLS port's terminating frontend: decrypts, then routes by the handshake's SNI."""
    to_terminating: tuple[str, str] | None = None
    """A TLS port with Terminate listeners: the backend (and UNIX socket) through which it
    hands their streams to its terminating frontend."""
    depth: int = 0
    exact: tuple[_GatewayChain, ...] = ()
    wildcard: tuple[_GatewayChain, ...] = ()
    any: tuple[_GatewayChain, ...] = ()

    @property
    def crt_list(self) -> str | None:
        return naming.gateway_crt_list(self.frontend) if self.crt_lines else None


def _frontends(
    routing: Routing, tables: list[PortTable], sections: dict[str, str], bind_host: str
) -> list[GatewayFrontend]:
    by_frontend = {table.frontend: table for table in tables}
    found = []
    for port in routing.gateway_ports:
        frontend = naming.gateway_frontend_name(port.address, port.port)
        bind = naming.server_address(port.address or bind_host, port.port)
        tcp = port.protocol in (ListenerProtocol.TLS, ListenerProtocol.TCP)
        tls = port.protocol is ListenerProtocol.TLS
        view = GatewayFrontend(
            frontend=frontend,
            bind=bind,
            tcp=tcp,
            tls=tls,
            crt_lines=() if tls else _gateway_crt_lines(port),
            listeners=_listener_hosts(port),
            client_validation=port.client_validation,
        )
        if tls and port.certificates:
            found.extend(_terminating(view, port))
            continue
        table = by_frontend.get(frontend)
        if table is not None:
            chains = {
                level: tuple(_chain(chain.id, chain.steps, sections) for chain in found_chains)
                for level, found_chains in table.chains.items()
            }
            view = replace(
                view,
                depth=table.depth,
                exact=chains[gateway_tables.Level.EXACT],
                wildcard=chains[gateway_tables.Level.WILDCARD],
                any=chains[gateway_tables.Level.ANY],
            )
        found.append(view)
    return found


def _terminating(view: GatewayFrontend, port: GatewayPort) -> list[GatewayFrontend]:
    """A TLS port with Terminate listeners: its frontend, which hands their SNI names to a
    backend whose server is the UNIX socket of a second frontend that decrypts them."""
    socket = naming.gateway_terminating_socket(view.frontend)
    backend = naming.gateway_terminating_backend(view.frontend)
    inner = GatewayFrontend(
        frontend=naming.gateway_terminating_frontend(view.frontend),
        bind=f"unix@{socket}",
        tcp=True,
        tls=True,
        crt_lines=_gateway_crt_lines(port),
        terminated=True,
    )
    return [replace(view, to_terminating=(backend, socket)), inner]


def _chain(chain: str, steps: tuple[Step, ...], sections: dict[str, str]) -> _GatewayChain:
    return _GatewayChain(
        chain,
        tuple(
            _GatewayStep(
                id=f"{chain}_{index}",
                backend=sections.get(step.backend, step.backend),
                method=step.method,
                conditions=_conditions("req.fhdr", step.headers) + _conditions("urlp", step.query),
            )
            for index, step in enumerate(steps, 1)
        ),
    )


def _conditions(fetch: str, matches: tuple[ValueMatch, ...]) -> tuple[_Condition, ...]:
    return tuple(
        _Condition(f"{fetch}({escaping.sample_argument(match.name)})", match.value)
        for match in matches
    )


def _gateway_crt_lines(port: GatewayPort) -> tuple[tuple[str, ...], ...]:
    """The crt-list of an HTTPS port: a line per certificate file with its SNI names, the
    first (the default certificate) first; a line without names indexes the certificate's
    own names, except the default's (`!*`)."""
    hosts: dict[str, list[str]] = {}
    for certificate in port.certificates:
        names = hosts.setdefault(certificate.file, [])
        if certificate.host and certificate.host not in names:
            names.append(certificate.host)
    lines = [(file, *names) for file, names in hosts.items()]
    if lines and len(lines[0]) == 1:
        lines[0] = (lines[0][0], "!*")
    return tuple(lines)


def _maps(
    routing: Routing, tables: list[PortTable], sections: dict[str, str]
) -> dict[str, dict[str, str]]:
    """The Gateway maps the configuration reads, and only those (a map comes or goes with a
    change of haproxy.cfg: see `rendering._maps`)."""
    maps: dict[str, dict[str, str]] = {}
    streams = [
        p
        for p in routing.gateway_ports
        if p.protocol in (ListenerProtocol.TLS, ListenerProtocol.TCP)
    ]
    if tables:
        maps[naming.GATEWAY_ROUTES_MAP] = gateway_tables.route_map(tables, sections)
    if any(table.depth for table in tables) or any(
        p.protocol is ListenerProtocol.TLS for p in routing.gateway_ports
    ):
        maps[naming.GATEWAY_HOSTS_MAP] = gateway_tables.hosts_map(tables, routing.gateway_ports)
    if any(table.depth > 1 for table in tables):
        maps[naming.GATEWAY_PARENTS_MAP] = gateway_tables.parents_map(tables)
    if streams:
        maps[naming.GATEWAY_STREAMS_MAP] = gateway_tables.streams_map(
            routing.gateway_ports, sections
        )
    if routing.splits:
        maps[naming.GATEWAY_SPLITS_MAP] = gateway_tables.splits_map(routing.splits, sections)
    return maps
