"""Composition root of `ingress-ctl run`: builds the parts and runs their tasks.

The only module that wires I/O together: a source fills the store (manifest
files, or Kubernetes informers), the syncing loop turns store changes into
HAProxy files and reloads, the HAProxy supervisor keeps the process alive, and
the status server reports. In Kubernetes mode the first sync waits until every
informer has listed, and the elected leader reports status and Events back.
SIGTERM or SIGINT stops everything, HAProxy last. One controller holds a
state directory at a time (lock file). A job that ends by itself (a bug, or an
error nothing can serve through) stops the controller with exit status 1;
failures it can serve through (a full disk, a configuration HAProxy refuses, a
dead HAProxy worker) are reported and retried instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine, Sequence
from typing import Any

from kubernetes_asyncio.config import ConfigException

from ingress_ctl.fallback import load_or_create
from ingress_ctl.haproxy.applying import Applier
from ingress_ctl.haproxy.process import HAProxyError, HAProxyProcess
from ingress_ctl.kube.client import connect
from ingress_ctl.kube.events import EventRecorder
from ingress_ctl.kube.gateway_writing import GatewayStatusWriter
from ingress_ctl.kube.leading import Leadership
from ingress_ctl.kube.publishing import AddressSource, StatusPublisher
from ingress_ctl.kube.reporting import Reporter
from ingress_ctl.lockfile import StateDirectoryBusy, hold
from ingress_ctl.logs import configure_logging
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.state import ControllerStatus
from ingress_ctl.sources.files import watch_manifests
from ingress_ctl.sources.informers import SERVICES, Informer, informers
from ingress_ctl.state_dir import UnsafeStateDir, prepare_state_dir
from ingress_ctl.store import Store
from ingress_ctl.syncing import Syncer
from ingress_ctl.web.observing import Observer
from ingress_ctl.web.serving import start_listeners

log = logging.getLogger(__name__)

Jobs = dict[str, Coroutine[Any, Any, None]]

UNHEALTHY_AFTER_S = 10.0
"""/healthz fails once HAProxy could not be kept running this long: restart the pod."""


async def _files_source(settings: Settings, store: Store) -> None:
    assert settings.manifests is not None
    async for loaded in watch_manifests([settings.manifests]):
        if store.replace_all(loaded.objects, loaded.problems):
            log.info("manifests changed: %d objects", len(loaded.objects))


async def _sync_once_listed(watchers: Sequence[Informer], syncer: Syncer) -> None:
    """Start syncing once every informer has listed: never serve half a cluster."""
    await asyncio.gather(*(watcher.listed.wait() for watcher in watchers))
    log.info("all %d informers listed; syncing", len(watchers))
    await syncer.run()


async def _kubernetes_jobs(
    settings: Settings,
    stack: contextlib.AsyncExitStack,
    *,
    store: Store,
    status: ControllerStatus,
    metrics: Metrics,
    syncer: Syncer,
) -> Jobs:
    """Informers, syncing, leader election and reporting; cleanups go on `stack`."""
    api = await stack.enter_async_context(await connect(kubeconfig=settings.kubeconfig))
    watchers = informers(
        api=api, store=store, metrics=metrics, namespaces=settings.watch_namespaces
    )
    publish_store = Store()
    if settings.publish_service is not None:
        namespace, _, name = settings.publish_service.partition("/")
        watchers.append(
            Informer(
                api=api,
                resource=SERVICES,
                store=publish_store,
                metrics=metrics,
                namespace=namespace,
                field_selector=f"metadata.name={name}",
            )
        )
    leadership = Leadership(
        api=api, namespace=settings.controller_namespace, name=settings.election_id, metrics=metrics
    )
    stack.push_async_callback(leadership.release)
    status.leader = lambda: leadership.is_leader
    gateway = GatewayStatusWriter(
        api=api,
        metrics=metrics,
        controller_name=settings.controller_name,
        is_leader=lambda: leadership.is_leader,
    )
    reporter = Reporter(
        store=store,
        status=status,
        leadership=leadership,
        addresses=AddressSource(
            addresses=settings.publish_addresses,
            service=settings.publish_service,
            store=publish_store,
        ),
        publisher=StatusPublisher(api=api, metrics=metrics),
        recorder=EventRecorder(api=api, metrics=metrics, instance=leadership.identity),
        gateway=gateway,
    )
    jobs: Jobs = {f"informer {watcher.name}": watcher.run() for watcher in watchers}
    jobs["syncing"] = _sync_once_listed(watchers, syncer)
    jobs["leading"] = leadership.run()
    jobs["reporting"] = reporter.run()
    jobs["gateway status"] = gateway.run()
    return jobs


async def run(settings: Settings) -> int:
    """Run the controller until SIGTERM or SIGINT; the exit code."""
    configure_logging(fmt=settings.log_format, level=settings.log_level)
    try:
        prepare_state_dir(settings.state_dir)
    except UnsafeStateDir as error:
        log.error("%s", error)
        return 2
    try:
        with hold(settings.state_dir):
            return await _run(settings)
    except StateDirectoryBusy as error:
        log.error("%s", error)
        return 1


async def _run(settings: Settings) -> int:
    store, metrics = Store(), Metrics()
    status = ControllerStatus(mode=settings.mode)
    process = HAProxyProcess(
        binary=settings.haproxy_bin,
        state_dir=settings.state_dir,
        metrics=metrics,
        forward_output=settings.log_format == "json",
    )
    status.haproxy = process.report
    metrics.haproxy_up.set_function(lambda: float(process.alive))
    try:
        status.haproxy_version = await process.version()
    except HAProxyError as error:
        log.error("%s", error)
        return 2
    log.info("haproxy %s", status.haproxy_version)
    applier = Applier(
        process=process,
        state_dir=settings.state_dir,
        status=status,
        metrics=metrics,
        min_reload_interval=settings.min_reload_interval,
    )
    syncer = Syncer(
        store=store,
        settings=settings,
        applier=applier,
        status=status,
        metrics=metrics,
        settle_s=settings.sync_settle,
        fallback_certificate=load_or_create(settings.state_dir),
    )
    async with contextlib.AsyncExitStack() as stack:
        if settings.manifests is not None:
            jobs: Jobs = {"source": _files_source(settings, store), "syncing": syncer.run()}
        else:
            try:
                jobs = await _kubernetes_jobs(
                    settings, stack, store=store, status=status, metrics=metrics, syncer=syncer
                )
            except ConfigException as error:
                log.error("no Kubernetes credentials (%s): use --kubeconfig or --manifests", error)
                return 2
        jobs["haproxy"] = process.supervise()
        ended = await _serve(settings, jobs, status=status, metrics=metrics, process=process)
    await process.stop()
    if ended:
        log.error("stopped because %s ended", ", ".join(ended))
        return 1
    log.info("stopped")
    return 0


async def _serve(
    settings: Settings,
    jobs: Jobs,
    *,
    status: ControllerStatus,
    metrics: Metrics,
    process: HAProxyProcess,
) -> list[str]:
    """Run the jobs and the status server until a signal; the jobs that ended before it."""
    tasks = [asyncio.create_task(job, name=name) for name, job in jobs.items()]

    def liveness() -> str | None:
        dead = [task.get_name() for task in tasks if task.done()]
        if dead:
            return f"tasks stopped: {', '.join(dead)}"
        if process.down_for() > UNHEALTHY_AFTER_S:
            report = process.report()
            return f"haproxy has not served for {report.down_s:.0f} s ({report.last_exit})"
        return None

    observer = Observer(
        status=status, admin_socket=process.admin_socket, per_server=settings.metrics_per_server
    )
    runners = await start_listeners(
        settings, status=status, metrics=metrics, liveness=liveness, observer=observer
    )
    log.info(
        "ingress-ctl running in %s mode; probes on port %d, /status and /metrics on %s",
        settings.mode,
        settings.status_port,
        runners[-1].addresses,
    )
    ended = await _until_signal(tasks)
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    for runner in runners:
        await runner.cleanup()
    return ended


async def _until_signal(tasks: list[asyncio.Task[Any]]) -> list[str]:
    """Wait for SIGTERM, SIGINT or the end of a task; the names of the tasks that ended."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    waiter = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    ended = [task for task in done if task is not waiter]
    for task in ended:
        if task.exception() is not None:
            log.error("task %s failed", task.get_name(), exc_info=task.exception())
        else:
            log.error("task %s ended", task.get_name())
    waiter.cancel()
    return [task.get_name() for task in ended]
