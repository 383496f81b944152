"""The store: the controller's current objects, a revision, and a change signal.

Sources (file mode, Kubernetes informers) write here; the syncing loop reads
consistent snapshots. Writing an object that did not change does not bump the
revision, so it wakes nobody. No I/O happens here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from ingress_ctl.model.objects import KubeObject, object_key
from ingress_ctl.model.problems import Problem
from ingress_ctl.model.snapshot import NamespacedName, Snapshot

ObjectKey = tuple[str, str, str]


class Store:
    """Objects by kind and key, plus problems of objects that could not be read."""

    def __init__(self) -> None:
        self._kinds: dict[str, dict[NamespacedName, KubeObject]] = {}
        self._unreadable: dict[ObjectKey, tuple[Problem, ...]] = {}
        self.revision = 0
        self.changed = asyncio.Event()
        self._dirty: set[ObjectKey] | None = None

    def _bump(self, key: ObjectKey | None = None) -> None:
        """Count a change: of one object, or (key None) of anything."""
        self.revision += 1
        if key is None:
            self._dirty = None
        elif self._dirty is not None:
            self._dirty.add(key)
        self.changed.set()

    def take_dirty(self) -> set[ObjectKey] | None:
        """The objects changed since the last call; None when anything may have changed."""
        dirty, self._dirty = self._dirty, set()
        return dirty

    def upsert(self, obj: KubeObject) -> bool:
        """Add or replace an object; True if anything changed."""
        kind, namespace, name = object_key(obj)
        objects = self._kinds.setdefault(kind, {})
        unreadable = self._unreadable.pop((kind, namespace, name), None)
        if objects.get((namespace, name)) == obj and unreadable is None:
            return False
        objects[(namespace, name)] = obj
        self._bump((kind, namespace, name))
        return True

    def delete(self, key: ObjectKey) -> bool:
        """Forget an object (readable or not); True if it was known."""
        kind, namespace, name = key
        gone = self._kinds.get(kind, {}).pop((namespace, name), None)
        unreadable = self._unreadable.pop(key, None)
        if gone is None and unreadable is None:
            return False
        self._bump(key)
        return True

    def reject(self, key: ObjectKey, problems: Iterable[Problem]) -> bool:
        """Record that an object could not be read (the last readable version is dropped)."""
        kind, namespace, name = key
        self._kinds.get(kind, {}).pop((namespace, name), None)
        found = tuple(problems)
        if self._unreadable.get(key) == found:
            return False
        self._unreadable[key] = found
        self._bump()
        return True

    def replace_kind(
        self,
        kind: str,
        objects: Iterable[KubeObject],
        *,
        namespace: str | None = None,
        rejected: Iterable[tuple[ObjectKey, Iterable[Problem]]] = (),
    ) -> bool:
        """Replace every object of one kind (in one namespace, or all) after a list.

        `rejected` holds the listed objects that could not be read, with their
        problems: passing them here rather than to `reject` afterwards keeps a
        relist that finds nothing new from bumping the revision.
        """
        current = self._kinds.setdefault(kind, {})
        fresh = {object_key(obj)[1:]: obj for obj in objects}
        kept = {
            key: obj
            for key, obj in current.items()
            if namespace is not None and key[0] != namespace
        }
        stale = {
            key: found
            for key, found in self._unreadable.items()
            if key[0] == kind and (namespace is None or key[1] == namespace)
        }
        unreadable = {key: tuple(found) for key, found in rejected}
        if {**kept, **fresh} == current and unreadable == stale:
            return False
        self._kinds[kind] = {**kept, **fresh}
        for key in stale:
            del self._unreadable[key]
        self._unreadable.update(unreadable)
        self._bump()
        return True

    def replace_all(self, objects: Iterable[KubeObject], problems: Iterable[Problem]) -> bool:
        """Replace everything (file mode reloads); True if anything changed."""
        fresh = Snapshot.of(objects).kinds
        found = tuple(problems)
        unreadable = {("File", "", ""): found} if found else {}
        # Kinds emptied by deletes are still present here, never in `fresh`.
        current = {kind: objects for kind, objects in self._kinds.items() if objects}
        if fresh == current and unreadable == self._unreadable:
            return False
        self._kinds = {kind: dict(objects) for kind, objects in fresh.items()}
        self._unreadable = unreadable
        self._bump()
        return True

    def snapshot(self) -> Snapshot:
        """A consistent copy of every readable object."""
        kinds = {kind: dict(objects) for kind, objects in self._kinds.items()}
        return Snapshot(kinds=kinds, revision=self.revision)

    def problems(self) -> tuple[Problem, ...]:
        """Problems of every object that could not be read."""
        return tuple(p for key in sorted(self._unreadable) for p in self._unreadable[key])
