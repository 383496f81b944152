"""Listener isolation: on one Gateway port, a request is served only by the routes of the
most specific listener whose hostname matches its host.

Two parts make the lookup (haproxy/gateway_tables.py: host levels, the more specific
first, falling through to the next when no match of a level holds) isolate listeners:
a match whose every host a more specific listener claims is dropped (a route of the
listener without hostname that names `*.example.com`, when a `*.example.com` listener
exists), and each listener that a less specific one on the port covers ends its host
level with a guard, a match of every path answered 404, so a request of its hostname
never falls through to the routes of a wider listener.
"""

from __future__ import annotations

from collections.abc import Iterable

from ingress_ctl.haproxy.naming import NOT_FOUND_BACKEND
from ingress_ctl.model.gateways import HTTPMatch
from ingress_ctl.model.routing import ObjectRef, PathType


def covers(pattern: str, host: str) -> bool:
    """Whether every request host `host` matches also matches `pattern` ("" any host,
    `*.suffix` one label or more before the suffix)."""
    if pattern in ("", host):
        return True
    if not pattern.startswith("*.") or host == "":
        return False
    return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1


def narrower(hostname: str, other: str) -> bool:
    """Whether listener hostname `hostname` is strictly more specific than `other`."""
    return hostname != other and covers(other, hostname)


def claimed(host: str, listener: str, others: Iterable[str]) -> bool:
    """Whether a match of `host`, from a listener of hostname `listener`, is never reached:
    a listener more specific than its own, among `others`, claims every host it matches."""
    return any(narrower(other, listener) and covers(other, host) for other in others)


def guards(
    hostnames: Iterable[str], gateway: ObjectRef
) -> list[tuple[tuple[object, ...], HTTPMatch]]:
    """The guards of a port's listener hostnames, with their precedence keys: after every
    match of their host, before every match of a less specific one (see http.precedence)."""
    found = sorted(set(hostnames))
    made = []
    for hostname in found:
        if hostname and any(narrower(hostname, other) for other in found):
            exact = not hostname.startswith("*.")
            key: tuple[object, ...] = (-len(hostname) if exact else 0, -len(hostname), True, 1)
            guard = HTTPMatch(
                host=hostname,
                path="/",
                path_type=PathType.PREFIX,
                backend=NOT_FOUND_BACKEND,
                source=gateway,
                rule=f"listener isolation of {hostname}",
            )
            made.append((key, guard))
    return made
