"""Observing the data plane: HAProxy's runtime counters joined with the routing model.

Builds the `Overview` the status page and /status show, and the `haproxy_*` metric families
/metrics adds to ours. HAProxy is asked (`show stat` on the admin socket) once per request
of a page, /status or /metrics; when it cannot answer, the routing alone is shown and the
reason is kept in `Overview.runtime_error`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from pydantic import TypeAdapter

from ingress_ctl.haproxy.stats import Kind, ServerState, StatRow, read_stats
from ingress_ctl.model.overview import (
    BackendView,
    CertificateView,
    HostView,
    Overview,
    RouteView,
    ServerView,
    Traffic,
)
from ingress_ctl.model.routing import Backend, Routing
from ingress_ctl.model.state import ControllerStatus, StatusReport, now

log = logging.getLogger(__name__)

_HOSTS = TypeAdapter(tuple[HostView, ...])
_BACKENDS = TypeAdapter(tuple[BackendView, ...])
_CERTIFICATES = TypeAdapter(tuple[CertificateView, ...])

Labeller = Callable[[StatRow], tuple[str, ...]]
"""A row -> the label values of its series."""


class Observer:
    """Reads HAProxy's counters for the status server; one per controller."""

    def __init__(
        self, *, status: ControllerStatus, admin_socket: Path | None, per_server: bool = False
    ) -> None:
        self._status = status
        self._admin_socket = admin_socket
        self._per_server = per_server
        self._hosts: tuple[Routing | None, tuple[HostView, ...]] = (None, ())

    async def stats(
        self, proxies: Container[str] | None = None
    ) -> tuple[tuple[StatRow, ...] | None, str | None]:
        """HAProxy's `show stat` rows (of `proxies` only, if given), or None and why not."""
        if self._admin_socket is None or not self._status.ready:
            return None, "HAProxy is not serving yet"
        try:
            return await read_stats(self._admin_socket, proxies=proxies), None
        except (OSError, TimeoutError, ValueError) as error:
            log.debug("show stat failed: %s", error)
            return None, f"HAProxy's admin socket did not answer: {error}"

    def hosts(self) -> tuple[HostView, ...]:
        """Every routed host, made once per routing model (the page filters them)."""
        routing = self._status.routing
        if routing is None:
            return ()
        if self._hosts[0] is not routing:
            self._hosts = (routing, host_views(routing))
        return self._hosts[1]

    async def overview(
        self, report: StatusReport, *, backends: Container[str] | None = None
    ) -> Overview:
        """The data plane now: routing, runtime state, certificates; with `backends`, only
        those backends (a page of hosts needs a few of ten thousand)."""
        sections = self._status.sections
        proxies = None if backends is None else _Served(backends, sections)
        rows, error = await self.stats(proxies)
        routing, hosts = self._status.routing, await asyncio.to_thread(self.hosts)
        return await asyncio.to_thread(  # 10,000 Ingresses take a while: not in the loop
            functools.partial(
                build_overview,
                report,
                routing,
                rows,
                at=now(),
                runtime_error=error,
                hosts=hosts,
                backends=backends,
                sections=sections,
            )
        )

    async def exposition(self) -> bytes:
        """HAProxy's per-frontend and per-backend figures in Prometheus' text format."""
        rows, _ = await self.stats()
        status = self._status
        return await asyncio.to_thread(
            functools.partial(
                _exposition,
                rows or (),
                status.routing,
                per_server=self._per_server,
                sections=status.sections,
            )
        )


class _Served:
    """The HAProxy sections that serve some backends (a backend's own, or its spare's)."""

    def __init__(self, backends: Container[str], sections: Mapping[str, str]) -> None:
        self._backends = backends
        self._occupants = {section: backend for backend, section in sections.items()}

    def __contains__(self, proxy: object) -> bool:
        return isinstance(proxy, str) and self._occupants.get(proxy, proxy) in self._backends


def _exposition(
    rows: tuple[StatRow, ...],
    routing: Routing | None,
    *,
    per_server: bool,
    sections: Mapping[str, str],
) -> bytes:
    registry = CollectorRegistry()
    families = haproxy_metrics(rows, routing, per_server=per_server, sections=sections)
    registry.register(_Families(families))
    return bytes(generate_latest(registry))


class _Families:
    """A collector of metric families made once (one scrape)."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> list[Metric]:
        return self._families


def dataplane(overview: Overview) -> dict[str, Any]:
    """The `dataplane` part of /status: hosts and their routes, backends with their servers'
    runtime states, certificates with their expiry."""
    return {
        "hosts": _HOSTS.dump_python(overview.hosts, mode="json"),
        "backends": _BACKENDS.dump_python(overview.backends, mode="json"),
        "certificates": _CERTIFICATES.dump_python(overview.certificates, mode="json"),
        "runtime_error": overview.runtime_error,
    }


def build_overview(
    report: StatusReport,
    routing: Routing | None,
    rows: tuple[StatRow, ...] | None,
    *,
    at: datetime,
    runtime_error: str | None = None,
    hosts: tuple[HostView, ...] | None = None,
    backends: Container[str] | None = None,
    sections: Mapping[str, str] | None = None,
) -> Overview:
    """Join the report, the routing model and `show stat` rows (None: no runtime data).

    `hosts` are the routing's host views if already made; `backends` limits the backends
    shown to those named; `sections` names the HAProxy section of the backends that are not
    served under their own name (Services on spare backends)."""
    ignored = tuple(ingress for ingress in report.ingresses if ingress.state == "ignored")
    if routing is None:
        return Overview(problems=report.problems, ignored=ignored, runtime_error=runtime_error)
    chosen = [
        backend for backend in routing.backends if backends is None or backend.name in backends
    ]
    return Overview(
        hosts=host_views(routing) if hosts is None else hosts,
        backends=_backends(chosen, rows, sections or {}),
        certificates=_certificates(routing, at),
        problems=report.problems,
        ignored=ignored,
        runtime_error=runtime_error,
    )


def host_views(routing: Routing) -> tuple[HostView, ...]:
    """Every host of the routing model with its routes and certificate file."""
    certificates = {name.name: name.certificate for name in routing.tls_names}
    default = routing.default_certificate.file if routing.default_certificate else None
    return tuple(
        HostView(
            host=host.host,
            routes=tuple(
                RouteView(
                    path=route.path,
                    path_type=str(route.path_type),
                    backend=route.backend,
                    source=str(route.source),
                    rule=route.rule,
                )
                for route in host.routes
            ),
            namespaces=tuple(sorted({route.source.namespace for route in host.routes})),
            certificate=(certificates[host.host] or default) if host.host in certificates else None,
        )
        for host in routing.hosts
    )


def _backends(
    chosen: list[Backend], rows: tuple[StatRow, ...] | None, sections: Mapping[str, str]
) -> tuple[BackendView, ...]:
    if rows is None:
        return tuple(
            _known(backend, sections.get(backend.name, backend.name)) for backend in chosen
        )
    servers: dict[str, list[StatRow]] = defaultdict(list)
    totals: dict[str, StatRow] = {}
    for row in rows:
        if row.kind is Kind.SERVER and not row.empty_slot:
            servers[row.proxy].append(row)
        elif row.kind is Kind.BACKEND:
            totals[row.proxy] = row
    views = []
    for backend in chosen:
        section = sections.get(backend.name, backend.name)
        views.append(_observed(backend, section, servers.get(section, []), totals.get(section)))
    return tuple(views)


def _known(backend: Backend, section: str) -> BackendView:
    """A backend as the routing model knows it, without HAProxy's view."""
    return BackendView(
        name=backend.name,
        section=section,
        service=str(backend.service) if backend.service else "",
        ready=len(backend.servers),
        total=len(backend.servers),
        servers=tuple(
            ServerView(
                name=f"s{index}",
                address=f"{server.address}:{server.port}",
                state="UNKNOWN",
                traffic=Traffic(),
            )
            for index, server in enumerate(backend.servers, start=1)
        ),
    )


def _observed(
    backend: Backend, section: str, servers: list[StatRow], total: StatRow | None
) -> BackendView:
    views = tuple(
        ServerView(name=row.name, address=row.address, state=row.state, traffic=_traffic(row))
        for row in servers
    )
    return BackendView(
        name=backend.name,
        section=section,
        service=str(backend.service) if backend.service else "",
        state=total.status if total is not None else "UNKNOWN",
        ready=sum(1 for view in views if view.state == ServerState.UP),
        total=len(views),
        servers=views,
        traffic=_traffic(total) if total is not None else Traffic(),
    )


def _traffic(row: StatRow) -> Traffic:
    counters = row.counters
    return Traffic(
        sessions=counters["scur"],
        max_sessions=counters["smax"],
        requests=counters["req_tot"],
        responses_2xx=counters["hrsp_2xx"],
        responses_4xx=counters["hrsp_4xx"],
        responses_5xx=counters["hrsp_5xx"],
        queue=counters["qcur"],
    )


def _certificates(routing: Routing, at: datetime) -> tuple[CertificateView, ...]:
    names: dict[str, list[str]] = defaultdict(list)
    for name in routing.tls_names:
        if name.certificate is not None:
            names[name.certificate].append(name.name)
    default = routing.default_certificate.file if routing.default_certificate else None
    return tuple(
        CertificateView(
            file=certificate.file,
            subject=certificate.subject,
            not_after=certificate.not_after,
            days_left=(certificate.not_after - at).days,
            names=tuple(names[certificate.file])
            + (("(default certificate)",) if certificate.file == default else ()),
        )
        for certificate in routing.certificates
    )


_FRONTEND_FIGURES = (
    ("current_sessions", "scur", "Current number of active sessions.", False),
    ("max_sessions", "smax", "Maximum observed number of active sessions.", False),
    ("sessions_total", "stot", "Total number of sessions.", True),
    ("bytes_in_total", "bin", "Current total of incoming bytes.", True),
    ("bytes_out_total", "bout", "Current total of outgoing bytes.", True),
    ("request_errors_total", "ereq", "Total number of request errors.", True),
    ("http_requests_total", "req_tot", "Total number of HTTP requests received.", True),
)
_BACKEND_FIGURES = (
    ("current_queue", "qcur", "Current number of queued requests.", False),
    ("current_sessions", "scur", "Current number of active sessions.", False),
    ("max_sessions", "smax", "Maximum observed number of active sessions.", False),
    ("sessions_total", "stot", "Total number of sessions.", True),
    ("bytes_in_total", "bin", "Current total of incoming bytes.", True),
    ("bytes_out_total", "bout", "Current total of outgoing bytes.", True),
    ("connection_errors_total", "econ", "Total number of connection errors.", True),
    ("response_errors_total", "eresp", "Total number of response errors.", True),
    ("active_servers", "act", "Current number of active servers.", False),
    ("backup_servers", "bck", "Current number of backup servers.", False),
    ("http_requests_total", "req_tot", "Total number of HTTP requests received.", True),
)
_SERVER_FIGURES = (
    ("current_queue", "qcur", "Current number of queued requests.", False),
    ("current_sessions", "scur", "Current number of active sessions.", False),
    ("sessions_total", "stot", "Total number of sessions.", True),
    ("bytes_in_total", "bin", "Current total of incoming bytes.", True),
    ("bytes_out_total", "bout", "Current total of outgoing bytes.", True),
    ("connection_errors_total", "econ", "Total number of connection errors.", True),
    ("response_errors_total", "eresp", "Total number of response errors.", True),
    ("http_requests_total", "req_tot", "Total number of HTTP requests received.", True),
)
_CODES = ("1xx", "2xx", "3xx", "4xx", "5xx", "other")
_SERVICE_LABELS = ("proxy", "namespace", "service", "port")


def haproxy_metrics(
    rows: Iterable[StatRow],
    routing: Routing | None,
    *,
    per_server: bool = False,
    sections: Mapping[str, str] | None = None,
) -> list[Metric]:
    """`haproxy_frontend_*` and `haproxy_backend_*` families, named as HAProxy's Prometheus
    exporter names them, labelled with the Service a backend reaches (also when it is served
    by a spare backend: `sections`, backend -> section); per backend, with
    `ingress_ctl_backend_servers` counting servers by state. `haproxy_server_*` (one series
    per server and address) only when `per_server` asks."""
    sections = sections or {}
    services = {
        sections.get(backend.name, backend.name): (
            backend.service.namespace,
            backend.service.name,
            str(backend.service.port),
        )
        for backend in (routing.backends if routing else ())
        if backend.service is not None
    }
    frontends = [row for row in rows if row.kind is Kind.FRONTEND]
    backends = [row for row in rows if row.kind is Kind.BACKEND]
    servers = [row for row in rows if row.kind is Kind.SERVER and not row.empty_slot]
    families = list(_figures("frontend", frontends, _FRONTEND_FIGURES, lambda row: (row.proxy,)))

    def labels(row: StatRow) -> tuple[str, ...]:
        return (row.proxy, *services.get(row.proxy, ("", "", "")))

    families += _figures("backend", backends, _BACKEND_FIGURES, labels)
    response_time = GaugeMetricFamily(
        "haproxy_backend_response_time_average_seconds",
        "Avg. response time for last 1024 successful connections.",
        labels=_SERVICE_LABELS,
    )
    status = GaugeMetricFamily(
        "haproxy_backend_status",
        "Current status of the service.",
        labels=(*_SERVICE_LABELS, "state"),
    )
    for row in backends:
        response_time.add_metric(labels(row), row.counters["rtime"] / 1000)
        status.add_metric((*labels(row), "UP"), float(row.status.startswith("UP")))
    families += [response_time, status, _server_counts(servers, labels)]
    if per_server:
        families += _server_families(servers, labels)
    return families


def _figures(
    kind: str,
    rows: list[StatRow],
    figures: tuple[tuple[str, str, str, bool], ...],
    labels: Labeller,
) -> Iterator[Metric]:
    names = {
        "frontend": ("proxy",),
        "backend": _SERVICE_LABELS,
        "server": (*_SERVICE_LABELS, "server", "address"),
    }[kind]
    for suffix, column, text, counter in figures:
        maker = CounterMetricFamily if counter else GaugeMetricFamily
        family = maker(f"haproxy_{kind}_{suffix}", text, labels=names)
        for row in rows:
            family.add_metric(labels(row), row.counters[column])
        yield family
    responses = CounterMetricFamily(
        f"haproxy_{kind}_http_responses_total",
        "Total number of HTTP responses.",
        labels=(*names, "code"),
    )
    for row in rows:
        for code in _CODES:
            responses.add_metric((*labels(row), code), row.counters[f"hrsp_{code}"])
    yield responses


def _server_counts(servers: list[StatRow], labels: Labeller) -> Metric:
    family = GaugeMetricFamily(
        "ingress_ctl_backend_servers",
        "Servers of each backend by runtime state (UP, DOWN, MAINT, DRAIN); spare slots excluded.",
        labels=(*_SERVICE_LABELS, "state"),
    )
    counts: dict[tuple[str, ...], int] = defaultdict(int)
    for row in servers:
        counts[(*labels(row), row.state)] += 1
    for key, count in sorted(counts.items()):
        family.add_metric(key, count)
    return family


def _server_families(servers: list[StatRow], labels: Labeller) -> Iterator[Metric]:
    """`haproxy_server_*`: one series per server slot and the address it holds now."""

    def server_labels(row: StatRow) -> tuple[str, ...]:
        return (*labels(row), row.name, row.address)

    yield from _figures("server", servers, _SERVER_FIGURES, server_labels)
    status = GaugeMetricFamily(
        "haproxy_server_status",
        "Current status of the server (UP, DOWN, MAINT, DRAIN).",
        labels=(*_SERVICE_LABELS, "server", "address", "state"),
    )
    for row in servers:
        for state in ServerState:
            status.add_metric((*server_labels(row), state), float(row.state is state))
    yield status
