"""Spare backends: which HAProxy backend section serves which Service backend.

HAProxy cannot add a backend at runtime, but routes name their backend only in
map values. So the configuration declares, besides the backends in use, spare
sections with a policy and empty server slots, in pools (one per policy: the
default pool, and one for each other policy some Service uses). A Service
backend that appears between reloads takes a free spare of its policy's pool:
its slots are filled by `set server`, its map entries name the spare, and
nothing reloads. A Service backend that goes away leaves its section empty
(drained: maps first, then servers to maint): a spare returns to its pool,
a section named after the Service stays, empty, until the next reload (and
serves the Service again if it comes back). Assignment is sticky: a Service
keeps its section while it lives, so its counters follow it.

Pools are sized at reloads only: each holds the next power of two of free
spares at or above MIN_SPARES (MIN_POLICY_SPARES for a policy pool) or a
tenth of the backends it serves, whichever is larger; a pool that ran out
doubles. A pool never shrinks or grows between reloads: that keeps the
configuration's structure, which is what lets the plan skip the reload.

Backends outside the pools (rendered as before, under their own names): the
default backend and canaries' backends (frontend rules name them), TCP and
DNS-resolved backends, backends sending the PROXY protocol, and backends that verify
their pods against a CA file (the file goes with the Secret; a spare would outlive it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from typing import NamedTuple

from pydantic import Field

from ingress_ctl.haproxy import naming
from ingress_ctl.model.policies import Policy
from ingress_ctl.model.routing import Backend, Mode, Routing, Value

MIN_SPARES = 16
MIN_POLICY_SPARES = 2
DEFAULT = Policy()


class Section(NamedTuple):
    """A pooled backend section: its policy, and the Service backend it serves (or None)."""

    policy: Policy
    occupant: str | None


class Pool(Value):
    """Every pooled section by HAProxy name, in a stable order."""

    sections: dict[str, Section] = Field(default_factory=dict)

    def names(self) -> dict[str, str]:
        """Service backend name -> section name, where they differ (Services on spares)."""
        return {
            section.occupant: name
            for name, section in self.sections.items()
            if section.occupant is not None and section.occupant != name
        }


def pooled(routing: Routing) -> Iterator[Backend]:
    """The backends that live in pool sections (see the module's docstring)."""
    excluded = {routing.default_backend, *_canary_names(routing)}
    for backend in routing.backends:
        if (
            backend.service is not None
            and backend.status is None
            and not backend.resolve
            and backend.mode == Mode.HTTP
            and backend.send_proxy is None
            and not backend.policy.backend.upstream.verified
            and backend.name not in excluded
        ):
            yield backend


def _canary_names(routing: Routing) -> frozenset[str]:
    names: set[str] = set()
    for backend in routing.backends:
        split = backend.policy.route.canary
        if split is not None:
            names.update((backend.name, split.backend))
    return frozenset(names)


def spare_target(in_use: int, *, floor: int) -> int:
    """Free spares a pool holds after a reload: a power of two, at least `floor` and a tenth
    of the backends it serves."""
    count = floor
    while count < in_use / 10:
        count *= 2
    return count


def assign_pool(routing: Routing, previous: Pool | None, *, reloading: bool) -> Pool:
    """The pool for routing, keeping `previous`'s sections; `reloading` allows resizing."""
    wanted = {backend.name: backend.policy for backend in pooled(routing)}
    if previous is None:
        own = {name: Section(policy, name) for name, policy in wanted.items()}
        return Pool.model_construct(sections=_sized(own, wanted, Counter()))
    sections: dict[str, Section] = {}
    placed: set[str] = set()
    for name, section in previous.sections.items():
        if section.occupant is not None and wanted.get(section.occupant) == section.policy:
            sections[name] = section
            placed.add(section.occupant)
        elif naming.is_spare(name) or not reloading:
            sections[name] = Section(section.policy, None)
    new = {name: policy for name, policy in wanted.items() if name not in placed}
    if not reloading:
        for name, policy in new.items():
            sections[_free(sections, name, policy) or name] = Section(policy, name)
        return Pool.model_construct(sections=sections)
    free = Counter(
        s.policy for n, s in sections.items() if s.occupant is None and naming.is_spare(n)
    )
    short = Counter({p: count for p, count in Counter(new.values()).items() if count > free[p]})
    sections.update((name, Section(policy, name)) for name, policy in new.items())
    return Pool.model_construct(sections=_sized(sections, wanted, short, previous))


def _free(sections: dict[str, Section], backend: str, policy: Policy) -> str | None:
    """The section a new Service backend takes: its own (kept empty since it left), else the
    first free spare of its policy's pool."""
    if backend in sections:
        return backend
    return next(
        (
            name
            for name, section in sections.items()
            if section.occupant is None and section.policy == policy and naming.is_spare(name)
        ),
        None,
    )


def _sized(
    sections: dict[str, Section],
    wanted: dict[str, Policy],
    short: Counter[Policy],
    previous: Pool | None = None,
) -> dict[str, Section]:
    """Sections with every pool's free spares at its target: pools exist for the default
    policy and every policy in use; a pool that came up short doubles."""
    in_use = _count(wanted.values())
    before = Counter(
        s.policy for n, s in (previous.sections if previous else {}).items() if naming.is_spare(n)
    )
    free: dict[Policy, list[str]] = {}
    spares: dict[Policy, set[str]] = {}
    result = {}
    for name, section in sections.items():
        if not naming.is_spare(name):
            result[name] = section
            continue
        spares.setdefault(section.policy, set()).add(name)
        if section.occupant is None:
            free.setdefault(section.policy, []).append(name)
        else:
            result[name] = section
    for policy in sorted({DEFAULT, *in_use}, key=naming.pool_id):
        floor = MIN_SPARES if policy == DEFAULT else MIN_POLICY_SPARES
        target = spare_target(len(wanted) if policy == DEFAULT else in_use[policy], floor=floor)
        if short[policy]:
            target = max(target, 2 * before[policy])
        names = chain(free.get(policy, ()), _new_names(policy, spares.get(policy, ())))
        for name in islice(names, target):
            result[name] = Section(policy, None)
    return result


def _count(policies: Iterable[Policy]) -> Counter[Policy]:
    """How often each policy occurs, counted by identity first: thousands of backends share a
    few policy objects, and hashing a model hashes every field of it, every time."""
    found = list(policies)
    by_identity = {id(policy): policy for policy in found}
    counted: Counter[Policy] = Counter()
    for identity, count in Counter(map(id, found)).items():
        counted[by_identity[identity]] += count
    return counted


def _new_names(policy: Policy, taken: Iterable[str]) -> Iterator[str]:
    """Spare names of a pool not in use, lowest index first."""
    used = set(taken)
    index = 1
    while True:
        name = naming.spare_backend_name(naming.pool_id(policy), index)
        if name not in used:
            yield name
        index += 1
