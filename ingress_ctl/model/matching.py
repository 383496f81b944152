"""What hosts and paths mean: Kubernetes Ingress matching, in one place.

Parses rule hosts and paths into checked values, and builds the lookup table
that HAProxy's map files hold. The same table answers `explain` in Python,
with the same order of lookups as the HAProxy configuration:

1. host key: the exact host, else its one-label wildcard (`*.rest`), else
   ANY_HOST (rules without a host);
2. the route map, one longest-prefix lookup (HAProxy's `map_beg`) of
   `hostkey + path + "?"`: it holds `hostkey + path + "?"` for Exact paths,
   and for Prefix paths `hostkey + prefix + "?"` (a request equal to the
   prefix) and `hostkey + prefix + "/"`. A request path never holds a `?`,
   so a `?` key matches the whole path only, and beats every `/` key (it is
   longer); Exact wins a tie with a Prefix because it is written last;
3. the host key's default backend, else the controller's default.

Before any lookup the request path is normalised (`normalise_path`, HAProxy's
`normalize-uri` in the configuration): `/%61dmin`, `//admin`, `/./admin` and
`/x/../admin` are all `/admin`, and a path that climbs above `/` or holds an
encoded slash, backslash or NUL is answered 400.

HAProxy first looks up the route map with the request's own host as the key, a
shortcut with the same answer: only an exact host key starts a key followed by
`/` (hosts hold no `/`), so a hit there is step 2's answer for an exact host.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Container
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter

from ingress_ctl.model.routing import PathType, Route, Routing, VirtualHost
from ingress_ctl.model.views import rust_matcher

_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
REFUSED_IN_PATHS = ("%2F", "%5C", "%00", "\\")
"""What a normalised path may not hold (an encoded `/`, `\\` or NUL; a raw backslash)."""


class RefusedPath(ValueError):
    """A request path HAProxy answers with 400."""


def _unescape(found: re.Match[str]) -> str:
    char = chr(int(found[1], 16))
    return char if char in _UNRESERVED else "%" + found[1].upper()


def normalise_path(path: str) -> str:
    """The path HAProxy routes (and sends to the pods) for a request path, or RefusedPath.

    Percent-escapes of unreserved characters are decoded and the others uppercased;
    empty segments are merged; `.` segments are dropped and `..` removes the segment
    before it (a trailing one leaves a trailing `/`).
    """
    if _BAD_ESCAPE.search(path):
        raise RefusedPath(f"{path!r} holds a '%' that starts no percent-escape")
    decoded = _ESCAPE.sub(_unescape, path)
    segments: list[str] = []
    trailing = decoded.endswith("/")
    for segment in decoded.split("/")[1:]:
        trailing = segment in ("", ".", "..")
        if segment in ("", "."):
            continue
        if segment == ".." and segments and segments[-1] != "..":
            segments.pop()
        else:
            segments.append(segment)
    normal = "/" + "/".join(segments) + ("/" if trailing and segments else "")
    if segments and segments[0] == "..":
        raise RefusedPath(f"{path!r} climbs above /")
    if any(refused in normal for refused in REFUSED_IN_PATHS):
        raise RefusedPath(f"{path!r} holds an encoded slash, backslash or NUL")
    return normal


ANY_HOST = "@"
"""Host key of rules without a host; `@` is never part of a DNS name."""
WHOLE_PATH = "?"
"""Ends the route keys that match a whole path: HAProxy's `path` never holds a `?` (nor does a
rule path), so the route lookup is `hostkey + path + "?"` (the template writes the `?`)."""

_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$")
_host_matches = rust_matcher(_HOST.pattern)
"""Whether `_HOST` matches all of a host, run in Rust (`views.rust_matcher`): 4 times faster than
`re` on a host (one per rule at scale; tests/model/test_matching.py holds the two equal)."""
_PATH = re.compile(r"^/[A-Za-z0-9\-._~!$&()*+,;=:@/%]*$")
_BAD_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")
_BAD_SUFFIXES = ("/..", "/.")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_NUMBER_CHARACTERS = frozenset("0123456789abcdefx.")
"""Every character that libc's IPv4 numbers-and-dots may hold in a lowercase name (decimal,
octal, `0x` hexadecimal parts)."""


def ascii_lower(text: str) -> str:
    """Lowercase ASCII letters only, as HAProxy's `lower` converter does.

    `str.lower` also folds some non-ASCII letters into ASCII ones (the Kelvin
    sign becomes `k`), which HAProxy never does. On ASCII text, `str.lower` is the same and
    ten times faster than the table (most hosts are ASCII).
    """
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def parse_host(raw: str) -> str:
    """A rule host as a lowercase DNS name, optionally with a leading `*.` label."""
    host = ascii_lower(raw)
    if len(host) > 253 or not _host_matches(host):
        raise ValueError(f"{raw!r} is not a DNS name (optionally starting with '*.')")
    if _is_ip(host):
        raise ValueError(f"{raw!r} is an IP address; Ingress hosts must be names")
    return host


def _is_ip(host: str) -> bool:
    """Whether libc would read a lowercase DNS name (one `_HOST` matches) as an IPv4 address
    (`10.0.0.1`, `0x7f.1`, `2130706433`).

    A name with a character no number holds is none: most names, which would cost an
    exception each if asked of libc."""
    return _NUMBER_CHARACTERS.issuperset(host) and _libc_reads_as_ip(host)


def _libc_reads_as_ip(host: str) -> bool:
    """Whether libc would read the name as an IPv4 address."""
    try:
        socket.inet_aton(host)
    except OSError:
        return all(part.isdigit() for part in host.split("."))
    return True


@lru_cache(maxsize=4096)
def parse_path(raw: str | None) -> str:
    """A rule path: absolute, characters allowed in a URL path, no dot segments (cached:
    most Ingresses use the same few paths)."""
    path = raw or "/"
    if len(path) > 2048 or not _PATH.fullmatch(path):
        raise ValueError(
            f"{path!r} must start with '/' and hold only URL path characters "
            "(letters, digits and -._~!$&()*+,;=:@/%)"
        )
    for sequence in _BAD_SEQUENCES:
        if sequence in path:
            raise ValueError(f"{path!r} must not contain {sequence!r}")
    if path.endswith(_BAD_SUFFIXES):
        raise ValueError(f"{path!r} must not end with a dot segment")
    return path


def prefix_base(path: str) -> str:
    """A Prefix path without its trailing slash; "" for the root."""
    return path.rstrip("/")


def host_key(*, request_host: str, hosts: Container[str]) -> str:
    """The host key that owns a request host: exact, else one-label wildcard, else ANY_HOST."""
    host = ascii_lower(request_host.split(":", 1)[0])
    if host in hosts:
        return host
    wildcard = "*" + host[host.find(".") :] if "." in host else "*"
    return wildcard if wildcard in hosts else ANY_HOST


def key_of(host: str) -> str:
    """The map key of a virtual host ("" becomes ANY_HOST)."""
    return host or ANY_HOST


@dataclass(frozen=True)
class Table:
    """The three lookup tables, in the order the map files are written."""

    exact: dict[str, Route] = field(default_factory=dict)
    prefix: list[tuple[str, Route]] = field(default_factory=list)
    hosts: dict[str, str] = field(default_factory=dict)


def build_table(routing: Routing) -> Table:
    """The map contents for a routing model (deterministic order)."""
    table = Table()
    for vhost in routing.hosts:
        _add_host(table, vhost, routing.default_backend)
    _longest_first(table.prefix)
    return table


def _add_host(table: Table, vhost: VirtualHost, default_backend: str) -> None:
    """A host's key and its routes: Prefix routes first, then Exact ones (which win a tie)."""
    key = key_of(vhost.host)
    table.hosts[key] = vhost.default_backend or default_backend
    exact, prefix = table.exact, table.prefix
    for route in vhost.routes:
        if route.path_type is PathType.PREFIX:
            base = prefix_base(route.path)
            if base:
                exact[key + base] = route
            prefix.append((key + base + "/", route))
    for route in vhost.routes:
        if route.path_type is PathType.EXACT:
            exact[key + route.path] = route


def _longest_first(entries: list[tuple[str, Route]]) -> None:
    """Sorts entries by key, longest first, then alphabetically, equal keys kept in order: two
    stable sorts, which cost half of one by a (length, key) tuple (40,000 keys at scale)."""
    entries.sort(key=itemgetter(0))
    entries.sort(key=lambda item: len(item[0]), reverse=True)


def route_entries(table: Table) -> list[tuple[str, Route]]:
    """The route map: whole-path keys (`+ "?"`) and prefix keys, longest first (deterministic;
    HAProxy's `map_beg` takes the longest matching key whatever the order)."""
    entries = [(key + WHOLE_PATH, route) for key, route in table.exact.items()]
    entries.extend(table.prefix)
    _longest_first(entries)
    return entries


@dataclass(frozen=True)
class Match:
    """Where a request goes and why."""

    host_key: str
    route: Route | None
    backend: str
    reason: str


def lookup(table: Table, *, routing: Routing, host: str, path: str) -> Match:
    """Resolve a request exactly as the rendered HAProxy configuration does."""
    key = host_key(request_host=host, hosts=table.hosts)
    path_only = path.split("?", 1)[0]
    wanted = key + path_only + WHOLE_PATH
    for entry, route in route_entries(table):
        if not wanted.startswith(entry):
            continue
        if entry.endswith(WHOLE_PATH):
            kind = "exact path" if route.path_type is PathType.EXACT else "prefix equal to the path"
            return Match(key, route, route.backend, f"{kind} {route.path!r}")
        return Match(key, route, route.backend, f"longest prefix {route.path!r}")
    if key in table.hosts:
        return Match(key, None, table.hosts[key], "no path matched: the host's default backend")
    return Match(key, None, routing.default_backend, f"no host matched: {routing.default_source}")
