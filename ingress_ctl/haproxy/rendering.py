"""Rendering: the routing model as haproxy.cfg and map files, from Jinja2 templates.

Templates only loop and print. Every printed value passes through the escaping
function of its sink (chosen by the template's name) as the environment's
`finalize` hook, so no template can print a raw value. The lines printed by the
hundred thousand (servers, map entries) are joined here instead, each word through
the same escaping function. Output is
deterministic: the same model gives byte-identical files. Certificate and CA
files hold the PEM that `certificates` serialized from parsed objects. The
lines a backend's policy asks for are in `policy.cfg.j2`. Pooled Service
backends and spares (spares.py) are rendered after the others, under their
section's name, which the map values name too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

import jinja2

from ingress_ctl.haproxy import escaping, naming
from ingress_ctl.haproxy.slots import Layout, Slot, assign_slots
from ingress_ctl.haproxy.spares import Pool, assign_pool
from ingress_ctl.model.matching import ANY_HOST, build_table, route_entries
from ingress_ctl.model.policies import CANARY_COOKIE, Policy
from ingress_ctl.model.routing import Routing, TLSName
from ingress_ctl.model.settings import Settings

TEMPLATES = Path(__file__).parent / "templates"

HOST_HEADER = r"^([a-z0-9_-]+\.)*[a-z0-9_-]+\.?(:[0-9]{1,5})?$|^\[[0-9a-f:.]+\](:[0-9]{1,5})?$"
"""What a Host header may hold (case-insensitively): a DNS name or an IP address, and a port.
Anything else (a NUL, a control character, a space, a second value) is answered 400."""


@cache
def _environment(finalize: Callable[[object], str]) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        auto_reload=False,
    )


def _render(template: str, finalize: Callable[[object], str], **context: object) -> str:
    return _environment(finalize).get_template(template).render(**context)


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
    certificates: dict[str, str] = field(default_factory=dict)
    """PEM of every certificate file, by file."""


def render(routing: Routing, *, settings: Settings) -> dict[str, str]:
    """Every file HAProxy reads, by path relative to the state directory (fresh slots)."""
    return render_state(routing, settings=settings).files


def render_state(
    routing: Routing,
    *,
    settings: Settings,
    previous: Layout | None = None,
    reloading: bool = False,
) -> Rendered:
    """The files for routing, keeping the server slots and pooled sections of `previous` where
    possible; `reloading` (the files will be loaded by a reload) lets pools be resized."""
    pool = assign_pool(routing, previous.pool if previous else None, reloading=reloading)
    layout = assign_slots(routing, previous=previous, pool=pool)
    policies, policy_lines = _policy_blocks(routing, pool)
    bind_host = str(settings.bind_address)
    config = _render(
        "haproxy.cfg.j2",
        escaping.config_word,
        routing=routing,
        config=routing.config,
        timeouts={
            name: duration(milliseconds)
            for name, milliseconds in routing.config.timeouts.model_dump().items()
        },
        servers=_servers(routing, layout),
        policies=policies,
        policy_lines=policy_lines,
        pooled={section.occupant for section in pool.sections.values()},
        sections=[(name, policy_lines[name]) for name in pool.sections],
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
    )
    maps = _maps(routing, pool.names())
    lines = crt_list(routing)
    certificates = {certificate.file: certificate.pem for certificate in routing.certificates}
    files = {naming.CONFIG_FILE: config}
    files.update((name, _map(entries.items())) for name, entries in maps.items())
    if lines:
        files[naming.CRT_LIST] = _render("crt-list.j2", escaping.crt_list_line, lines=lines)
    files.update(certificates)
    files.update((bundle.file, bundle.pem) for bundle in routing.ca_bundles)
    return Rendered(
        files=files, maps=maps, layout=layout, crt_list=lines, certificates=certificates
    )


def _servers(routing: Routing, layout: Layout) -> dict[str, escaping.Escaped]:
    """The server lines of every backend and pooled section that has slots."""
    sticky = {
        backend.name
        for backend in routing.backends
        if backend.policy.backend.affinity and backend.policy.backend.affinity.canary
    }
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
    text = _render(
        "policy.cfg.j2",
        escaping.config_word,
        policy=policy,
        policy_id=naming.policy_id(policy),
        names=naming,
        duration=duration,
    )
    return escaping.Escaped(text)


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
    through `escaping.config_word`, as `finalize` would, and the weight is printed as an
    integer. An empty slot, or one of weight 0, is a disabled server; `sticky` gives each
    server its canary cookie value."""
    word, address = escaping.config_word, naming.server_address
    empty = f"{word(naming.EMPTY_SLOT)} disabled"
    lines = []
    for name, slot in zip(_server_names(len(slots)), slots, strict=True):
        if slot is None:
            line = f"    server {name} {empty}"
        elif slot.weight:
            line = (
                f"    server {name} {word(address(slot.address, slot.port))} weight {slot.weight:d}"
            )
        else:
            line = f"    server {name} {word(address(slot.address, slot.port))} disabled"
        lines.append(f"{line} cookie {word(CANARY_COOKIE + name)}\n" if sticky else f"{line}\n")
    return escaping.Escaped("".join(lines))


@cache
def _server_names(count: int) -> tuple[escaping.Escaped, ...]:
    """Escaped once: printed 100,000 times at scale."""
    return tuple(
        escaping.Escaped(escaping.config_word(naming.server_name(index)))
        for index in range(1, count + 1)
    )


def _map(entries: Iterable[tuple[str, str]]) -> str:
    """A map file: a `key value` line per entry, each word through `escaping.map_word`
    (written here: a template's loop costs more than the lines, at 100,000 entries)."""
    word = escaping.map_word
    return "".join([f"{word(key)} {word(value)}\n" for key, value in entries])
