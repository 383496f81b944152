"""The status server: the status page at /, /healthz, /readyz, /status and /metrics over
HTTP (aiohttp).

Two listeners when --status-bind-address differs from --bind-address: the
probe listener (--bind-address, --status-port) answers only /healthz and
/readyz, which the kubelet needs from outside the pod; the page, /status and
/metrics (every host, namespace and problem) answer only on
--status-bind-address (--metrics-port), loopback by default. One listener with
all of them otherwise.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ingress_ctl.metrics import Metrics
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.state import ControllerStatus, now
from ingress_ctl.web.observing import Observer, dataplane
from ingress_ctl.web.page import CONTENT_SECURITY_POLICY, render_page, select_hosts, shown_backends

Liveness = Callable[[], str | None]
"""Returns None while everything is alive, else what is not."""


def make_app(
    *,
    status: ControllerStatus,
    metrics: Metrics,
    liveness: Liveness,
    observer: Observer | None = None,
    probes_only: bool = False,
) -> web.Application:
    """The aiohttp application serving the endpoints (the two probes if `probes_only`);
    `observer` adds HAProxy\x27s runtime view."""
    observer = observer or Observer(status=status, admin_socket=None)

    async def healthz(_: web.Request) -> web.Response:
        dead = liveness()
        if dead is None:
            return web.Response(text="ok\n")
        return web.Response(status=503, text=f"unhealthy: {dead}\n")

    async def readyz(_: web.Request) -> web.Response:
        ready, reason = status.readiness()
        return web.Response(status=200 if ready else 503, text=f"{reason}\n")

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
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if not probes_only:
        app.router.add_get("/", page)
        app.router.add_get("/status", status_json)
        app.router.add_get("/metrics", metrics_text)
    return app


async def start_listeners(
    settings: Settings,
    *,
    status: ControllerStatus,
    metrics: Metrics,
    liveness: Liveness,
    observer: Observer | None = None,
) -> list[web.AppRunner]:
    """The probe listener and, on its own address, the status listener (see above)."""
    probes, internal = str(settings.bind_address), str(settings.status_bind_address)
    full_app = make_app(status=status, metrics=metrics, liveness=liveness, observer=observer)
    if probes == internal:
        return [await start_server(full_app, host=probes, port=settings.status_port)]
    probe_app = make_app(status=status, metrics=metrics, liveness=liveness, probes_only=True)
    return [
        await start_server(probe_app, host=probes, port=settings.status_port),
        await start_server(full_app, host=internal, port=settings.metrics_port),
    ]


async def start_server(app: web.Application, *, host: str, port: int) -> web.AppRunner:
    """Serve app on host:port; the caller cleans the runner up.

    SO_REUSEPORT, like HAProxy's own listeners: two replicas on one host network (as the
    single-node e2e cluster runs them) share the port instead of the second failing.
    """
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port, reuse_port=True).start()
    return runner
