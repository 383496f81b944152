"""The routing model: what HAProxy must do, as immutable values.

Translation produces it, rendering and planning consume it, and equality of
two models is the change detector. Every string in here has already been
validated (hosts, paths, names); the values say *what* to route, never *how*
HAProxy spells it.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Value(BaseModel):
    """Base of every model value: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class PathType(StrEnum):
    """How a rule's path is compared with the request path."""

    EXACT = "Exact"
    PREFIX = "Prefix"


class ObjectRef(Value):
    """Names a Kubernetes object in problems and reports."""

    kind: str
    namespace: str = ""
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"


class ServiceRef(Value):
    """A Service port as an Ingress backend names it (port by number or by name)."""

    namespace: str
    name: str
    port: int | str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}:{self.port}"


class Server(Value):
    """One endpoint of a backend: an IP address (or DNS name) and a port."""

    address: str
    port: int
    weight: int = 1


class Backend(Value):
    """A HAProxy backend: the servers behind one Service port, or a built-in answer."""

    name: str
    service: ServiceRef | None = None
    servers: tuple[Server, ...] = ()
    resolve: bool = False
    """Servers are DNS names (ExternalName Services) resolved by HAProxy."""
    status: int | None = None
    """Built-in backends answer this status themselves (404 page)."""


class Route(Value):
    """One path of one host, and the backend it reaches."""

    host: str
    """Exact host, `*.`-wildcard host, or "" for rules that match every host."""
    path: str
    path_type: PathType
    backend: str
    source: ObjectRef
    rule: str
    """Where in the source the route comes from, e.g. `spec.rules[0].http.paths[1]`."""


class VirtualHost(Value):
    """Everything routed for one host key; the most specific host key owns a request."""

    host: str
    routes: tuple[Route, ...]
    default_backend: str | None = None
    """The owning Ingress's defaultBackend: serves requests no path matches."""
    default_source: ObjectRef | None = None


class Routing(Value):
    """The whole HTTP routing table plus the backends it names."""

    hosts: tuple[VirtualHost, ...] = ()
    default_backend: str
    default_source: str
    """Why this default: `Ingress ns/name`, `--default-backend-service`, or `built-in 404`."""
    backends: tuple[Backend, ...] = ()

    def backend(self, name: str) -> Backend:
        """The backend with this name (every name a route uses is present)."""
        return next(backend for backend in self.backends if backend.name == name)
