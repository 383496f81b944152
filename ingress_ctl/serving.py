"""The status server: /healthz, /readyz, /status and /metrics over HTTP (aiohttp)."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ingress_ctl.metrics import Metrics
from ingress_ctl.status import ControllerStatus

Liveness = Callable[[], str | None]
"""Returns None while everything is alive, else what is not."""


def make_app(*, status: ControllerStatus, metrics: Metrics, liveness: Liveness) -> web.Application:
    """The aiohttp application serving the four endpoints."""

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
        body = status.report().model_dump_json(indent=2)
        return web.Response(text=body + "\n", content_type="application/json")

    async def metrics_text(_: web.Request) -> web.Response:
        body = generate_latest(metrics.registry)
        response = web.Response(body=body)
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/status", status_json)
    app.router.add_get("/metrics", metrics_text)
    return app


async def start_server(app: web.Application, *, host: str, port: int) -> web.AppRunner:
    """Serve app on host:port; the caller cleans the runner up.

    SO_REUSEPORT, like HAProxy's own listeners: two replicas on one host network (as the
    single-node e2e cluster runs them) share the port instead of the second failing.
    """
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port, reuse_port=True).start()
    return runner
