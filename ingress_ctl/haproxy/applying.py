"""Applying rendered files to the running HAProxy.

The plan decides between the runtime API and a reload. Runtime commands are
sent in one batch and every reply is checked; the files on disk are then
rewritten to match what runs, so a later reload or restart serves the same.
An unexpected reply falls back to a reload. For a reload, new files are
written to a staging folder, checked there with `haproxy -c`, moved into
place one atomic rename at a time, and loaded by a master-worker reload (or
the first start), no sooner than `min_reload_interval` after the last one.
A configuration that fails the check is never installed: the last good one
keeps serving and the error is reported. If a reload does not take, the last
good files are put back on disk, so that a restarted HAProxy serves them too.
Files that the new rendering no longer has (certificates, named by content)
are removed once HAProxy no longer needs them. Commands are logged without
their payload: it may be a private key.

The applier knows which files it put on disk, apart from what HAProxy runs.
A file that cannot be written (a full disk, a read-only or vanished state
directory) fails only the apply: HAProxy keeps serving what it ran, the error
is logged, counted by stage and shown in /status, and the next pass (retried
with backoff) writes what is still missing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from time import monotonic

from ingress_ctl.haproxy import naming
from ingress_ctl.haproxy.planning import plan, reply_ok, server_commands
from ingress_ctl.haproxy.process import HAProxyError, HAProxyProcess
from ingress_ctl.haproxy.rendering import Rendered
from ingress_ctl.haproxy.slots import reassign_slots
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.routing import Backend
from ingress_ctl.model.state import ControllerStatus, ReloadRecord, now

log = logging.getLogger(__name__)

STAGING = "staging"


@dataclass(frozen=True)
class Outcome:
    """What one apply did: `none`, `runtime`, `start`, `reload` or `rejected`, and why."""

    action: str
    detail: str = ""
    retry: bool = False
    """HAProxy did not start or reload: worth trying again even if nothing changes."""


def write_files(directory: Path, files: Mapping[str, str]) -> None:
    """Write files under directory, each atomically (temporary file, then rename).

    A file that cannot be written in full (OSError) leaves the previous one in place.
    """
    for relative, content in files.items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # private keys are never readable by others, not even briefly
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(content)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise


class StateFiles:
    """The files the applier put in the state directory, as far as it knows."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._written: dict[str, str] = {}

    def matches(self, files: Mapping[str, str]) -> bool:
        """Whether the state directory holds exactly these files, as far as we know."""
        return self._written == files

    def install(self, staging: Path, files: Mapping[str, str]) -> None:
        """Move the staged files that differ from what is on disk into place (renames)."""
        for relative in self._differing(files):
            target = self._directory / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            self._written.pop(relative, None)
            os.replace(staging / relative, target)
            self._written[relative] = files[relative]

    def write(self, files: Mapping[str, str]) -> None:
        """Make the state directory hold these files: write what differs, remove the rest."""
        for relative in self._differing(files):
            self._written.pop(relative, None)
            write_files(self._directory, {relative: files[relative]})
            self._written[relative] = files[relative]
        for relative in self._written.keys() - files.keys():
            (self._directory / relative).unlink(missing_ok=True)
            del self._written[relative]

    def _differing(self, files: Mapping[str, str]) -> list[str]:
        return [name for name, text in files.items() if self._written.get(name) != text]


class Applier:
    """Owns the files in the state directory, the runtime updates and the reloads of HAProxy."""

    def __init__(
        self,
        *,
        process: HAProxyProcess,
        state_dir: Path,
        status: ControllerStatus,
        metrics: Metrics,
        min_reload_interval: float = 0.0,
    ) -> None:
        self._process = process
        self._state_dir = state_dir
        self._status = status
        self._metrics = metrics
        self._min_reload_interval = min_reload_interval
        self._last_reload = -min_reload_interval
        self._current: Rendered | None = None
        self._disk = StateFiles(state_dir)

    @property
    def current(self) -> Rendered | None:
        """What HAProxy runs now (None before the first start)."""
        return self._current

    async def apply(
        self, rendered: Rendered, *, resized: Callable[[], Rendered] | None = None
    ) -> Outcome:
        """Make HAProxy serve `rendered`: runtime commands when they suffice, else a reload.

        When a reload it is, `resized` (if given) renders the same routing with the pools of
        spare backends resized (spares.py), and that is loaded instead.
        A file that cannot be written fails the apply (`rejected`, worth a retry) and
        leaves HAProxy serving what it served.
        """
        try:
            return await self._apply(rendered, resized)
        except OSError as error:
            return self._failed("write", f"cannot write the state directory: {error}")

    async def _apply(self, rendered: Rendered, resized: Callable[[], Rendered] | None) -> Outcome:
        steps = plan(self._current, rendered)
        if steps.reload is not None and resized is not None:
            rendered = await asyncio.to_thread(resized)
        if steps.reload is None:
            if self._current is not None and self._current.files == rendered.files:
                if self._disk.matches(rendered.files):
                    return Outcome("none")
                await asyncio.to_thread(self._disk.write, rendered.files)
                return Outcome("none", "the state directory caught up")
            if await self._runtime(steps.commands):
                self._current = rendered
                await asyncio.to_thread(self._disk.write, rendered.files)
                return Outcome("runtime", f"{len(steps.commands)} commands")
        return await self._reload(rendered, reason=steps.reload or "runtime-failed")

    def _failed(self, stage: str, detail: str, *, retry: bool = True) -> Outcome:
        """Count, log and show a failed apply; HAProxy serves on what it ran."""
        self._metrics.apply_failures.labels(stage=stage).inc()
        self._status.last_error = detail
        log.error("%s", detail)
        return Outcome("rejected", detail, retry=retry)

    async def apply_servers(self, backends: Sequence[Backend]) -> Outcome | None:
        """An endpoint-only change: these backends' servers into their slots, by runtime API.

        None when that cannot be done (nothing runs yet, a backend outgrows its slots, or
        HAProxy refused a command): the caller then makes a full pass. The files on disk
        catch up at the next full pass.
        """
        current = self._current
        if current is None:
            return None
        layout = reassign_slots(current.layout, backends)
        if layout is None:
            return None
        sections = layout.pool.names()
        names = [sections.get(backend.name, backend.name) for backend in backends]
        commands = tuple(server_commands(current.layout, layout, backends=names, drains=None))
        if not await self._runtime(commands):
            return None
        self._current = replace(current, layout=layout)
        return Outcome("runtime", f"{len(commands)} commands")

    async def _runtime(self, commands: tuple[str, ...]) -> bool:
        self._metrics.runtime_updates.inc()
        self._metrics.runtime_commands.inc(len(commands))
        try:
            replies = await self._process.runtime(commands) if commands else []
        except (OSError, ValueError, RuntimeError) as error:
            return self._runtime_failed(f"runtime API: {error}")
        for command, reply in zip(commands, replies, strict=True):
            if not reply_ok(command, reply):
                head = command.split("\n", 1)[0]
                return self._runtime_failed(f"{head!r} answered {reply.strip()!r}")
        return True

    def _runtime_failed(self, detail: str) -> bool:
        self._metrics.runtime_failures.inc()
        log.warning("runtime update failed, reloading instead: %s", detail)
        return False

    async def _reload(self, rendered: Rendered, *, reason: str) -> Outcome:
        staging = self._state_dir / STAGING
        checked = await self._check(staging, rendered.files)
        if checked is not None:
            return checked
        await self._wait_reload_interval()
        await asyncio.to_thread(self._disk.install, staging, rendered.files)
        outcome = await self._load(reason)
        if outcome.action != "rejected":
            self._current = rendered
        if self._current is not None:
            await asyncio.to_thread(self._disk.write, self._current.files)
        return outcome

    async def _wait_reload_interval(self) -> None:
        wait = self._last_reload + self._min_reload_interval - monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_reload = monotonic()

    async def _check(self, staging: Path, files: Mapping[str, str]) -> Outcome | None:
        await asyncio.to_thread(_fresh_folder, staging, files)
        result = await self._process.check(config=Path(naming.CONFIG_FILE), directory=staging)
        if result.ok:
            return None
        self._metrics.check_failures.inc()
        detail = f"haproxy -c refused the new configuration: {result.output.strip()}"
        return self._failed("check", detail, retry=False)

    async def _load(self, reason: str) -> Outcome:
        started = monotonic()
        if not self._process.started:
            try:
                await self._process.start()
            except HAProxyError as error:
                self._record(False, reason, str(error), started)
                return self._failed("start", f"haproxy did not start: {error}")
            self._record(True, reason, "started", started)
            return Outcome("start")
        self._metrics.reloads.labels(reason=reason).inc()
        result = await self._process.reload()
        self._record(result.ok, reason, result.detail, started)
        if not result.ok:
            self._metrics.reload_failures.labels(reason=reason).inc()
            return self._failed("reload", f"reload failed ({reason}): {result.detail}")
        return Outcome("reload", reason)

    def _record(self, ok: bool, reason: str, detail: str, started: float) -> None:
        duration_ms = (monotonic() - started) * 1000
        self._status.last_reload = ReloadRecord(
            at=now(), ok=ok, reason=reason, detail=detail, duration_ms=round(duration_ms, 1)
        )
        if ok:
            self._status.ready = True
            log.info("haproxy %s (%s) in %.0f ms", detail, reason, duration_ms)


def _fresh_folder(folder: Path, files: Mapping[str, str]) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    write_files(folder, files)
