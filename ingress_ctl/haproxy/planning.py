"""Planning: reload, or runtime API commands? A pure function of two renderings.

Two renderings are structurally equal when their haproxy.cfg files are equal
once the address, weight and state of every slot server line are masked.
Then the difference is only in server slots, map entries and the HTTPS
crt-lists (the HTTPS port's and those of HTTPS Gateway ports, each with its
default certificate's line unchanged), which the runtime API applies without a reload: `set server` for
slots, `add/set/del map` for map entries, and for certificates `new ssl
cert` + `set ssl cert` (with the PEM as payload) + `commit ssl cert` for a
new file, `add ssl crt-list` / `del ssl crt-list` for its line (a changed
certificate is a new file: files are named by content), `del ssl cert` for
a file no longer used. Anything else (a new backend (unless it takes a spare backend: see spares.py; a pool that
runs out grows by a reload, reason `spares`), a backend outgrowing its slots, a DNS-resolved server, a new default certificate, any other
directive) is a reload, with the reason counted in the metrics.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache

from ingress_ctl.haproxy import naming
from ingress_ctl.haproxy.escaping import PAYLOAD, crt_list_line, socket_payload, socket_word
from ingress_ctl.haproxy.rendering import Rendered
from ingress_ctl.haproxy.slots import Layout, Slot
from ingress_ctl.model.routing import Value

_SLOT_LINE = "    server s"
"""Slot server lines start so."""
_UNORDERED = ("backend ", "userlist ")
"""Sections whose order in haproxy.cfg does not matter."""
ROUTE_MAPS = (naming.ROUTES_MAP, naming.GATEWAY_ROUTES_MAP)
HOST_MAPS = (naming.HOSTS_MAP, naming.GATEWAY_PARENTS_MAP, naming.GATEWAY_HOSTS_MAP)
OTHER_MAPS = (
    naming.TLS_MAP,
    naming.PASSTHROUGH_MAP,
    naming.TRUSTED_PROXIES_MAP,
    naming.GATEWAY_STREAMS_MAP,
)
NAMED_MAPS = (naming.GATEWAY_SPLITS_MAP,)
"""Maps whose entries other maps' values name: added first, deleted last."""
ORDERED_MAPS = (naming.GATEWAY_HOSTS_MAP,)
"""Read with `map_end`: HAProxy takes the first key in file order, and `add map` appends."""


class Plan(Value):
    """Either a reload (with its reason) or runtime commands (possibly none)."""

    reload: str | None = None
    commands: tuple[str, ...] = ()


def plan(before: Rendered | None, after: Rendered) -> Plan:
    """How to go from what HAProxy runs (`before`) to `after`."""
    if before is None:
        return Plan(reload="start")
    if _structure(before.files[naming.CONFIG_FILE]) != _structure(after.files[naming.CONFIG_FILE]):
        return Plan(reload=_reason(before.layout, after.layout))
    lists = _crt_lists(before), _crt_lists(after)
    if any(lines[:1] != lists[1].get(name, ())[:1] for name, lines in lists[0].items()):
        return Plan(reload="default-certificate")
    if any(
        _shadowed(before.maps[name], after.maps[name])
        for name in ORDERED_MAPS
        if name in after.maps
    ):
        return Plan(reload="map-order")
    commands = [
        *_certificate_loads(before, after),
        *server_commands(before.layout, after.layout),
        *_map_commands(before.maps, after.maps),
        *server_commands(before.layout, after.layout, drains=True),
        *_certificate_unloads(before, after),
    ]
    return Plan(commands=tuple(commands))


@lru_cache(maxsize=2)
def _structure(config: str) -> bytes:
    """A digest of haproxy.cfg with every slot server line masked. Cached: the running
        configuration's was computed when it was planned (at 10,000 backends, masking 6 MB
        takes 0.15 s); two entries hold only configurations that are alive anyway. Backend
    sections count in any order: HAProxy's behaviour does not depend on it, and a Service that
    left keeps its section until the next reload (see spares.py), wherever it is printed."""
    masked = "\n".join(map(_mask, config.split("\n")))
    sections = masked.rstrip("\n").split("\n\n")
    named = sorted(section for section in sections if section.startswith(_UNORDERED))
    others = [section for section in sections if not section.startswith(_UNORDERED)]
    return hashlib.sha256("\n\n".join(others + named).encode()).digest()


def _mask(line: str) -> str:
    """A slot server line without its address, weight and state; any other line as it is."""
    if not line.startswith(_SLOT_LINE):
        return line
    name = line[len(_SLOT_LINE) :].partition(" ")[0]
    return _SLOT_LINE + name


def _reason(before: Layout, after: Layout) -> str:
    if before.backends.keys() != after.backends.keys():
        changed = before.backends.keys() ^ after.backends.keys()
        pooled = before.pool.sections.keys() | after.pool.sections.keys()
        return "spares" if changed <= pooled else "backends"
    if any(len(after.backends[name]) != len(slots) for name, slots in before.backends.items()):
        return "slots"
    return "config"


def _command(*words: str | int) -> str:
    return " ".join(socket_word(str(word)) for word in words)


def _with_payload(payload: str, *words: str) -> str:
    return _command(*words) + PAYLOAD + socket_payload(payload)


def _certificate_loads(before: Rendered, after: Rendered) -> Iterator[str]:
    """New certificate files into HAProxy's store, then their crt-list lines (a changed line
    is deleted and added again: a file has one line, which `del ssl crt-list` names)."""
    for file in sorted(after.certificates.keys() - before.certificates.keys()):
        yield _command("new", "ssl", "cert", file)
        yield _with_payload(after.certificates[file], "set", "ssl", "cert", file)
        yield _command("commit", "ssl", "cert", file)
    lists = _crt_lists(before)
    for name, lines in _crt_lists(after).items():
        old = {line[0]: line for line in lists[name][1:]}
        for line in lines[1:]:
            if old.get(line[0]) == line:
                continue
            if line[0] in old:
                yield _command("del", "ssl", "crt-list", name, line[0])
            yield _with_payload(crt_list_line(line), "add", "ssl", "crt-list", name)


def _certificate_unloads(before: Rendered, after: Rendered) -> Iterator[str]:
    """Lines of files gone from the crt-list, then files no longer used at all."""
    lists = _crt_lists(after)
    for name, lines in _crt_lists(before).items():
        new = {line[0] for line in lists[name][1:]}
        for line in lines[1:]:
            if line[0] not in new:
                yield _command("del", "ssl", "crt-list", name, line[0])
    for file in sorted(before.certificates.keys() - after.certificates.keys()):
        yield _command("del", "ssl", "cert", file)


def server_commands(
    before: Layout,
    after: Layout,
    *,
    backends: Iterable[str] | None = None,
    drains: bool | None = False,
) -> Iterator[str]:
    """`set server` commands taking the slots of `backends` (default: all) from before to after:
    the slots that fill or change (`drains` False), that empty (True), or both (None). A plan
    fills before the maps name a backend and drains after they no longer do."""
    for backend in after.backends if backends is None else backends:
        slots = after.backends[backend]
        for index, (old, new) in enumerate(zip(before.backends[backend], slots, strict=True), 1):
            if old != new and drains in (None, new is None):
                yield from _slot_commands(f"{backend}/{naming.server_name(index)}", old, new)


def _slot_commands(server: str, old: Slot, new: Slot) -> Iterator[str]:
    if new is None:
        yield _command("set", "server", server, "state", "maint")
        yield _command(
            "set", "server", server, "addr", naming.EMPTY_SLOT_HOST, "port", naming.EMPTY_SLOT_PORT
        )
        yield _command("set", "server", server, "weight", 1)
        return
    if old is None or (old.address, old.port) != (new.address, new.port):
        yield _command("set", "server", server, "addr", new.address, "port", new.port)
    if old is None or old.weight != new.weight:
        yield _command("set", "server", server, "weight", new.weight)
    if old is None:
        yield _command("set", "server", server, "state", "ready")


def _crt_lists(rendered: Rendered) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Every crt-list by file: the HTTPS port's and those of HTTPS Gateway ports (a list that
    comes or goes changes haproxy.cfg, which names it)."""
    found = {naming.CRT_LIST: rendered.crt_list} if rendered.crt_list else {}
    found.update(rendered.gateway_crt_lists)
    return found


def _shadowed(before: Mapping[str, str], after: Mapping[str, str]) -> bool:
    """Whether, after runtime updates (kept keys in their place, new ones appended), a key of
    a `map_end` map would come after a key it ends with (which would then win instead of it)."""
    order = [key for key in before if key in after]
    for key in after:
        if key not in before:
            if any(key.endswith(earlier) for earlier in order):
                return True
            order.append(key)
    return False


def _map_commands(
    before: Mapping[str, Mapping[str, str]], after: Mapping[str, Mapping[str, str]]
) -> Iterator[str]:
    """Routes first, then hosts when adding; hosts first, then routes when removing; splits
    before anything names them, and after nothing does.

    Both renderings load the same maps: a map that comes or goes changes haproxy.cfg.
    """
    for name in (*NAMED_MAPS, *ROUTE_MAPS, *HOST_MAPS, *OTHER_MAPS):
        if name in after:
            yield from _upserts(name, before[name], after[name])
    for name in (*reversed(HOST_MAPS), *ROUTE_MAPS, *OTHER_MAPS, *NAMED_MAPS):
        if name in after:
            for key in sorted(before[name].keys() - after[name].keys()):
                yield _command("del", "map", name, key)


def _upserts(name: str, before: Mapping[str, str], after: Mapping[str, str]) -> Iterator[str]:
    for key, value in after.items():
        old = before.get(key)
        if old is None:
            yield _command("add", "map", name, key, value)
        elif old != value:
            yield _command("set", "map", name, key, value)


_CERTIFICATE_REPLIES = {
    "new ssl cert ": "New empty certificate store",
    "set ssl cert ": "Transaction ",
    "commit ssl cert ": "\nSuccess!",
    "add ssl crt-list ": "\nSuccess!",
    "del ssl crt-list ": "deleted in crtlist",
    "del ssl cert ": "deleted!",
}
"""What HAProxy 2.6 answers when a certificate command worked (its errors say `Can't ...`)."""


def reply_ok(command: str, reply: str) -> bool:
    """Whether HAProxy's reply to a command we planned says it worked."""
    if command.startswith("set server ") and " addr " in command:
        return "changed" in reply or "no need to change" in reply
    for prefix, success in _CERTIFICATE_REPLIES.items():
        if command.startswith(prefix):
            return success in reply and "Can't" not in reply
    return reply.strip() == ""
