"""A consistent, read-only view of every object the controller knows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from ingress_ctl.model.objects import KubeObject, object_key

T = TypeVar("T", bound=KubeObject)

NamespacedName = tuple[str, str]

Resolved = Mapping[str, tuple[str, ...] | str]
"""ExternalName -> its checked addresses, or why it is refused (see `resolving`)."""


@dataclass(frozen=True)
class Snapshot:
    """Objects by kind, then by (namespace, name); cluster-scoped kinds use namespace ""."""

    kinds: Mapping[str, Mapping[NamespacedName, KubeObject]] = field(default_factory=dict)
    revision: int = 0
    resolved: Resolved = field(default_factory=dict)
    """What the ExternalNames of its Services resolve to (filled by `resolving`)."""

    @classmethod
    def of(cls, objects: Iterable[KubeObject], *, revision: int = 0) -> Snapshot:
        """A snapshot holding these objects (a later duplicate replaces an earlier one)."""
        kinds: dict[str, dict[NamespacedName, KubeObject]] = {}
        for obj in objects:
            kind, namespace, name = object_key(obj)
            found = kinds.get(kind)
            if found is None:  # not `setdefault`: no empty dict made for each object
                found = kinds[kind] = {}
            found[(namespace, name)] = obj
        return cls(kinds=kinds, revision=revision)

    def objects(self, view: type[T]) -> Mapping[NamespacedName, T]:
        """Every object of this kind, keyed by (namespace, name)."""
        found = self.kinds.get(view.__name__, {})
        return found  # type: ignore[return-value]

    def count(self) -> dict[str, int]:
        """Number of objects per kind."""
        return {kind: len(objects) for kind, objects in sorted(self.kinds.items())}
