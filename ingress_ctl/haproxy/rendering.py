"""Rendering: the routing model as haproxy.cfg and map files, from Jinja2 templates.

Templates only loop and print. Every printed value passes through the escaping
function of its sink (chosen by the template's name) as the environment's
`finalize` hook, so no template can print a raw value. The lines printed by the
hundred thousand are joined in Python instead (server lines here, map files by
`escaping.map_lines`), each word checked by its sink's function or by a bulk form of it
that a property test holds equal. Output is deterministic: the same model gives
byte-identical files. Certificate and CA
files hold the PEM that `certificates` serialized from parsed objects. The
lines a backend's policy asks for are in `policy.cfg.j2`. Pooled Service
backends and spares (spares.py) are rendered after the others, under their
section's name, which the map values name too.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from http import HTTPStatus
from itertools import chain
from typing import TYPE_CHECKING

from ingress_ctl.haproxy import escaping, naming, templating
from ingress_ctl.haproxy.slots import Layout, Slot, assign_slots
from ingress_ctl.haproxy.spares import Pool, assign_pool
from ingress_ctl.model.matching import ANY_HOST, build_table, prefix_base, route_entries
from ingress_ctl.model.policies import CANARY_COOKIE, GatewayRedirect, Policy
from ingress_ctl.model.routing import Routing, TLSName
from ingress_ctl.model.settings import Settings

if TYPE_CHECKING:
    from ingress_ctl.haproxy.gateway_frontends import GatewayRendering

TEMPLATES = templating.TEMPLATES
"""The templates' directory (package data)."""

HOST_HEADER = r"^([a-z0-9_-]+\.)*[a-z0-9_-]+\.?(:[0-9]{1,5})?$|^\[[0-9a-f:.]+\](:[0-9]{1,5})?$"
"""What a Host header may hold (case-insensitively): a DNS name or an IP address, and a port.
Anything else (a NUL, a control character, a space, a second value) is answered 400."""


@dataclass(frozen=True)
class Rendered:
    """Every file HAProxy reads, plus the values they were made from (for planning)."""

    files: dict[str, str]
    """File contents by path relative to the state directory."""
    maps: dict[str, dict[str, str]]
    """Entries of each map file HAProxy loads, in file order."""
    layout: Layout
    crt_list: tuple[tuple[str, ...], ...] = ()
    """The HTTPS crt-list's lines as words: the default certificate's line first."""
    gateway_crt_lists: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    """The crt-lists of HTTPS Gateway ports by file, lines as words, the default's first."""
    certificates: dict[str, str] = field(default_factory=dict)
    """PEM of every certificate file, by file."""


def render(routing: Routing, *, settings: Settings) -> dict[str, str]:
    """Every file HAProxy reads, by path relative to the state directory (fresh slots; nothing
    kept for another render)."""
    return render_state(routing, settings=settings, keep_lines=False).files


def render_state(
    routing: Routing,
    *,
    settings: Settings,
    previous: Layout | None = None,
    reloading: bool = False,
    keep_lines: bool = True,
) -> Rendered:
    """The files for routing, keeping the server slots and pooled sections of `previous` where
    possible; `reloading` (the files will be loaded by a reload) lets pools be resized;
    `keep_lines` keeps each backend's server lines for the next render (which makes them
    again only for backends whose slots changed)."""
    pool = assign_pool(routing, previous.pool if previous else None, reloading=reloading)
    layout = assign_slots(routing, previous=previous, pool=pool)
    policies, policy_lines = _policy_blocks(routing, pool)
    bind_host = str(settings.bind_address)
    sections = pool.names()
    gateway, gateway_maps, split_slots = _gateways(routing, sections, bind_host)
    servers = _servers(routing, layout, keep=keep_lines)
    pooled = {section.occupant for section in pool.sections.values()}
    config = templating.render(
        "haproxy.cfg.j2",
        escaping.config_word,
        routing=routing,
        config=routing.config,
        timeouts={
            name: duration(milliseconds)
            for name, milliseconds in routing.config.timeouts.model_dump().items()
        },
        servers=servers,
        policies=policies,
        policy_lines=policy_lines,
        canaries=[backend for backend in routing.backends if backend.policy.route.canary],
        unpooled=[backend for backend in routing.backends if backend.name not in pooled],
        sections=[(name, policy_lines[name], servers[name]) for name in pool.sections],
        names=naming,
        duration=duration,
        any_host=ANY_HOST,
        canary_cookie=CANARY_COOKIE,
        bind_host=bind_host,
        http_bind=naming.server_address(bind_host, settings.http_port),
        https_bind=naming.server_address(bind_host, settings.https_port),
        https_port=settings.https_port,
        host_header=HOST_HEADER,
        handshake_timeout=duration(routing.config.tls_handshake_timeout or 5_000),
        gateway=gateway,
        split_slots=split_slots,
        status_text=_status_text,
    )
    maps = _maps(routing, sections)
    maps.update(gateway_maps)
    lines = crt_list(routing)
    certificates = {certificate.file: certificate.pem for certificate in routing.certificates}
    files = {naming.CONFIG_FILE: config}
    files.update((name, escaping.map_lines(entries.items())) for name, entries in maps.items())
    if lines:
        files[naming.CRT_LIST] = templating.render(
            "crt-list.j2", escaping.crt_list_line, lines=lines
        )
    gateway_crt_lists = {
        naming.gateway_crt_list(port.frontend): port.crt_lines for port in gateway if port.crt_lines
    }
    files.update(
        (name, templating.render("crt-list.j2", escaping.crt_list_line, lines=found))
        for name, found in gateway_crt_lists.items()
    )
    files.update(certificates)
    files.update((bundle.file, bundle.pem) for bundle in routing.ca_bundles)
    return Rendered(
        files=files,
        maps=maps,
        layout=layout,
        crt_list=lines,
        gateway_crt_lists=gateway_crt_lists,
        certificates=certificates,
    )


def _gateways(routing: Routing, sections: dict[str, str], bind_host: str) -> GatewayRendering:
    """The Gateway ports' frontends and maps; their module (and the Gateway API's model and
    tables) is imported only for a routing that has Gateway ports or splits."""
    if not (routing.gateway_ports or routing.splits):
        return [], {}, 0
    from ingress_ctl.haproxy.gateway_frontends import render_gateways  # noqa: PLC0415

    return render_gateways(routing, sections, bind_host)


def _servers(routing: Routing, layout: Layout, *, keep: bool) -> dict[str, escaping.Escaped]:
    """The server lines of every backend and pooled section that has slots, kept for the next
    render when `keep`."""
    sticky = {
        backend.name
        for backend in routing.backends
        if backend.policy.backend.affinity and backend.policy.backend.affinity.canary
    }
    if not keep:
        return _fresh_server_lines(layout.backends, sticky)
    return {
        name: _server_lines(slots, sticky=name in sticky) for name, slots in layout.backends.items()
    }


def _policy_blocks(
    routing: Routing, pool: Pool
) -> tuple[dict[Policy, escaping.Escaped], dict[str, str]]:
    """The lines of each distinct backend policy (`policy.cfg.j2`), rendered once, and the
    lines of each backend and pooled section: thousands of backends share a few policies,
    and a block depends on nothing but its policy."""
    blocks: dict[Policy, escaping.Escaped] = {}
    known: dict[int, escaping.Escaped] = {}  # by identity first: cheaper than hashing
    lines: dict[str, str] = {}
    owners = [(backend.name, backend.policy) for backend in routing.backends]
    owners += [(name, section.policy) for name, section in pool.sections.items()]
    for name, policy in owners:
        text = known.get(id(policy))
        if text is None:
            text = blocks.get(policy) or _policy_block(policy)
            blocks[policy] = known[id(policy)] = text
        lines[name] = text
    return blocks, lines


def _policy_block(policy: Policy) -> escaping.Escaped:
    text = templating.render(
        "policy.cfg.j2",
        escaping.config_word,
        policy=policy,
        policy_id=naming.policy_id(policy),
        redirect_lines=_redirect_lines(policy.route.gateway_redirect),
        redirect_prefix=_redirect_prefix(policy.route.gateway_redirect),
        names=naming,
        duration=duration,
    )
    return escaping.Escaped(text)


WELL_KNOWN_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class _RedirectLine:
    """One `redirect prefix` line: the location prefix, and when it applies: the request came
    over TLS (`tls`; None: either way) and, when `port` is set, on that port or not."""

    location: str
    tls: bool | None = None
    port: int | None = None
    on_port: bool = True


def _redirect_lines(redirect: GatewayRedirect | None) -> tuple[_RedirectLine, ...]:
    """The Gateway API's RequestRedirect as `redirect prefix` lines (the path is set before).

    The scheme is the given one, else the request's; the port the given one, else the
    scheme's well-known port when the scheme is given, else the port the request came in on
    (`dst_port`); a scheme's well-known port is left out of the location."""
    if redirect is None:
        return ()
    host = (
        escaping.log_format_literal(redirect.hostname) if redirect.hostname else "%[var(txn.host)]"
    )
    lines = []
    schemes = [(redirect.scheme, None)] if redirect.scheme else [("http", False), ("https", True)]
    for scheme, tls in schemes:
        known = WELL_KNOWN_PORTS[scheme]
        if redirect.port is not None:
            port = "" if redirect.port == known else f":{redirect.port}"
            lines.append(_RedirectLine(f"{scheme}://{host}{port}", tls))
        elif redirect.scheme:
            lines.append(_RedirectLine(f"{scheme}://{host}", tls))
        else:
            lines.append(_RedirectLine(f"{scheme}://{host}", tls, known, on_port=True))
            lines.append(_RedirectLine(f"{scheme}://{host}:%[dst_port]", tls, known, on_port=False))
    return tuple(lines)


@dataclass(frozen=True)
class _PrefixRewrite:
    regex: str
    replacement: str


def _redirect_prefix(redirect: GatewayRedirect | None) -> _PrefixRewrite | None:
    """ReplacePrefixMatch as `replace-path`: the matched prefix (element-wise) and what follows
    it; `/x` replacing `/p` makes `/p` `/x`, `/p/` `/x/` and `/p/a` `/x/a`; `/` replacing
    it makes `/p` and `/p/` `/`, `/p/a` `/a`."""
    if redirect is None or redirect.prefix is None:
        return None
    matched, replacement = (prefix_base(path) for path in redirect.prefix)
    text = escaping.log_format_literal(replacement)
    if replacement:
        return _PrefixRewrite(f"^{re.escape(matched)}(/.*)?$", text + "\\1")
    return _PrefixRewrite(f"^{re.escape(matched)}/?(.*)$", "/\\1")


def _maps(routing: Routing, sections: dict[str, str]) -> dict[str, dict[str, str]]:
    """Every map HAProxy loads, and only those: the TLS map when a host has TLS, the trusted-proxy
    map when there are trusted proxies, the passthrough map when the configuration uses it
    (the configuration differs without them, so a map comes or goes only with a reload).
    Values name the section serving a backend (`sections`: those on a spare)."""
    table = build_table(routing)
    maps = {
        naming.ROUTES_MAP: {
            key: sections.get(route.backend, route.backend) for key, route in route_entries(table)
        },
        naming.HOSTS_MAP: {host: sections.get(name, name) for host, name in table.hosts.items()},
    }
    if routing.tls_names:  # none without HTTPS
        maps[naming.TLS_MAP] = {name.name: tls_policy(name) for name in routing.tls_names}
    if routing.config.trusted_proxy_cidrs:
        cidrs = routing.config.trusted_proxy_cidrs
        maps[naming.TRUSTED_PROXIES_MAP] = {str(network): "trusted" for network in cidrs}
    if routing.passthrough:
        maps[naming.PASSTHROUGH_MAP] = _passthrough(routing)
    return maps


def _status_text(status: int) -> str:
    """`404 Not Found`: the body of a built-in answer."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def tls_policy(name: TLSName) -> str:
    """The tls.map value of an SNI name: `redirect|<hsts>`, `stay|none`, ..."""
    return f"{'redirect' if name.redirect else 'stay'}|{name.hsts or 'none'}"


def _passthrough(routing: Routing) -> dict[str, str]:
    """SNI name -> TCP backend; terminated names are listed too (to the terminating bind),
    so that a passthrough wildcard never catches them."""
    found = {name.name: naming.HTTPS_BACKEND for name in routing.tls_names}
    found.update((route.name, route.backend) for route in routing.passthrough)
    return dict(sorted(found.items()))


def crt_list(routing: Routing) -> tuple[tuple[str, ...], ...]:
    """The crt-list lines: the default certificate (its own names not indexed: `!*`), then a
    line per other certificate file with its SNI names. Names served by the default
    certificate get no line. Empty without a default certificate (no HTTPS)."""
    default = routing.default_certificate
    if default is None:
        return ()
    names: dict[str, list[str]] = {}
    for name in routing.tls_names:
        if name.certificate is not None and name.certificate != default.file:
            names.setdefault(name.certificate, []).append(name.name)
    lines: list[tuple[str, ...]] = [(default.file, "!*")]
    lines.extend((file, *sorted(names[file])) for file in sorted(names))
    return tuple(lines)


def duration(milliseconds: int) -> str:
    """A timeout as HAProxy reads it, in the largest unit that keeps it exact."""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)):
        if milliseconds % size == 0:
            return f"{milliseconds // size}{unit}"
    return f"{milliseconds}ms"


@lru_cache(maxsize=1 << 17)
def _server_lines(slots: tuple[Slot, ...], *, sticky: bool = False) -> escaping.Escaped:
    """The `server` lines of a backend's slots, made here rather than in the template (a
    loop in Python is far cheaper than template calls, at 100,000 servers) and kept for the
    next render (most backends' slots do not change between two): each printed value goes
    through `escaping.config_word` (or a bulk form of it), as `finalize` would, and the weight
    is printed as an integer. An empty slot, or one of weight 0, is a disabled server;
    `sticky` gives each server its canary cookie value. Servers filling the first slots
    alike (`_filled_lines`) are printed at once, any others slot by slot."""
    lines = _slot_lines(len(slots), sticky=sticky)
    text = _filled_lines(slots, lines)
    return escaping.Escaped(_each_slot_lines(slots, lines) if text is None else text)


def _fresh_server_lines(
    backends: dict[str, tuple[Slot, ...]], sticky: Container[str]
) -> dict[str, escaping.Escaped]:
    """`_server_lines` of every backend, made at once and kept for no other render (`render`
    makes one): the backends' addresses are checked together (`_filled_texts`), and no slots
    are hashed for a cache that one render never hits."""
    kinds = [(len(slots), name in sticky) for name, slots in backends.items()]
    lines = {kind: _slot_lines(kind[0], sticky=kind[1]) for kind in set(kinds)}
    own = [lines[kind] for kind in kinds]
    found = _filled_texts([*zip(backends.values(), own, strict=True)])
    return {
        name: escaping.Escaped(_each_slot_lines(slots, each) if text is None else text)
        for (name, slots), each, text in zip(backends.items(), own, found, strict=True)
    }


def _filled_lines(slots: tuple[Slot, ...], lines: _SlotLines) -> str | None:
    """The lines of slots whose servers fill the first ones, on one port with one weight and
    at addresses without a colon (not IPv6), made at once; None for any others. A backend
    laid out anew has its servers so (every backend `render` prints, most of those a
    controller keeps): its lines are then the addresses put into each slot's fixed parts
    (`_SlotLines.filled`), without a Python call per server. The checks are the slot by slot
    form's: the addresses, joined, hold only characters of bare words, so each
    `address:port` word is one `escaping.config_word` prints as it is; the port and the
    weight are integers (a property test holds the two forms equal)."""
    return _filled_texts([(slots, lines)])[0]


def _filled_texts(backends: list[tuple[tuple[Slot, ...], _SlotLines]]) -> list[str | None]:
    """`_filled_lines` of each backend (a property test holds the two equal), the addresses of
    all checked at once after the lines are made: one search of them all, joined, rather than
    one a backend (each backend's own only when that fails)."""
    texts: list[str | None] = []
    made: list[tuple[int, tuple[str, ...]]] = []  # the addresses each text was made of
    for slots, lines in backends:
        count = len(slots) - slots.count(None)
        text = None
        if not count:
            text = lines.vacant
        elif count == len(slots) or slots.index(None) == count:  # no empty slot between two
            addresses, ports, weights = zip(*slots[:count], strict=True)
            port, weight = ports[0], weights[0]
            if type(port) is type(weight) is int and (
                ports.count(port) == count == weights.count(weight)
            ):
                text = lines.filled(addresses, port, weight)
                made.append((len(texts), addresses))
        texts.append(text)
    if not _bare_addresses(chain.from_iterable(addresses for _, addresses in made)):
        for index, addresses in made:
            if not _bare_addresses(addresses):
                texts[index] = None
    return texts


def _bare_addresses(addresses: Iterable[str]) -> bool:
    """Whether the addresses, joined, hold only characters of bare words and no colon."""
    joined = "".join(addresses)
    return ":" not in joined and escaping.bare_text(joined)


def _each_slot_lines(slots: tuple[Slot, ...], lines: _SlotLines) -> str:
    """The lines of any slots, slot by slot (the addresses of a backend checked at once by
    `escaping.config_words`)."""
    address = naming.server_address
    addresses = iter(
        escaping.config_words(
            [address(slot.address, slot.port) for slot in slots if slot is not None]
        )
    )
    text = list(lines.empty)
    for index, slot in enumerate(slots):
        if slot is not None:
            text[index] = (
                f"{lines.heads[index]}{next(addresses)} {_state(slot.weight)}{lines.ends[index]}"
            )
    return "".join(text)


def _state(weight: int) -> str:
    """A server's state: its weight, printed as an integer; disabled at weight 0."""
    return f"weight {weight:d}" if weight else "disabled"


@dataclass(frozen=True)
class _SlotLines:
    """What the lines of a backend's slots print whatever their servers."""

    heads: tuple[str, ...]
    """Each slot's line up to its address (`    server <name> `)."""
    ends: tuple[str, ...]
    """Each slot's line after its state: its canary cookie if sticky, the newline."""
    empty: tuple[str, ...]
    """Each slot's line while empty."""
    vacant: str = field(init=False)
    """Every slot's line while all are empty."""
    _filled: dict[tuple[int, int, int], list[str]] = field(
        init=False, default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "vacant", "".join(self.empty))

    def filled(self, addresses: tuple[str, ...], port: int, weight: int) -> str:
        """The lines of servers filling the first slots at `addresses` (each a bare word
        without a colon) on `port` with `weight`: the addresses put between the fixed parts
        of the lines, which are made once for each count, port and weight that backends of
        this many slots have."""
        count = len(addresses)
        parts = self._filled.get((count, port, weight))
        if parts is None:
            middle = f"{naming.server_port(port)} {_state(weight)}"
            parts = [""] * (2 * count + 1)  # the addresses go between the fixed parts
            parts[::2] = [
                self.heads[0],
                *(
                    middle + end + head
                    for end, head in zip(self.ends[: count - 1], self.heads[1:count], strict=True)
                ),
                "".join([middle, self.ends[count - 1], *self.empty[count:]]),
            ]
            self._filled[count, port, weight] = parts
        text = parts.copy()
        text[1::2] = addresses
        return "".join(text)


@cache
def _slot_lines(count: int, *, sticky: bool) -> _SlotLines:
    """The fixed parts of the lines of `count` slots, each name escaped (with its canary cookie
    when `sticky`): made once, printed 100,000 times at scale."""
    word = escaping.config_word
    names = tuple(word(naming.server_name(index)) for index in range(1, count + 1))
    heads = tuple(f"    server {name} " for name in names)
    ends = tuple(f" cookie {word(CANARY_COOKIE + name)}\n" if sticky else "\n" for name in names)
    empty = tuple(
        f"{head}{word(naming.EMPTY_SLOT)} disabled{end}"
        for head, end in zip(heads, ends, strict=True)
    )
    return _SlotLines(heads, ends, empty)
