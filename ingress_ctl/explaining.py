"""`explain`: which Ingress, rule, backend and servers a request reaches, and why.

Uses the same lookup table that the map files are written from, in the same
order of lookups as the HAProxy configuration.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ingress_ctl.haproxy import naming
from ingress_ctl.model.matching import ANY_HOST, RefusedPath, build_table, lookup, normalise_path
from ingress_ctl.model.routing import Backend, Routing


def explain(routing: Routing, *, url: str) -> list[str]:
    """Lines that say where a request for `url` goes and why."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"{url!r} is not an absolute URL like http://host/path")
    asked = parts.path or "/"
    host = parts.netloc.rpartition("@")[2]
    try:
        path = normalise_path(asked)
    except RefusedPath as error:
        return [f"request: host {parts.hostname!r}, path {asked!r}", f"answered 400: {error}"]
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
