"""File mode: Kubernetes objects from YAML or JSON manifests on disk.

Reads files and folders (recursively: `*.yaml`, `*.yml`, `*.json`, skipping
hidden entries such as the `..data` copies of a mounted ConfigMap),
multi-document YAML files (with libyaml's loader when PyYAML has it), JSON
files and `List` kinds. A file that does not parse or an object with a bad
field becomes a problem naming the file, the object and the field; every other
object still loads.

`watch_manifests` polls the files and yields a fresh load whenever what they
hold changes. It re-reads only the files whose size, time or inode changed,
and a file whose content hash did not change (a rewrite with the same bytes)
changes nothing. A change that would lose something a file had (the file
vanished, no longer parses, or holds fewer objects: what a writer that
truncates, then writes, leaves for a moment) waits until the file has stayed
the same for `settle` seconds, and is then read again. A file that still does
not parse keeps its last good objects, with a problem naming it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from time import monotonic
from typing import Any

from ingress_ctl.model.objects import (
    KubeObject,
    ObjectError,
    Unread,
    describe,
    object_key,
    parse_list_json,
    parse_object,
)
from ingress_ctl.model.problems import Problem
from ingress_ctl.model.routing import ObjectRef

SUFFIXES = (".yaml", ".yml", ".json")
SETTLE_S = 1.0
"""How long a file must stay unchanged before a change that loses objects is believed."""


Mark = tuple[int, int, int]
"""What tells a file changed without reading it: modification time, size, inode."""


@dataclass(frozen=True)
class Loaded:
    """Objects read from manifests, and what could not be read."""

    objects: tuple[KubeObject, ...]
    problems: tuple[Problem, ...]


EMPTY = Loaded(objects=(), problems=())


def manifest_files(paths: Sequence[Path]) -> list[Path]:
    """The manifest files named by paths: files as given, folders walked recursively."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(_walk(path))
        else:
            found.append(path)
    return found


def _walk(folder: Path) -> list[Path]:
    """The manifests under folder, hidden entries and their contents left out, sorted."""
    found: list[list[str]] = []
    for directory, subdirectories, names in os.walk(folder):
        subdirectories[:] = [name for name in subdirectories if not name.startswith(".")]
        for name in names:
            path = os.path.join(directory, name)
            if _is_manifest(name) and os.path.isfile(path):
                found.append(path.split(os.sep))
    return [Path(os.sep.join(parts)) for parts in sorted(found)]


def _is_manifest(name: str) -> bool:
    return not name.startswith(".") and os.path.splitext(name)[1] in SUFFIXES


def _documents(file: Path, data: bytes) -> list[Any]:
    """The documents of a file: one for JSON (which YAML 1.1 misreads: tabs), any for YAML."""
    if file.suffix == ".json":
        return [json.loads(data.decode("utf-8"))]
    return _yaml(data.decode("utf-8"))


def _yaml(text: str) -> list[Any]:
    """The documents of a YAML file, read by libyaml's safe loader (about 8 times faster) when
    PyYAML was built with it; a YAML error is raised as a ValueError with its words. PyYAML
    is imported here, at the first YAML file: a JSON List is read without it."""
    import yaml  # noqa: PLC0415 (see above)

    try:
        return list(yaml.load_all(text, Loader=yaml_loader()))
    except yaml.YAMLError as error:
        raise ValueError(str(error)) from error


def yaml_loader() -> type:
    """libyaml's safe loader when PyYAML has it, else PyYAML's own."""
    import yaml  # noqa: PLC0415 (see _yaml)

    loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return loader


def parse_manifest(file: Path, data: bytes) -> Loaded:
    """The objects in one file's bytes, and their problems.

    Raises ValueError (bad UTF-8, JSON or YAML) when the file does not parse.
    """
    objects: list[KubeObject] = []
    problems: list[Problem] = []
    for item in _read_items(file, data):
        if isinstance(item, Unread):
            _load_one(file, item.raw, objects, problems)
        else:
            objects.append(item)
    return Loaded(objects=tuple(objects), problems=tuple(problems))


def _read_items(file: Path, data: bytes) -> Iterable[KubeObject | Unread]:
    """The items of a file: a JSON List's read by `parse_list_json` (its core kinds already
    parsed), any other file's each left Unread."""
    if file.suffix == ".json":
        found = parse_list_json(data)
        if found is not None:
            return found
    return map(Unread, _items(_documents(file, data)))


def load_manifests(paths: Sequence[Path]) -> Loaded:
    """Every object in these files and folders, and a problem for each that failed."""
    loads: list[Loaded] = []
    for file in manifest_files(paths):
        try:
            loads.append(parse_manifest(file, file.read_bytes()))
        except (OSError, ValueError) as error:
            loads.append(Loaded(objects=(), problems=(_unreadable(file, error),)))
    return _joined(loads)


def _joined(loads: Sequence[Loaded]) -> Loaded:
    return Loaded(
        objects=tuple(obj for loaded in loads for obj in loaded.objects),
        problems=tuple(problem for loaded in loads for problem in loaded.problems),
    )


def _unreadable(file: Path, error: Exception, *, kept: int = 0) -> Problem:
    reason = f"cannot be read: {_first_line(error)}"
    if kept:
        reason += f"; its last good {kept} object(s) are kept"
    return _file_problem(file, reason)


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


@dataclass(frozen=True)
class _Applied:
    """One file as the watcher last took it in."""

    mark: Mark
    digest: bytes
    good: Loaded
    """What its last content that parsed held."""
    error: Problem | None = None
    """Why its current content does not parse (its last good objects are kept)."""

    @property
    def loaded(self) -> Loaded:
        if self.error is None:
            return self.good
        return Loaded(objects=self.good.objects, problems=(*self.good.problems, self.error))


class ManifestWatch:
    """The manifests' current objects, kept up to date one changed file at a time."""

    def __init__(self, paths: Sequence[Path], *, settle: float = SETTLE_S) -> None:
        self._paths = tuple(paths)
        self._settle = settle
        self._applied: dict[Path, _Applied] = {}
        self._pending: dict[Path, tuple[Mark | None, float]] = {}
        """Files whose change waits for the writer to settle: the mark seen, since when."""

    def loaded(self) -> Loaded:
        """Every object the files hold now, or held last when they do not parse."""
        return _joined([self._applied[file].loaded for file in sorted(self._applied)])

    def poll(self, now: float) -> bool:
        """Look at every file once; True when what they hold changed."""
        marks = {file: _mark(file) for file in manifest_files(self._paths)}
        changed = False
        for file in marks.keys() | self._applied.keys():
            changed |= self._update(file, marks.get(file), now)
        return changed

    def _update(self, file: Path, mark: Mark | None, now: float) -> bool:
        applied = self._applied.get(file)
        if applied is not None and applied.mark == mark:
            self._pending.pop(file, None)
            return False
        data = _read(file) if mark is not None else None
        if mark is None or data is None:
            if applied is None or not self._settled(file, None, now):
                return False
            del self._applied[file]
            return True
        digest = hashlib.blake2b(data).digest()
        if applied is not None and applied.digest == digest:
            self._applied[file] = _Applied(mark, digest, applied.good, applied.error)
            self._pending.pop(file, None)
            return False
        fresh = _parsed(file, mark, digest, data, applied)
        if _loses(applied, fresh) and not self._settled(file, mark, now):
            return False
        self._applied[file] = fresh
        self._pending.pop(file, None)
        return applied is None or applied.loaded != fresh.loaded

    def _settled(self, file: Path, mark: Mark | None, now: float) -> bool:
        """Whether the file has shown this mark for `settle` seconds (the clock starts now)."""
        seen = self._pending.get(file)
        if seen is None or seen[0] != mark:
            self._pending[file] = (mark, now)
            return self._settle <= 0
        return now - seen[1] >= self._settle


def _mark(file: Path) -> Mark | None:
    try:
        stat = file.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


def _read(file: Path) -> bytes | None:
    try:
        return file.read_bytes()
    except OSError:
        return None


def _parsed(
    file: Path, mark: Mark, digest: bytes, data: bytes, applied: _Applied | None
) -> _Applied:
    try:
        return _Applied(mark, digest, parse_manifest(file, data))
    except ValueError as error:
        good = applied.good if applied is not None else EMPTY
        return _Applied(mark, digest, good, _unreadable(file, error, kept=len(good.objects)))


def _loses(applied: _Applied | None, fresh: _Applied) -> bool:
    """Whether taking `fresh` in would drop an object the file had, or start an error."""
    if applied is None:
        return False
    if fresh.error is not None and applied.error is None:
        return True
    kept = {object_key(obj) for obj in fresh.good.objects}
    return any(object_key(obj) not in kept for obj in applied.good.objects)


async def watch_manifests(
    paths: Sequence[Path], *, interval: float = 0.2, settle: float = SETTLE_S
) -> AsyncIterator[Loaded]:
    """Yield a load now, then again each time what the manifests hold changes."""
    import asyncio  # noqa: PLC0415 (`render` reads manifests with this module, without asyncio)

    watch = ManifestWatch(paths, settle=settle)
    await asyncio.to_thread(watch.poll, monotonic())
    yield watch.loaded()
    while True:
        await asyncio.sleep(interval)
        if await asyncio.to_thread(watch.poll, monotonic()):
            yield watch.loaded()
