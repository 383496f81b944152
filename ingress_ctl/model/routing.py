"""The routing model: what HAProxy must do, as immutable values.

Translation produces it, rendering and planning consume it, and equality of
two models is the change detector. Every string in here has already been
validated (hosts, paths, names); the values say *what* to route, never *how*
HAProxy spells it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, InstanceOf

from ingress_ctl.model import deferred
from ingress_ctl.model.globals import GlobalConfig
from ingress_ctl.model.policies import Policy
from ingress_ctl.model.records import ByClass, fast_init

if TYPE_CHECKING:
    from ingress_ctl.model.gateways import GatewayPort, Split

    GatewayPorts: TypeAlias = tuple[GatewayPort, ...]
    Splits: TypeAlias = tuple[Split, ...]
else:  # checked without importing the Gateway API's model (see model/deferred.py)
    GatewayPorts = deferred.tuple_of("ingress_ctl.model.gateways", "GatewayPort")
    Splits = deferred.tuple_of("ingress_ctl.model.gateways", "Split")


class Value(BaseModel):
    """Base of the model's few, large values: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


RECORD = ConfigDict(extra="forbid")
"""The pydantic configuration of the frozen, slotted pydantic dataclasses of the Gateway API
status (model/conditions.py, model/gateways.py): a tenth of a model's memory."""

# Values made by the thousand by every translation (references, backends, routes, hosts;
# problems and reports, model/problems.py and model/verdicts.py) are records
# (model/records.py): frozen, slotted stdlib dataclasses, a tenth of a model's memory, built
# without a second validation. Translation makes them only from values it has already parsed
# and checked (hosts and paths by model/matching.py, object fields by model/objects.py, flags
# by model/settings.py), and mypy checks the type of every constructor call; pydantic still
# serialises them (/status) and checks their type where a pydantic model holds them (by class
# alone where the field says `ByClass`, see model/records.py).


class PathType(StrEnum):
    """How a rule's path is compared with the request path."""

    EXACT = "Exact"
    PREFIX = "Prefix"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectRef:
    """Names a Kubernetes object in problems and reports."""

    kind: str
    namespace: str = ""
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceRef:
    """A Service port as an Ingress backend names it (port by number or by name)."""

    namespace: str
    name: str
    port: int | str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}:{self.port}"


class Server(NamedTuple):
    """One endpoint of a backend: an IP address (or DNS name) and a port.

    A named tuple rather than a model: there are 100,000 of them in a large cluster,
    made from values that model/objects.py already checked (a tuple is a tenth of a model's
    memory and cost)."""

    address: str
    port: int
    weight: int = 1


class Mode(StrEnum):
    """What a backend or listener speaks: HTTP requests, or TCP streams (passthrough, TCP services)."""

    HTTP = "http"
    TCP = "tcp"


class ProxyProtocol(StrEnum):
    """The PROXY protocol version sent to a backend's servers."""

    V1 = "v1"
    V2 = "v2"


NO_POLICY = Policy()
"""What a backend no annotation reaches does (a frozen value: one default for all)."""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Backend:
    """A HAProxy backend: the servers behind one Service port, or a built-in answer."""

    name: str
    service: ServiceRef | None = None
    servers: tuple[InstanceOf[Server], ...] = ()
    """Made by translation from checked values; checked here only to be Servers."""
    resolve: bool = False
    """Servers are the checked addresses of an ExternalName Service (see `resolving`), not
    endpoints: endpoint changes leave them alone."""
    status: int | None = None
    """Built-in backends answer this status themselves (404 page, 308 redirect)."""
    redirect_to: str | None = None
    """A built-in redirect to this host (same scheme, path and query); see from-to-www."""
    mode: Mode = Mode.HTTP
    send_proxy: ProxyProtocol | None = None
    """Connections to every server start with a PROXY protocol header (a backend-wide setting)."""
    policy: Policy = NO_POLICY
    """What annotations ask of this backend; a backend of a Service per distinct policy."""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """One path of one host, and the backend it reaches."""

    host: str
    """Exact host, `*.`-wildcard host, or "" for rules that match every host."""
    path: str
    path_type: PathType
    backend: str
    source: ObjectRef
    rule: str
    """Where in the source the route comes from, e.g. `spec.rules[0].http.paths[1]`."""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class VirtualHost:
    """Everything routed for one host key; the most specific host key owns a request."""

    host: str
    routes: tuple[Route, ...]
    default_backend: str | None = None
    """The owning Ingress's defaultBackend: serves requests no path matches."""
    default_source: ObjectRef | None = None


class Certificate(Value):
    """A certificate chain and its private key, parsed and re-serialized as PEM."""

    file: str
    """Where HAProxy reads it: named by the hash of `pem` (naming.certificate_file)."""
    pem: str = Field(repr=False)
    """Serialized by `certificates` from parsed objects; kept out of repr (it holds a key)."""
    subject: str
    """For reports only: never rendered."""
    not_after: datetime


class TLSName(Value):
    """An SNI name (exact or `*.` wildcard) of a terminated host: its certificate and policy."""

    name: str
    certificate: str | None
    """The certificate file; None serves the default certificate."""
    redirect: bool
    """Plain-HTTP requests for this host are redirected to HTTPS (308)."""
    hsts: str | None
    """The Strict-Transport-Security value sent on HTTPS responses; None sends none."""
    source: ByClass[ObjectRef]


class PassthroughRoute(Value):
    """An SNI name whose TLS connections go, undecrypted, to a TCP backend."""

    name: str
    backend: str
    source: ByClass[ObjectRef]


class TCPService(Value):
    """A TCP listener of the tcp-services ConfigMap and the backend it forwards to."""

    port: int
    backend: str
    accept_proxy: bool = False
    """The listener expects a PROXY protocol header from its clients."""
    certificate: str | None = None
    """TLS is terminated on the listener with this certificate file (None: plain TCP)."""


class CABundle(Value):
    """CA certificates that pods' certificates are verified against, as PEM."""

    file: str
    """Where HAProxy reads it: named by the hash of `pem` (naming.certificate_file)."""
    pem: str = Field(repr=False)


class Routing(Value):
    """Everything HAProxy serves: HTTP routing, TLS, passthrough, TCP services, and their backends."""

    hosts: ByClass[tuple[VirtualHost, ...]] = ()
    default_backend: str
    default_source: str
    """Why this default: `Ingress ns/name`, `--default-backend-service`, or `built-in 404`."""
    backends: ByClass[tuple[Backend, ...]] = ()
    config: GlobalConfig = GlobalConfig()
    default_certificate: Certificate | None = None
    """Served to clients whose SNI name has no certificate of its own; None: no HTTPS at all."""
    certificates: tuple[Certificate, ...] = ()
    """Every certificate file that HAProxy loads, the default one included, sorted by file."""
    tls_names: tuple[TLSName, ...] = ()
    passthrough: tuple[PassthroughRoute, ...] = ()
    tcp_services: tuple[TCPService, ...] = ()
    ca_bundles: tuple[CABundle, ...] = ()
    """The CA files that backends verify their pods against, sorted by file."""
    gateway_ports: GatewayPorts = ()
    """What Gateways serve, port by port (model/gateways.py), sorted by address and port."""
    splits: Splits = ()
    """Requests shared between backends by weight (Gateway API backendRefs), by name."""

    def backend(self, name: str) -> Backend:
        """The backend with this name (every name a route uses is present)."""
        return next(backend for backend in self.backends if backend.name == name)
