"""Applying rendered files to the running HAProxy.

New files are written to a staging folder, checked there with `haproxy -c`,
moved into place one atomic rename at a time, and loaded by a master-worker
reload (or the first start). A configuration that fails the check is never
installed: the last good one keeps serving and the error is reported. If a
reload does not take, the last good files are put back on disk, so that a
restarted HAProxy serves them too.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from time import monotonic

from ingress_ctl import naming
from ingress_ctl.haproxy.process import HAProxyError, HAProxyProcess
from ingress_ctl.metrics import Metrics
from ingress_ctl.status import ControllerStatus, ReloadRecord, now

log = logging.getLogger(__name__)

STAGING = "staging"


@dataclass(frozen=True)
class Outcome:
    """What one apply did: `none`, `start`, `reload` or `rejected`, and why."""

    action: str
    detail: str = ""


def write_files(directory: Path, files: Mapping[str, str]) -> None:
    """Write files under directory, each atomically (temporary file, then rename)."""
    for relative, content in files.items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_text(content, encoding="utf-8")
        os.chmod(temporary, 0o600)
        os.replace(temporary, target)


class Applier:
    """Owns the files in the state directory and the reloads of HAProxy."""

    def __init__(
        self,
        *,
        process: HAProxyProcess,
        state_dir: Path,
        status: ControllerStatus,
        metrics: Metrics,
    ) -> None:
        self._process = process
        self._state_dir = state_dir
        self._status = status
        self._metrics = metrics
        self._current: dict[str, str] | None = None

    async def apply(self, files: Mapping[str, str], *, reason: str) -> Outcome:
        """Make HAProxy serve these files, unless they are what it serves already."""
        if self._current == files:
            return Outcome("none")
        checked = await self._check(files)
        if checked is not None:
            return checked
        await asyncio.to_thread(write_files, self._state_dir, files)
        outcome = await self._load(reason)
        if outcome.action == "rejected" and self._current is not None:
            await asyncio.to_thread(write_files, self._state_dir, self._current)
        elif outcome.action != "rejected":
            self._current = dict(files)
        return outcome

    async def _check(self, files: Mapping[str, str]) -> Outcome | None:
        staging = self._state_dir / STAGING
        await asyncio.to_thread(_fresh_folder, staging, files)
        result = await self._process.check(config=staging / naming.CONFIG_FILE, directory=staging)
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
                return Outcome("rejected", str(error))
            self._record(True, reason, "started", started)
            return Outcome("start")
        self._metrics.reloads.labels(reason=reason).inc()
        result = await self._process.reload()
        self._record(result.ok, reason, result.detail, started)
        if not result.ok:
            self._metrics.reload_failures.labels(reason=reason).inc()
            self._status.last_error = f"reload failed: {result.detail}"
            log.error("reload failed (%s): %s", reason, result.detail)
            return Outcome("rejected", result.detail)
        return Outcome("reload")

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
