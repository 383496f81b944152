"""The registry of our annotations: each key, its parser, its scope, and how it is read.

Every `ingress-ctl.io/` annotation is registered once, by the module of its
feature, with a typed parser. A `Reader` reads them from what one object (or
a Service and an Ingress together) says: a value that does not parse becomes
an `Issue` naming the key as written (ours, or nginx's in compat mode) and
the reason, and the feature falls back to its default. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, Literal, TypeVar, cast

T = TypeVar("T")

PREFIX = "ingress-ctl.io/"
MAX_VALUE = 4096

Kind = Literal["Ingress", "Service"]
Severity = Literal["error", "warning"]


class Scope(StrEnum):
    """Where an annotation is read and what it applies to."""

    INGRESS = "Ingress"
    """The Ingress's hosts (read on Ingresses)."""
    ROUTE = "route"
    """Each path of the Ingress, applied in the backend its routes share (read on Ingresses)."""
    BACKEND = "backend"
    """The Service's servers: read on Services and on Ingresses (an Ingress's value wins)."""
    SERVICE = "Service"
    """The Service's servers, read on Services only."""

    def read_on(self, kind: Kind) -> bool:
        """Whether objects of this kind carry annotations of this scope."""
        if self is Scope.BACKEND:
            return True
        return kind == ("Service" if self is Scope.SERVICE else "Ingress")


@dataclass(frozen=True)
class Annotation(Generic[T]):
    """One annotation: its full key, parser, scope, and default (the values are documented in
    docs/annotations.md, and each parser says what it expects when it refuses one)."""

    key: str
    parse: Callable[[str], T]
    scope: Scope
    default: str
    multiline: bool = False
    """Entries are one per line (the only place a newline may appear)."""
    invalid: str | None = None
    """What an invalid value does, when not the default (security features fail closed)."""

    @property
    def fallback(self) -> str:
        """What happens when the value is refused."""
        return self.invalid or f"the default applies ({self.default})"


REGISTRY: dict[str, Annotation[Any]] = {}
"""Every annotation of ours, by key."""


def register(
    name: str,
    parse: Callable[[str], T],
    scope: Scope,
    *,
    default: str,
    multiline: bool = False,
    invalid: str | None = None,
) -> Annotation[T]:
    """Register `ingress-ctl.io/<name>`; each key once."""
    key = PREFIX + name
    if key in REGISTRY:
        raise ValueError(f"{key} is registered twice")
    annotation = Annotation(key, parse, scope, default, multiline, invalid)
    REGISTRY[key] = annotation
    return annotation


REFUSED: dict[str, str] = {}
"""Keys of ours that are refused whatever their value, with the reason."""


def refuse(name: str, reason: str) -> None:
    """Refuse `ingress-ctl.io/<name>` with a reason (e.g. a timeout HAProxy applies globally)."""
    REFUSED[PREFIX + name] = reason


def snippet_refusal(key: str) -> str | None:
    """Why a `*-snippet` key (ours or another controller's) is refused; None for other keys."""
    if not key.rstrip().endswith("-snippet"):
        return None
    return (
        "snippets are refused: raw configuration from an Ingress could reach every tenant's "
        "traffic; use the typed annotations (docs/annotations.md)"
    )


def field_of(key: str) -> str:
    """The problem field of an annotation key."""
    return f"metadata.annotations[{key}]"


@dataclass(frozen=True)
class Issue:
    """An annotation that was not taken (or taken with a caveat), on the object that holds it."""

    key: str
    reason: str
    severity: Severity = "error"
    owner: Kind = "Ingress"

    @property
    def field(self) -> str:
        return field_of(self.key)


@dataclass(frozen=True)
class Found:
    """A raw value of one of our annotations, and where it was written."""

    raw: str
    key: str
    """The key as written: ours, or an nginx key that maps onto ours."""
    owner: Kind = "Ingress"
    implied: bool = False
    """Set along with another key (an nginx redirect's default code), not written."""


def clean(raw: str, *, multiline: bool) -> str:
    """The value without surrounding whitespace; ValueError for control characters."""
    value = raw.strip()
    if len(value) > MAX_VALUE:
        raise ValueError(f"is longer than {MAX_VALUE} characters")
    allowed = "\n" if multiline else ""
    bad = [char for char in value if (char < " " or char == "\x7f") and char not in allowed]
    if bad:
        raise ValueError(f"holds the control character {bad[0]!r}")
    return value


@dataclass
class Reader:
    """Reads typed values from found annotations, recording an Issue per value refused."""

    found: Mapping[str, Found]
    issues: list[Issue] = field(default_factory=list)
    _parsed: dict[str, Any] = field(default_factory=dict)

    def get(self, annotation: Annotation[T]) -> T | None:
        """The parsed value; None when absent or refused (with an issue)."""
        if annotation.key not in self._parsed:
            self._parsed[annotation.key] = self._parse(annotation)
        return cast("T | None", self._parsed[annotation.key])

    def value(self, annotation: Annotation[T], default: T) -> T:
        """The parsed value, else `default`."""
        found = self.get(annotation)
        return default if found is None else found

    def _parse(self, annotation: Annotation[T]) -> T | None:
        hit = self.found.get(annotation.key)
        if hit is None:
            return None
        try:
            return annotation.parse(clean(hit.raw, multiline=annotation.multiline))
        except ValueError as error:
            reason = f"{error}; {annotation.fallback}"
            self.issues.append(Issue(hit.key, reason, owner=hit.owner))
            return None

    def given(self, *annotations: Annotation[Any]) -> bool:
        """Whether any of these annotations is written (valid or not; implied ones are not)."""
        return any(
            annotation.key in self.found and not self.found[annotation.key].implied
            for annotation in annotations
        )

    def complain(
        self, annotation: Annotation[Any], reason: str, severity: Severity = "error"
    ) -> None:
        """An issue about a value that parsed but does not fit with the others."""
        hit = self.found[annotation.key]
        self.issues.append(Issue(hit.key, reason, severity=severity, owner=hit.owner))
