"""Keeping the ExternalNames of the current snapshot resolved, in the background.

The sync loop asks the `Resolver` for each full pass (new names are resolved then,
known ones come from its cache) and every `REFRESH_S` seconds has it resolve them
all again; a changed answer triggers a sync. Resolution and its checks are
`resolving`'s, which `render` uses without this module's asyncio machinery.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace

from ingress_ctl.model.snapshot import Snapshot
from ingress_ctl.resolving import IPAddress, external_names, own_addresses, resolve

log = logging.getLogger(__name__)

REFRESH_S = 30.0
"""How often names are resolved again (HAProxy's `hold valid` was 10 s; DNS TTLs are longer)."""
TIMEOUT_S = 5.0
"""A name that takes longer to resolve is refused until the next try."""


class Resolver:
    """Keeps the ExternalNames of the current snapshot resolved, in the background."""

    def __init__(self, own: frozenset[IPAddress] | None = None) -> None:
        self._own = own if own is not None else own_addresses()
        self._known: dict[str, tuple[str, ...] | str] = {}

    async def _resolve(self, name: str) -> tuple[str, ...] | str:
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(resolve, name, self._own), timeout=TIMEOUT_S
            )
        except TimeoutError:
            return f"did not resolve within {TIMEOUT_S:g} s"

    async def with_resolved(self, snapshot: Snapshot) -> Snapshot:
        """The snapshot with its ExternalNames resolved (new names now, known ones cached)."""
        names = external_names(snapshot)
        new = sorted(names - self._known.keys())
        for name, found in zip(new, await asyncio.gather(*map(self._resolve, new)), strict=True):
            self._log(name, found)
            self._known[name] = found
        for gone in self._known.keys() - names:
            del self._known[gone]
        return replace(snapshot, resolved={name: self._known[name] for name in sorted(names)})

    async def refresh(self) -> bool:
        """Resolve every known name again; whether any answer changed."""
        names = sorted(self._known)
        answers: Mapping[str, tuple[str, ...] | str] = dict(
            zip(names, await asyncio.gather(*map(self._resolve, names)), strict=True)
        )
        changed = False
        for name, found in answers.items():
            if self._known.get(name) != found:
                self._log(name, found)
                self._known[name] = found
                changed = True
        return changed

    @property
    def names(self) -> int:
        """How many names are kept resolved."""
        return len(self._known)

    @staticmethod
    def _log(name: str, found: tuple[str, ...] | str) -> None:
        if isinstance(found, str):
            log.warning("ExternalName %s %s", name, found)
        else:
            log.info("ExternalName %s resolves to %s", name, ", ".join(found))
