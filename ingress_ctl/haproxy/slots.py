"""Server slots: which server of a backend sits in which numbered HAProxy server line.

Each backend gets a power-of-two number of slots (at least MIN_SLOTS); empty
slots are rendered disabled. Endpoint changes then fill, empty or re-address
slots through the runtime API instead of reloading. Assignment is sticky: a
server that stays keeps its slot, and a backend never shrinks while it lives
(so scaling down and up again needs no reload); a backend outgrows its slots
only by doubling, which is a reload. Slots are kept by HAProxy backend name: a Service on a
spare backend (spares.py) has its slots under the spare's name; an empty pool section keeps
its slots, all empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ingress_ctl.haproxy.spares import Pool
from ingress_ctl.model.routing import Backend, Routing, Server, Value

MIN_SLOTS = 4

Slot = Server | None


class Layout(Value):
    """Slots per HAProxy backend name (only backends whose servers are IP addresses), and
    which pooled section serves which Service backend."""

    backends: dict[str, tuple[Slot, ...]]
    pool: Pool = Pool()


def slot_count(servers: int) -> int:
    """Slots for this many servers: the next power of two, at least MIN_SLOTS."""
    count = MIN_SLOTS
    while count < servers:
        count *= 2
    return count


def has_slots(backend: Backend) -> bool:
    """Backends of servers use slots; built-in ones do not."""
    return backend.status is None


def assign_slots(
    routing: Routing, *, previous: Layout | None = None, pool: Pool | None = None
) -> Layout:
    """The slot layout for routing and its pool, keeping what `previous` had where possible."""
    before = previous.backends if previous is not None else {}
    pool = pool if pool is not None else Pool()
    names = pool.names()
    backends: dict[str, tuple[Slot, ...]] = {}
    for backend in routing.backends:
        if has_slots(backend):
            name = names.get(backend.name, backend.name)
            backends[name] = _assign(backend.servers, before.get(name, ()))
    for name, section in pool.sections.items():
        if section.occupant is None:
            backends[name] = _assign((), before.get(name, ()))
    # servers come from a validated Routing
    return Layout.model_construct(backends=backends, pool=pool)


def _assign(servers: tuple[Server, ...], previous: tuple[Slot, ...]) -> tuple[Slot, ...]:
    if not previous:  # a new backend: servers in order, then the empty slots
        return servers + (None,) * (slot_count(len(servers)) - len(servers))
    wanted: Mapping[tuple[str, int], Server] = {(s.address, s.port): s for s in servers}
    if len(wanted) == len(servers) and len(previous) >= slot_count(len(servers)):
        kept = set(previous)
        kept.discard(None)
        if kept == set(servers):  # the same servers (most backends, most passes): as they were
            return previous
    slots: list[Slot] = [None] * max(len(previous), slot_count(len(servers)))
    placed: set[tuple[str, int]] = set()
    for index, old in enumerate(previous):
        if old is not None and (old.address, old.port) in wanted:
            key = (old.address, old.port)
            slots[index] = wanted[key]
            placed.add(key)
    free = (index for index, slot in enumerate(slots) if slot is None)
    for server in servers:
        if (server.address, server.port) not in placed:
            slots[next(free)] = server
    return tuple(slots)


def reassign_slots(layout: Layout, backends: Iterable[Backend]) -> Layout | None:
    """`layout` with these backends' servers placed again; None if one outgrows its slots."""
    updated = dict(layout.backends)
    names = layout.pool.names()
    for backend in backends:
        name = names.get(backend.name, backend.name)
        previous = layout.backends[name]
        if len(backend.servers) > len(previous):
            return None
        updated[name] = _assign(backend.servers, previous)
    return Layout.model_construct(backends=updated, pool=layout.pool)
