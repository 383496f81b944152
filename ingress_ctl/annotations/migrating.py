"""The migration report: what each ingress-nginx annotation of an Ingress becomes here.

For every `nginx.ingress.kubernetes.io/` key: translated (same meaning),
differs (works, with the difference explained), unsupported, refused
(snippets), invalid (maps onto ours but the value does not parse: the reason),
overridden (another key wins), or unknown. Pure: `ingress-ctl migrate` prints it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from ingress_ctl.annotations import nginx
from ingress_ctl.annotations.reading import check
from ingress_ctl.annotations.registry import REGISTRY, Reader
from ingress_ctl.model.policies import Part

Verdict = Literal[
    "translated", "differs", "unsupported", "refused", "invalid", "overridden", "unknown"
]
BLOCKING: frozenset[Verdict] = frozenset({"unsupported", "refused", "invalid"})
"""Verdicts that change what the Ingress does once migrated."""


class Entry(Part):
    """One nginx key of one Ingress, and what it becomes."""

    key: str
    verdict: Verdict
    ours: str | None = None
    note: str = ""

    def __str__(self) -> str:
        target = f" -> {self.ours}" if self.ours else ""
        note = f": {self.note}" if self.note else ""
        return f"{self.verdict:<11} {self.key}{target}{note}"


class Migration(Part):
    """The report of one Ingress."""

    ingress: str
    """`namespace/name`."""
    entries: tuple[Entry, ...]

    @property
    def blocked(self) -> bool:
        return any(entry.verdict in BLOCKING for entry in self.entries)


def migrate(ingress: str, annotations: Mapping[str, str]) -> Migration:
    """What the nginx annotations of one Ingress become with `--nginx-compat`."""
    translated = nginx.translate(annotations)
    reader = Reader(translated.found)
    for annotation in REGISTRY.values():
        reader.get(annotation)
    issues = [*reader.issues, *check(translated.found, "Ingress")]
    errors = {issue.key: issue.reason for issue in issues if issue.severity == "error"}
    warnings = {issue.key: issue.reason for issue in issues if issue.severity == "warning"}
    entries = []
    for outcome in translated.outcomes:
        verdict: Verdict = outcome.verdict
        note = "; ".join(filter(None, (outcome.note, warnings.get(outcome.key))))
        if outcome.key in errors and verdict in ("translated", "differs"):
            verdict, note = "invalid", errors[outcome.key]
        entries.append(Entry(key=outcome.key, verdict=verdict, ours=outcome.ours, note=note))
    return Migration(ingress=ingress, entries=tuple(entries))


def report(migrations: Iterable[Migration]) -> list[str]:
    """The report's lines: each Ingress with nginx annotations, then a summary."""
    lines = []
    count = blocked = 0
    for migration in migrations:
        if not migration.entries:
            continue
        count += 1
        blocked += migration.blocked
        lines.append(f"Ingress {migration.ingress}:")
        lines.extend(f"  {entry}" for entry in migration.entries)
    lines.append(
        f"{count} Ingresses with nginx annotations, {blocked} that would behave differently"
    )
    return lines
