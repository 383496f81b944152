"""`explain`: which Ingress or HTTPRoute rule, backend and servers a request reaches, and why.

Uses the same lookup tables that the map files are written from, in the same
order of lookups as the HAProxy configuration. A URL whose port is a Gateway's
HTTP(S) port is explained by that port's tables (haproxy/gateway_tables.py),
any other by the Ingress routes.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from ingress_ctl.haproxy import gateway_tables, naming
from ingress_ctl.haproxy.gateway_tables import Decision, Request
from ingress_ctl.model.gateways import GatewayPort, HTTPMatch, ListenerProtocol
from ingress_ctl.model.matching import ANY_HOST, RefusedPath, build_table, lookup, normalise_path
from ingress_ctl.model.routing import Backend, PathType, Routing

DEFAULT_PORTS = {"http": 80, "https": 443}


def explain(
    routing: Routing,
    *,
    url: str,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    gateway: str | None = None,
) -> list[str]:
    """Lines that say where a request for `url` goes and why (`method` and `headers` matter
    to Gateway matches only; `gateway`, `namespace/name`, picks among Gateways on the port)."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"{url!r} is not an absolute URL like http://host/path")
    asked = parts.path or "/"
    host = parts.netloc.rpartition("@")[2]
    try:
        path = normalise_path(asked)
    except RefusedPath as error:
        return [f"request: host {parts.hostname!r}, path {asked!r}", f"answered 400: {error}"]
    port = _gateway_port(routing, parts.port or DEFAULT_PORTS.get(parts.scheme, 80), gateway)
    if port is not None:
        request = Request.parse(
            host=host,
            path=path + (f"?{parts.query}" if parts.query else ""),
            method=method,
            headers=headers or {},
        )
        normalised = f" (normalised from {asked!r})" if path != asked else ""
        return _explain_gateway(routing, port, request, normalised)
    if gateway is not None:
        raise ValueError(f"no HTTP or HTTPS port of Gateway {gateway} is the port of {url!r}")
    match = lookup(build_table(routing), routing=routing, host=host, path=path)
    normalised = f" (normalised from {asked!r})" if path != asked else ""
    lines = [f"request: host {parts.hostname!r}, path {path!r}{normalised}"]
    lines.append(f"host key: {_host_key(match.host_key)}")
    if match.route is not None:
        route = match.route
        lines.append(f"matched: {match.reason} of {route.source} ({route.rule})")
    else:
        lines.append(f"matched: {match.reason}")
    lines.extend(_backend(routing.backend(match.backend)))
    return lines


def _gateway_port(routing: Routing, port: int, gateway: str | None) -> GatewayPort | None:
    found = [
        candidate
        for candidate in routing.gateway_ports
        if candidate.port == port
        and candidate.protocol in (ListenerProtocol.HTTP, ListenerProtocol.HTTPS)
        and gateway in (None, f"{candidate.gateway.namespace}/{candidate.gateway.name}")
    ]
    if len(found) > 1:
        names = ", ".join(f"{p.gateway.namespace}/{p.gateway.name}" for p in found)
        raise ValueError(f"Gateways {names} all listen on port {port}: pick one with --gateway")
    return found[0] if found else None


def _explain_gateway(
    routing: Routing, port: GatewayPort, request: Request, normalised: str
) -> list[str]:
    table = gateway_tables.build_port_table(port)
    decision = gateway_tables.lookup(table, request)
    lines = [
        f"request: {request.method} host {request.host!r}, path {request.path!r}{normalised}",
        f"gateway: {port.gateway} port {port.port} ({port.protocol}), frontend {table.frontend}",
    ]
    lines.extend(_decision(decision))
    if decision.match is None:
        lines.append("backend: none: answers 404")
        return lines
    split = next((s for s in routing.splits if s.name == decision.match.backend), None)
    if split is None:
        return lines + _backend(routing.backend(decision.match.backend))
    members = gateway_tables.split_members(split)
    total = members[-1][1] if members else 0
    shares, last = [], 0
    for backend, threshold in members:
        shares.append(f"{backend} {threshold - last}/{total}")
        last = threshold
    lines.append(f"split: {split.name}: {', '.join(shares) or 'no backend with a weight'}")
    for backend, _ in members:
        lines.extend(_backend(routing.backend(backend)))
    return lines


def _decision(decision: Decision) -> list[str]:
    if decision.match is None:
        return ["matched: nothing (no host level has a match for this request)"]
    level = f"{decision.level} {decision.host_key!r}"
    lines = [f"lookup: {level}, route key {decision.route_key!r}"]
    for tried in decision.candidates[:-1]:
        lines.append(f"tried: {_where(tried)} ({_conditions(tried)}): a condition fails")
    match = decision.match
    lines.append(f"matched: {_where(match)}: {_conditions(match)}")
    return lines


def _where(match: HTTPMatch) -> str:
    name = f" (rule {match.rule_name!r})" if match.rule_name else ""
    return f"{match.source} {match.rule}{name}"


def _conditions(match: HTTPMatch) -> str:
    """Why a match matches: its path, and its method, header and query conditions."""
    path = "exact path" if match.path_type is PathType.EXACT else "path prefix"
    parts = [f"{path} {match.path!r}"]
    if match.method:
        parts.append(f"method {match.method}")
    parts.extend(f"header {h.name} = {h.value!r}" for h in match.headers)
    parts.extend(f"query {q.name} = {q.value!r}" for q in match.query)
    return ", ".join(parts)


def _host_key(key: str) -> str:
    if key == ANY_HOST:
        return "no host rule matches; rules without a host apply"
    if key.startswith("*."):
        return f"{key} (wildcard host)"
    return f"{key} (exact host)"


def _backend(backend: Backend) -> list[str]:
    if backend.status is not None:
        return [f"backend: {backend.name} (built-in: answers {backend.status})"]
    lines = [f"backend: {backend.name} (Service {backend.service})"]
    if not backend.servers:
        lines.append("servers: none: requests answer 503")
    else:
        addresses = ", ".join(naming.server_address(s.address, s.port) for s in backend.servers)
        lines.append(f"servers: {addresses}")
    return lines
