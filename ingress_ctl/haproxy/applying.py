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
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Mapping, Sequence
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
    """Write files under directory, each atomically (temporary file, then rename)."""
    for relative, content in files.items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # private keys are never readable by others, not even briefly
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(content)
        os.replace(temporary, target)


def remove_stale(directory: Path, files: Mapping[str, str], previous: Mapping[str, str]) -> None:
    """Remove the files of `previous` that `files` does not have."""
    for relative in previous.keys() - files.keys():
        (directory / relative).unlink(missing_ok=True)


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

    @property
    def current(self) -> Rendered | None:
        """What HAProxy runs now (None before the first start)."""
        return self._current

    async def apply(self, rendered: Rendered) -> Outcome:
        """Make HAProxy serve `rendered`: runtime commands when they suffice, else a reload."""
        steps = plan(self._current, rendered)
        if steps.reload is None:
            if self._current is not None and self._current.files == rendered.files:
                return Outcome("none")
            if await self._runtime(steps.commands):
                await asyncio.to_thread(
                    write_files, self._state_dir, _changed(rendered, self._current)
                )
                await self._remove_stale(rendered, self._current)
                self._current = rendered
                return Outcome("runtime", f"{len(steps.commands)} commands")
        return await self._reload(rendered, reason=steps.reload or "runtime-failed")

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
        names = [backend.name for backend in backends]
        commands = tuple(server_commands(current.layout, layout, backends=names))
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
        checked = await self._check(rendered.files)
        if checked is not None:
            return checked
        await self._wait_reload_interval()
        await asyncio.to_thread(write_files, self._state_dir, rendered.files)
        outcome = await self._load(reason)
        if outcome.action == "rejected" and self._current is not None:
            await asyncio.to_thread(write_files, self._state_dir, self._current.files)
            await self._remove_stale(self._current, rendered)
        elif outcome.action != "rejected":
            await self._remove_stale(rendered, self._current)
            self._current = rendered
        return outcome

    async def _remove_stale(self, kept: Rendered, gone: Rendered | None) -> None:
        if gone is not None:
            await asyncio.to_thread(remove_stale, self._state_dir, kept.files, gone.files)

    async def _wait_reload_interval(self) -> None:
        wait = self._last_reload + self._min_reload_interval - monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_reload = monotonic()

    async def _check(self, files: Mapping[str, str]) -> Outcome | None:
        staging = self._state_dir / STAGING
        await asyncio.to_thread(_fresh_folder, staging, files)
        result = await self._process.check(config=Path(naming.CONFIG_FILE), directory=staging)
        if result.ok:
            return None
        self._metrics.check_failures.inc()
        detail = f"haproxy -c refused the new configuration: {result.output.strip()}"
        log.error("%s", detail)
        self._status.last_error = detail
        return Outcome("rejected", detail)

    async def _load(self, reason: str) -> Outcome:
        started = monotonic()
        if not self._process.started:
            try:
                await self._process.start()
            except HAProxyError as error:
                self._record(False, reason, str(error), started)
                self._status.last_error = f"haproxy did not start: {error}"
                return Outcome("rejected", str(error), retry=True)
            self._record(True, reason, "started", started)
            return Outcome("start")
        self._metrics.reloads.labels(reason=reason).inc()
        result = await self._process.reload()
        self._record(result.ok, reason, result.detail, started)
        if not result.ok:
            self._metrics.reload_failures.labels(reason=reason).inc()
            self._status.last_error = f"reload failed: {result.detail}"
            log.error("reload failed (%s): %s", reason, result.detail)
            return Outcome("rejected", result.detail, retry=True)
        return Outcome("reload", reason)

    def _record(self, ok: bool, reason: str, detail: str, started: float) -> None:
        duration_ms = (monotonic() - started) * 1000
        self._status.last_reload = ReloadRecord(
            at=now(), ok=ok, reason=reason, detail=detail, duration_ms=round(duration_ms, 1)
        )
        if ok:
            self._status.ready = True
            log.info("haproxy %s (%s) in %.0f ms", detail, reason, duration_ms)


def _changed(rendered: Rendered, current: Rendered | None) -> dict[str, str]:
    """The files of `rendered` whose content differs from `current`'s (all, if none)."""
    before = current.files if current is not None else {}
    return {name: text for name, text in rendered.files.items() if before.get(name) != text}


def _fresh_folder(folder: Path, files: Mapping[str, str]) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    write_files(folder, files)
