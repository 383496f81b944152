"""Composition root of `ingress-ctl run`: builds the parts and runs their tasks.

The only module that wires I/O together: a source fills the store, the
syncing loop turns store changes into HAProxy files and reloads, the HAProxy
supervisor keeps the process alive, and the status server reports. SIGTERM
or SIGINT stops everything, HAProxy last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine
from typing import Any

from ingress_ctl.applying import Applier
from ingress_ctl.haproxy.process import HAProxyProcess
from ingress_ctl.logs import configure_logging
from ingress_ctl.metrics import Metrics
from ingress_ctl.serving import make_app, start_server
from ingress_ctl.settings import Settings
from ingress_ctl.sources.files import watch_manifests
from ingress_ctl.status import ControllerStatus
from ingress_ctl.store import Store
from ingress_ctl.syncing import Syncer

log = logging.getLogger(__name__)


async def _files_source(settings: Settings, store: Store) -> None:
    assert settings.manifests is not None
    async for loaded in watch_manifests([settings.manifests]):
        if store.replace_all(loaded.objects, loaded.problems):
            log.info("manifests changed: %d objects", len(loaded.objects))


async def run(settings: Settings) -> int:
    """Run the controller until SIGTERM or SIGINT; the exit code."""
    configure_logging(fmt=settings.log_format, level=settings.log_level)
    if settings.manifests is None:
        log.error("--manifests is required (Kubernetes mode comes with --kubeconfig)")
        return 2
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    store, metrics = Store(), Metrics()
    status = ControllerStatus(mode="files")
    process = HAProxyProcess(binary=settings.haproxy_bin, state_dir=settings.state_dir)
    applier = Applier(process=process, state_dir=settings.state_dir, status=status, metrics=metrics)
    syncer = Syncer(store=store, settings=settings, applier=applier, status=status, metrics=metrics)
    tasks: list[asyncio.Task[Any]] = []

    def liveness() -> str | None:
        dead = [task.get_name() for task in tasks if task.done()]
        if dead:
            return f"tasks stopped: {', '.join(dead)}"
        if status.ready and not process.alive:
            return "haproxy is not running"
        return None

    web = make_app(status=status, metrics=metrics, liveness=liveness)
    runner = await start_server(web, host=str(settings.bind_address), port=settings.status_port)
    jobs: dict[str, Coroutine[Any, Any, None]] = {
        "source": _files_source(settings, store),
        "syncing": syncer.run(),
        "haproxy": process.supervise(),
    }
    tasks.extend(asyncio.create_task(job, name=name) for name, job in jobs.items())
    log.info("ingress-ctl serving %s; status on port %d", settings.manifests, settings.status_port)
    await _until_signal(tasks)
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    await runner.cleanup()
    await process.stop()
    log.info("stopped")
    return 0


async def _until_signal(tasks: list[asyncio.Task[Any]]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    waiter = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    for task in done:
        if task is not waiter and task.exception() is not None:
            log.error("task %s failed", task.get_name(), exc_info=task.exception())
    waiter.cancel()
