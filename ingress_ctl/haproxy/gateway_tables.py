"""Gateway lookup tables: what the Gateway map files hold, and the same lookup in Python.

A Gateway port's `matches` are in precedence order: the first that matches a
request wins (`first_match`, the reference). HAProxy cannot walk a list per
request, so the HTTP frontend of a port looks the request up through map files
instead, by levels of host:

1. the exact host: one `map_beg` of `<frontend>|<host><path>?` in the routes map;
2. wildcard hosts, the longest suffix first: `map_end` of `<host>|<frontend>` in
   the hosts map (keys `.<suffix>|<frontend>`, written longest first, HAProxy
   takes the first in file order) gives `*.<suffix>`, and the parents map its
   next shorter wildcard, as many levels as the port nests wildcards; each is
   looked up like the exact host;
3. matches without a host (`@`), the same way.

Route keys are those of Ingress (model/matching.py): `<hostkey><path>?` for an
Exact path, `<hostkey><base>?` and `<hostkey><base>/` for a Prefix one, so the
longest key that starts the request's `<hostkey><path>?` names exactly the set of
the level's matches whose path matches the request (every shorter key that starts
the request also starts the longest one). Its value is, in list order, what those
candidates say: the backend (or split) of the first when it has no method, header
or query condition; else a chain id, whose steps (the conditional candidates in
order, up to and including the first unconditional one) the configuration renders
as ordered `set-var` lines. A level none of whose candidates hold falls through to
the next. The result equals `first_match` when the matches are in the Gateway
API's precedence, which puts hosts first: among matches whose hosts can match the
same request, the exact host comes before wildcards, a longer wildcard before a
shorter one, and wildcards before matches without a host (`precedence_ordered`).

TLS ports look the SNI name up in the streams map (`<name>|<frontend>`, exact, then
the wildcard from the hosts map), TCP ports their frontend's name. A split's entry in
the splits map is `<total>|<backend>|<threshold>|...`: HAProxy draws `rand` modulo the
total and takes the first backend whose cumulative threshold is above the draw.
Pure: no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ingress_ctl.haproxy import naming
from ingress_ctl.model.gateways import GatewayPort, HTTPMatch, ListenerProtocol, Split, ValueMatch
from ingress_ctl.model.matching import ANY_HOST, WHOLE_PATH, ascii_lower, prefix_base
from ingress_ctl.model.routing import PathType, Routing

SEPARATOR = "|"
"""Between a frontend's name and a host (neither holds one)."""


class Level(StrEnum):
    """Which hosts a lookup level tries."""

    EXACT = "exact host"
    WILDCARD = "wildcard host"
    ANY = "any host"


@dataclass(frozen=True)
class Request:
    """What the lookup reads of a request: its host (lowercase, no port), normalised path,
    method, headers (names lowercase) and query parameters (raw)."""

    host: str
    path: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)

    @staticmethod
    def parse(*, host: str, path: str, method: str, headers: Mapping[str, str]) -> Request:
        """From a Host header, a path with its query, a method and headers."""
        bare, _, query = path.partition("?")
        params: dict[str, str] = {}
        for pair in query.split("&"):
            name, _, value = pair.partition("=")
            params.setdefault(name, value)  # raw, as HAProxy's `urlp` compares them
        return Request(
            host=ascii_lower(host.rsplit(":", 1)[0] if "]" not in host else host),
            path=bare or "/",
            method=method,
            headers={name.lower(): value for name, value in headers.items()},
            query=params,
        )


def host_matches(pattern: str, host: str) -> bool:
    """Gateway API host matching: exact; `*.suffix` for any name ending in `.suffix`
    (one label or more before it); "" for every host."""
    if not pattern:
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return host == pattern


def path_matches(match: HTTPMatch, path: str) -> bool:
    """Exact: the whole path; Prefix: element by element, the rule's trailing slash ignored."""
    if match.path_type is PathType.EXACT:
        return path == match.path
    base = prefix_base(match.path)
    return path == base or path.startswith(base + "/")


def conditions_hold(match: HTTPMatch, request: Request) -> bool:
    """The method, every header and every query condition of a match."""
    if match.method is not None and request.method != match.method:
        return False
    if any(request.headers.get(h.name) != h.value for h in match.headers):
        return False
    return all(request.query.get(q.name) == q.value for q in match.query)


def first_match(port: GatewayPort, request: Request) -> HTTPMatch | None:
    """The reference: the first of the port's matches that matches the request."""
    for match in port.matches:
        if (
            host_matches(match.host, request.host)
            and path_matches(match, request.path)
            and conditions_hold(match, request)
        ):
            return match
    return None


def host_rank(host: str) -> tuple[int, int]:
    """Sorts hosts in the Gateway API's precedence: exact, longer wildcards, no host."""
    if not host:
        return (2, 0)
    if host.startswith("*."):
        return (1, -len(host))
    return (0, 0)


def precedence_ordered(matches: tuple[HTTPMatch, ...]) -> bool:
    """Whether the order is one the tables reproduce (see the module's docstring)."""
    return all(
        host_rank(a.host) <= host_rank(b.host)
        for i, a in enumerate(matches)
        for b in matches[i + 1 :]
        if _may_overlap(a.host, b.host)
    )


def _may_overlap(a: str, b: str) -> bool:
    """Whether some request host matches both host patterns."""
    if not a or not b:
        return True
    if a.startswith("*.") and b.startswith("*."):
        return a.endswith(b[1:]) or b.endswith(a[1:])
    if a.startswith("*."):
        return host_matches(a, b)
    return host_matches(b, a) if b.startswith("*.") else a == b


@dataclass(frozen=True)
class Step:
    """One line of a chain: these conditions hold, then this backend (or split)."""

    backend: str
    method: str | None
    headers: tuple[ValueMatch, ...]
    query: tuple[ValueMatch, ...]


@dataclass(frozen=True)
class Chain:
    """Conditional candidates of a route key, in order (the last may be unconditional)."""

    id: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Entry:
    """A route key's candidates in order, up to the first unconditional one, and the value
    its map entry holds (a backend, a split, or a chain id)."""

    candidates: tuple[HTTPMatch, ...]
    value: str


@dataclass(frozen=True)
class PortTable:
    """The lookup tables of one HTTP(S) Gateway port."""

    frontend: str
    routes: dict[str, Entry]
    """Route key (`<hostkey><path>?` or `<hostkey><base>/`, no frontend) -> entry."""
    wildcards: tuple[str, ...]
    """The port's wildcard hosts, longest first."""
    parents: dict[str, str]
    """Wildcard host -> the next shorter wildcard host of the port that contains it."""
    chains: dict[Level, tuple[Chain, ...]]
    """The chains each level's entries name (rendered once per level), by id."""

    @property
    def depth(self) -> int:
        """How many wildcard levels a request may go through."""
        deepest = 0
        for wildcard in self.wildcards:
            count, current = 1, wildcard
            while current in self.parents:
                count, current = count + 1, self.parents[current]
            deepest = max(deepest, count)
        return deepest


def host_key(host: str) -> str:
    """The host part of a route key: the host, `*.suffix`, or ANY_HOST."""
    return host or ANY_HOST


def level_of(key: str) -> Level:
    if key == ANY_HOST:
        return Level.ANY
    return Level.WILDCARD if key.startswith("*.") else Level.EXACT


def path_keys(match: HTTPMatch) -> tuple[str, ...]:
    """The route keys of a match, after its host key."""
    if match.path_type is PathType.EXACT:
        return (match.path + WHOLE_PATH,)
    base = prefix_base(match.path)
    return (base + WHOLE_PATH, base + "/") if base else ("/",)


def _step(match: HTTPMatch) -> Step:
    return Step(match.backend, match.method, match.headers, match.query)


def chain_id(steps: tuple[Step, ...]) -> str:
    """Named by content: equal chains share one, and it stays while the chain does."""
    return naming.chain_name(hashlib.sha256(repr(steps).encode()).hexdigest()[:12])


def _prefix_keys(wanted: str) -> Iterator[str]:
    """The strings that could be route keys starting `wanted`, longest first: itself, and
    every prefix ending in `/` (route keys end in `?` or `/`)."""
    yield wanted
    end = wanted.rfind("/", 0, len(wanted) - 1)
    while end >= 0:
        yield wanted[: end + 1]
        end = wanted.rfind("/", 0, end)


def build_port_table(port: GatewayPort) -> PortTable:
    """The tables of an HTTP(S) port's matches."""
    by_host: dict[str, list[HTTPMatch]] = {}
    for match in port.matches:
        by_host.setdefault(host_key(match.host), []).append(match)
    routes: dict[str, Entry] = {}
    chains: dict[Level, dict[str, Chain]] = {level: {} for level in Level}
    for key, matches in by_host.items():
        owners: dict[str, list[int]] = {}
        for index, match in enumerate(matches):
            for path_key in path_keys(match):
                owners.setdefault(path_key, []).append(index)
        for path_key in sorted(owners):
            found = sorted({i for k in _prefix_keys(path_key) for i in owners.get(k, ())})
            candidates: list[HTTPMatch] = []
            for index in found:
                candidates.append(matches[index])
                if not matches[index].conditional:
                    break
            if not candidates[0].conditional:
                routes[key + path_key] = Entry((candidates[0],), candidates[0].backend)
                continue
            steps = tuple(_step(match) for match in candidates)
            chain = Chain(chain_id(steps), steps)
            chains[level_of(key)][chain.id] = chain
            routes[key + path_key] = Entry(tuple(candidates), chain.id)
    wildcards = tuple(
        sorted((k for k in by_host if k.startswith("*.")), key=lambda k: (-len(k), k))
    )
    parents = {}
    for i, wildcard in enumerate(wildcards):
        parent = next((w for w in wildcards[i + 1 :] if wildcard.endswith(w[1:])), None)
        if parent is not None:
            parents[wildcard] = parent
    return PortTable(
        frontend=naming.gateway_frontend_name(port.address, port.port),
        routes=dict(sorted(routes.items(), key=lambda item: (-len(item[0]), item[0]))),
        wildcards=wildcards,
        parents=parents,
        chains={
            level: tuple(sorted(found.values(), key=lambda c: c.id))
            for level, found in chains.items()
        },
    )


@dataclass(frozen=True)
class Decision:
    """Where a request goes on a port, and why."""

    match: HTTPMatch | None
    level: Level | None
    host_key: str | None
    route_key: str | None
    chain: str | None
    candidates: tuple[HTTPMatch, ...] = ()
    """The candidates tried at the winning key, in order (the winner last)."""


def lookup(table: PortTable, request: Request) -> Decision:
    """Resolve a request exactly as the rendered frontend does."""
    for key in _host_keys(table, request.host):
        wanted = key + request.path + WHOLE_PATH
        found = next((k for k in _prefix_keys(wanted) if k in table.routes), None)
        if found is None:
            continue
        entry = table.routes[found]
        chain = entry.value if naming.is_chain(entry.value) else None
        for index, candidate in enumerate(entry.candidates):
            if conditions_hold(candidate, request):
                candidates = entry.candidates[: index + 1]
                return Decision(candidate, level_of(key), key, found, chain, candidates)
    return Decision(None, None, None, None, None)


def _host_keys(table: PortTable, host: str) -> Iterator[str]:
    """The host keys a request tries, in the frontend's order."""
    yield host
    current = next((w for w in table.wildcards if host.endswith(w[1:])), None)
    while current is not None:
        yield current
        current = table.parents.get(current)
    yield ANY_HOST


# The map files.


def route_map(tables: list[PortTable], sections: Mapping[str, str]) -> dict[str, str]:
    """`<frontend>|<route key>` -> backend section, split or chain id (longest first)."""
    entries = {
        table.frontend + SEPARATOR + key: sections.get(entry.value, entry.value)
        for table in tables
        for key, entry in table.routes.items()
    }
    return dict(sorted(entries.items(), key=lambda item: (-len(item[0]), item[0])))


def hosts_map(tables: list[PortTable], ports: tuple[GatewayPort, ...]) -> dict[str, str]:
    """`.<suffix>|<frontend>` -> `*.<suffix>`, longest first (HTTP wildcards and TLS ones)."""
    entries = {
        wildcard[1:] + SEPARATOR + t.frontend: wildcard for t in tables for wildcard in t.wildcards
    }
    for port in ports:
        frontend = naming.gateway_frontend_name(port.address, port.port)
        for route in port.sni_routes:
            if route.host.startswith("*."):
                entries[route.host[1:] + SEPARATOR + frontend] = route.host
                if route.terminate:
                    inner = naming.gateway_terminating_frontend(frontend)
                    entries[route.host[1:] + SEPARATOR + inner] = route.host
    return dict(sorted(entries.items(), key=lambda item: (-len(item[0]), item[0])))


def parents_map(tables: list[PortTable]) -> dict[str, str]:
    """`*.<suffix>|<frontend>` -> the next shorter wildcard of that port."""
    return {
        child + SEPARATOR + t.frontend: parent
        for t in tables
        for child, parent in sorted(t.parents.items())
    }


def streams_map(ports: tuple[GatewayPort, ...], sections: Mapping[str, str]) -> dict[str, str]:
    """TLS: `<SNI name or *.suffix>|<frontend>` -> backend; TCP: `<frontend>` -> backend.
    A terminated SNI route's name leads the port's frontend to its terminating frontend's
    backend, and that frontend (`<name>|<frontend>_tls`, after decryption) to the route's."""
    entries: dict[str, str] = {}
    for port in ports:
        frontend = naming.gateway_frontend_name(port.address, port.port)
        if port.protocol is ListenerProtocol.TCP and port.backend is not None:
            entries[frontend] = sections.get(port.backend, port.backend)
        for route in port.sni_routes:
            backend = sections.get(route.backend, route.backend)
            if route.terminate:
                inner = naming.gateway_terminating_frontend(frontend)
                entries.setdefault(route.host + SEPARATOR + inner, backend)
                backend = naming.gateway_terminating_backend(frontend)
            entries.setdefault(route.host + SEPARATOR + frontend, backend)
    return dict(sorted(entries.items()))


def split_members(split: Split) -> tuple[tuple[str, int], ...]:
    """Backends with a weight above 0 and their cumulative thresholds."""
    members, total = [], 0
    for member in split.backends:
        if member.weight > 0:
            total += member.weight
            members.append((member.backend, total))
    return tuple(members)


def splits_map(splits: tuple[Split, ...], sections: Mapping[str, str]) -> dict[str, str]:
    """Split name -> `<total>|<backend>|<threshold>|...` (weights of 0 left out)."""
    entries = {}
    for split in splits:
        members = split_members(split)
        words = [str(members[-1][1])] if members else ["0"]
        for backend, threshold in members:
            words += [sections.get(backend, backend), str(threshold)]
        entries[split.name] = SEPARATOR.join(words)
    return entries


def split_slots(splits: tuple[Split, ...]) -> int:
    """How many members the split lines of the configuration can choose from: a power of two
    at least as large as the largest split (so most new splits need no reload)."""
    largest = max((len(split_members(split)) for split in splits), default=0)
    slots = 2
    while slots < largest:
        slots *= 2
    return slots


def http_tables(routing: Routing) -> list[PortTable]:
    """The tables of every HTTP and HTTPS Gateway port."""
    return [
        build_port_table(port)
        for port in routing.gateway_ports
        if port.protocol in (ListenerProtocol.HTTP, ListenerProtocol.HTTPS)
    ]
