"""What the status page and /status show of the data plane, as values.

Routing joined with HAProxy's runtime counters: every host with its paths, each path's
backend with its servers and their runtime state, the certificates and how long they last.
`observing` builds it; the page and /status only read it.

Plain frozen dataclasses, not validated models: they are made by the ten thousand on every
request, from values the routing model and `show stat` parsing already checked (pydantic
still serializes them for /status).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ingress_ctl.model.problems import Problem
from ingress_ctl.model.verdicts import IngressReport

EXPIRY_WARNING_DAYS = 14
"""Certificates with fewer days left than this are marked on the page."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Traffic:
    """HAProxy's counters for one frontend, backend or server."""

    sessions: int = 0
    """Current sessions."""
    max_sessions: int = 0
    requests: int = 0
    """HTTP requests since HAProxy started (0 for TCP backends)."""
    responses_2xx: int = 0
    responses_4xx: int = 0
    responses_5xx: int = 0
    queue: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerView:
    """One server of a backend: its address and runtime state (UP, DOWN, MAINT, DRAIN)."""

    name: str
    address: str
    state: str
    traffic: Traffic


@dataclass(frozen=True, slots=True, kw_only=True)
class BackendView:
    """One backend: the Service it reaches, its servers, and how many of them are ready."""

    name: str
    section: str = ""
    """The HAProxy section serving it: its name, or the spare (`sp_...`) the Service took."""
    service: str = ""
    """`namespace/name:port` of the Service, or "" for built-in backends."""
    state: str = "UNKNOWN"
    """HAProxy's state of the backend (UP when a server is), UNKNOWN without runtime data."""
    ready: int = 0
    """Servers UP (runtime) or, without runtime data, endpoints known to be ready."""
    total: int = 0
    servers: tuple[ServerView, ...] = ()
    traffic: Traffic = field(default_factory=Traffic)


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteView:
    """One path of one host and the backend it reaches."""

    path: str
    path_type: str
    backend: str
    source: str
    """`Ingress namespace/name` that made the route."""
    rule: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateView:
    """A certificate HAProxy serves: subject, expiry and the SNI names it serves."""

    file: str
    subject: str
    not_after: datetime
    days_left: int
    names: tuple[str, ...] = ()

    @property
    def expiring(self) -> bool:
        """Fewer than EXPIRY_WARNING_DAYS days left."""
        return self.days_left < EXPIRY_WARNING_DAYS


@dataclass(frozen=True, slots=True, kw_only=True)
class HostView:
    """One host key with its routes and the certificate its TLS name uses."""

    host: str
    routes: tuple[RouteView, ...]
    namespaces: tuple[str, ...]
    """Namespaces of the Ingresses routing this host (what the filter box matches)."""
    certificate: str | None = None
    """The file of its certificate (see Overview.certificates), if it is a TLS name."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Overview:
    """The whole data plane as people read it."""

    hosts: tuple[HostView, ...] = ()
    backends: tuple[BackendView, ...] = ()
    certificates: tuple[CertificateView, ...] = ()
    problems: tuple[Problem, ...] = ()
    ignored: tuple[IngressReport, ...] = ()
    runtime_error: str | None = None
    """Why HAProxy's runtime counters are missing, when they are."""

    def backend(self, name: str) -> BackendView | None:
        """The backend with this name, if any."""
        return next((backend for backend in self.backends if backend.name == name), None)
