"""Planning: reload, or runtime API commands? A pure function of two renderings.

Two renderings are structurally equal when their haproxy.cfg files are equal
once the address, weight and state of every slot server line are masked.
Then the difference is only in server slots and map entries, which the
runtime API applies without a reload: `set server` for slots, `add/set/del
map` for routing entries. Anything else (a new backend, a backend outgrowing
its slots, a DNS-resolved server, any other directive) is a reload, with the
reason counted in the metrics.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from ingress_ctl import naming
from ingress_ctl.escaping import socket_word
from ingress_ctl.rendering import Rendered
from ingress_ctl.routing import Value
from ingress_ctl.slots import Layout, Slot

_SLOT_LINE = re.compile(r"^(    server s[0-9]+) (?!.* resolvers ).*$", re.MULTILINE)
ROUTE_MAPS = (naming.EXACT_MAP, naming.PREFIX_MAP)


class Plan(Value):
    """Either a reload (with its reason) or runtime commands (possibly none)."""

    reload: str | None = None
    commands: tuple[str, ...] = ()


def plan(before: Rendered | None, after: Rendered) -> Plan:
    """How to go from what HAProxy runs (`before`) to `after`."""
    if before is None:
        return Plan(reload="start")
    if _structure(before) != _structure(after):
        return Plan(reload=_reason(before.layout, after.layout))
    commands = [
        *server_commands(before.layout, after.layout),
        *_map_commands(before.maps, after.maps),
    ]
    return Plan(commands=tuple(commands))


def _structure(rendered: Rendered) -> str:
    return _SLOT_LINE.sub(r"\1", rendered.files[naming.CONFIG_FILE])


def _reason(before: Layout, after: Layout) -> str:
    if before.backends.keys() != after.backends.keys():
        return "backends"
    if any(len(after.backends[name]) != len(slots) for name, slots in before.backends.items()):
        return "slots"
    return "config"


def _command(*words: str | int) -> str:
    return " ".join(socket_word(str(word)) for word in words)


def server_commands(
    before: Layout, after: Layout, *, backends: Iterable[str] | None = None
) -> Iterator[str]:
    """`set server` commands taking the slots of `backends` (default: all) from before to after."""
    for backend in after.backends if backends is None else backends:
        slots = after.backends[backend]
        for index, (old, new) in enumerate(zip(before.backends[backend], slots, strict=True), 1):
            if old != new:
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


def _map_commands(
    before: Mapping[str, Mapping[str, str]], after: Mapping[str, Mapping[str, str]]
) -> Iterator[str]:
    """Routes first, then hosts when adding; hosts first, then routes when removing."""
    for name in (*ROUTE_MAPS, naming.HOSTS_MAP):
        yield from _upserts(name, before[name], after[name])
    for name in (naming.HOSTS_MAP, *ROUTE_MAPS):
        for key in sorted(before[name].keys() - after[name].keys()):
            yield _command("del", "map", name, key)


def _upserts(name: str, before: Mapping[str, str], after: Mapping[str, str]) -> Iterator[str]:
    for key, value in after.items():
        old = before.get(key)
        if old is None:
            yield _command("add", "map", name, key, value)
        elif old != value:
            yield _command("set", "map", name, key, value)


def reply_ok(command: str, reply: str) -> bool:
    """Whether HAProxy's reply to a command we planned says it worked."""
    if command.startswith("set server ") and " addr " in command:
        return "changed" in reply or "no need to change" in reply
    return reply.strip() == ""
