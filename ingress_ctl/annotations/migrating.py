"""The migration report: what each ingress-nginx annotation of an Ingress becomes here.

For every `nginx.ingress.kubernetes.io/` key: translated (same meaning),
differs (works, with the difference explained), unsupported, refused
(snippets), invalid (maps onto ours but the value does not parse: the reason),
overridden (another key wins), or unknown; and warnings about what changes
besides annotations (a class that is not ours, paths ingress-nginx read as
regular expressions). The report lists the riskiest Ingresses first and ends
with counts per verdict and the keys to act on. Pure: `ingress-ctl migrate`
prints it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from ingress_ctl.annotations import nginx
from ingress_ctl.annotations.reading import check
from ingress_ctl.annotations.registry import REGISTRY, Reader
from ingress_ctl.model.matching import parse_path
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
    warnings: tuple[str, ...] = ()
    """What else changes once migrated: a class not ours, paths ingress-nginx read as regexes."""

    @property
    def blocked(self) -> bool:
        return any(entry.verdict in BLOCKING for entry in self.entries)

    @property
    def risk(self) -> int:
        """The rank of its riskiest verdict (RISK order), warnings just after blocking ones."""
        ranks = [RISK.index(entry.verdict) for entry in self.entries]
        if self.warnings:
            ranks.append(len(BLOCKING))
        return min(ranks, default=len(RISK))


RISK: tuple[Verdict, ...] = (
    "refused",
    "unsupported",
    "invalid",
    "differs",
    "unknown",
    "overridden",
    "translated",
)
"""Verdicts, the ones to act on first."""

_REGEX_CHARACTERS = frozenset("^$()[]{}|?*+\\")


def migrate(
    ingress: str,
    annotations: Mapping[str, str],
    *,
    paths: Iterable[str] = (),
    ignored: str | None = None,
) -> Migration:
    """What the nginx annotations of one Ingress (and its rules' `paths`) become with
    `--nginx-compat`; `ignored` says why the controller would not serve it (its class)."""
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
    regex = nginx.regex_paths(annotations)
    path_warnings = tuple(
        found for found in (path_warning(path, regex=regex) for path in paths) if found
    )
    if ignored is not None:
        path_warnings = (
            f"not served: {ignored}; set spec.ingressClassName to an IngressClass of ingress-ctl",
            *path_warnings,
        )
    return Migration(ingress=ingress, entries=tuple(entries), warnings=path_warnings)


def path_warning(path: str, *, regex: bool) -> str | None:
    """What becomes of a rule path that ingress-nginx may read as a regular expression (its
    rewrite idiom `L(/|$)(.*)` is the Prefix `L`: nothing to say)."""
    if regex and nginx.idiom_prefix(path):
        return None
    try:
        parse_path(path)
    except ValueError as error:
        if regex or _REGEX_CHARACTERS.intersection(path):
            return (
                f"path {path!r} is a regular expression: it is rejected (paths match as Prefix "
                "or Exact); write the prefix it stands for, and ingress-ctl.io/path-rewrite for "
                "its captures"
            )
        return f"path {path!r} is rejected: {error}"
    if regex and _REGEX_CHARACTERS.intersection(path):
        return (
            f"path {path!r} is matched literally (as a Prefix or Exact path), not as the regular "
            "expression ingress-nginx read with use-regex"
        )
    return None


def report(migrations: Iterable[Migration]) -> list[str]:
    """The report's lines: each Ingress with something to say, the riskiest first, then a
    summary a person can act on (Ingresses and keys per verdict, the riskiest first)."""
    found = [migration for migration in migrations if migration.entries or migration.warnings]
    found.sort(key=lambda migration: migration.risk)
    lines = []
    for migration in found:
        lines.append(f"Ingress {migration.ingress}:")
        lines.extend(f"  warning     {warning}" for warning in migration.warnings)
        lines.extend(f"  {entry}" for entry in sorted(migration.entries, key=_entry_risk))
    return lines + summary(found)


def _entry_risk(entry: Entry) -> int:
    return RISK.index(entry.verdict)


def summary(migrations: list[Migration]) -> list[str]:
    """Counts per verdict and the keys to act on, the riskiest first."""
    with_nginx = [migration for migration in migrations if migration.entries]
    blocked = sum(migration.blocked for migration in with_nginx)
    warned = sum(bool(migration.warnings) for migration in migrations)
    lines = [
        "",
        f"Summary: {len(with_nginx)} Ingresses with nginx annotations, {blocked} that would "
        f"behave differently, {warned} with warnings.",
        "Act first on the refused, unsupported and invalid keys and on the warnings (the "
        "Ingress would not behave as it does under ingress-nginx), then read each differs "
        "note; docs/nginx-compat.md has the whole table. Uses per verdict:",
    ]
    keys: dict[tuple[Verdict, str], set[str]] = {}
    for migration in with_nginx:
        for entry in migration.entries:
            keys.setdefault((entry.verdict, entry.key), set()).add(migration.ingress)
    for verdict in RISK:
        found = sorted(
            ((len(names), key) for (kind, key), names in keys.items() if kind == verdict),
            key=lambda item: (-item[0], item[1]),
        )
        if found:
            total = sum(count for count, _ in found)
            lines.append(f"  {verdict:<11} {total:>4} ({len(found)} keys)")
            if verdict != "translated":
                lines.extend(f"    {count:>4} x {key}" for count, key in found)
    return lines
