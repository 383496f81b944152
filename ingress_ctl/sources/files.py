"""File mode: Kubernetes objects from YAML or JSON manifests on disk.

Reads files and folders (recursively: `*.yaml`, `*.yml`, `*.json`, skipping
hidden entries such as the `..data` copies of a mounted ConfigMap),
multi-document YAML files, JSON files and `List` kinds. A file that does not
parse or an object with a bad field becomes a problem naming the file, the
object and the field; every other object still loads. `watch_manifests` polls
the files and yields a fresh load whenever one changes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ingress_ctl.model.objects import KubeObject, ObjectError, describe, parse_object
from ingress_ctl.model.problems import Problem
from ingress_ctl.model.routing import ObjectRef

SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Loaded:
    """Objects read from manifests, and what could not be read."""

    objects: tuple[KubeObject, ...]
    problems: tuple[Problem, ...]


def manifest_files(paths: Sequence[Path]) -> list[Path]:
    """The manifest files named by paths: files as given, folders walked recursively."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if _is_manifest(p, path)))
        else:
            found.append(path)
    return found


def _is_manifest(file: Path, folder: Path) -> bool:
    hidden = any(part.startswith(".") for part in file.relative_to(folder).parts)
    return not hidden and file.suffix in SUFFIXES and file.is_file()


def _documents(file: Path) -> list[Any]:
    """The documents of a file: one for JSON (which YAML 1.1 misreads: tabs), any for YAML."""
    text = file.read_text(encoding="utf-8")
    if file.suffix == ".json":
        return [json.loads(text)]
    return list(yaml.safe_load_all(text))


def load_manifests(paths: Sequence[Path]) -> Loaded:
    """Every object in these files and folders, and a problem for each that failed."""
    objects: list[KubeObject] = []
    problems: list[Problem] = []
    for file in manifest_files(paths):
        try:
            documents = _documents(file)
        except (OSError, ValueError, yaml.YAMLError) as error:  # ValueError: bad UTF-8 or JSON
            problems.append(_file_problem(file, f"cannot be read: {_first_line(error)}"))
            continue
        for raw in _items(documents):
            _load_one(file, raw, objects, problems)
    return Loaded(objects=tuple(objects), problems=tuple(problems))


def _first_line(error: Exception) -> str:
    return " ".join(str(error).split())[:300]


def _file_problem(file: Path, reason: str) -> Problem:
    return Problem(source=ObjectRef(kind="File", name=str(file)), field="(file)", reason=reason)


def _items(documents: list[Any]) -> Iterator[Any]:
    for document in documents:
        if isinstance(document, dict) and str(document.get("kind", "")).endswith("List"):
            items = document.get("items")
            yield from items if isinstance(items, list) else ()
        elif document is not None:
            yield document


def _load_one(file: Path, raw: Any, objects: list[KubeObject], problems: list[Problem]) -> None:
    if not isinstance(raw, dict):
        problems.append(_file_problem(file, f"holds a {type(raw).__name__}, not an object"))
        return
    try:
        obj = parse_object(raw)
    except ObjectError as error:
        source = describe(raw)
        problems.extend(
            Problem(source=source, field=where, reason=f"{why} (in {file})")
            for where, why in error.fields
        )
        return
    if obj is not None:
        objects.append(obj)


def _fingerprint(paths: Sequence[Path]) -> tuple[tuple[str, int, int], ...]:
    marks = []
    for file in manifest_files(paths):
        try:
            stat = file.stat()
        except OSError:
            continue
        marks.append((str(file), stat.st_mtime_ns, stat.st_size))
    return tuple(marks)


async def watch_manifests(paths: Sequence[Path], *, interval: float = 0.2) -> AsyncIterator[Loaded]:
    """Yield a load now, then again each time a manifest is added, changed or removed."""
    seen = None
    while True:
        mark = await asyncio.to_thread(_fingerprint, paths)
        if mark != seen:
            seen = mark
            yield await asyncio.to_thread(load_manifests, paths)
        await asyncio.sleep(interval)
