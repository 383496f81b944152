"""The status server: the status page at /, /healthz, /readyz, /status and /metrics over HTTP
(aiohttp)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ingress_ctl.metrics import Metrics
from ingress_ctl.model.state import ControllerStatus, now
from ingress_ctl.observing import Observer, dataplane
from ingress_ctl.page import CONTENT_SECURITY_POLICY, render_page, select_hosts, shown_backends

Liveness = Callable[[], str | None]
"""Returns None while everything is alive, else what is not."""


def make_app(
    *,
    status: ControllerStatus,
    metrics: Metrics,
    liveness: Liveness,
    observer: Observer | None = None,
) -> web.Application:
    """The aiohttp application serving the endpoints; `observer` adds HAProxy's runtime view."""
    observer = observer or Observer(status=status, admin_socket=None)

    async def healthz(_: web.Request) -> web.Response:
        dead = liveness()
        if dead is None:
            return web.Response(text="ok\n")
        return web.Response(status=503, text=f"unhealthy: {dead}\n")

    async def readyz(_: web.Request) -> web.Response:
        if status.ready:
            return web.Response(text="ready\n")
        return web.Response(status=503, text="not ready: no configuration serves yet\n")

    async def status_json(_: web.Request) -> web.Response:
        report = status.report()
        document = report.model_dump(mode="json")
        document["dataplane"] = await asyncio.to_thread(dataplane, await observer.overview(report))
        document["leader"] = status.leader() if status.leader is not None else None
        body = json.dumps(document, indent=2)
        return web.Response(text=body + "\n", content_type="application/json")

    async def page(request: web.Request) -> web.Response:
        report = status.report()
        number, query = request.query.get("page", "1"), request.query.get("q", "")[:200]
        shown = select_hosts(
            observer.hosts(), query=query, page=int(number) if number.isdigit() else 1
        )
        overview = await observer.overview(report, backends=shown_backends(shown))
        extra = report.model_dump(mode="json")
        if status.leader is not None:
            extra["role"] = "leader" if status.leader() else "follower"
        html = render_page(report, overview, shown, query=query, at=now(), extra=extra)
        response = web.Response(text=html, content_type="text/html")
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    async def metrics_text(_: web.Request) -> web.Response:
        body = generate_latest(metrics.registry) + await observer.exposition()
        response = web.Response(body=body)
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/status", status_json)
    app.router.add_get("/metrics", metrics_text)
    return app


async def start_server(app: web.Application, *, host: str, port: int) -> web.AppRunner:
    """Serve app on host:port; the caller cleans the runner up."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
