"""What the Gateway API objects ask HAProxy to serve, as immutable values.

Translation makes a `GatewayPort` for every port of every Gateway we program:
HTTP and HTTPS ports carry `HTTPMatch`es (HTTPRoute and GRPCRoute rules) in
precedence order, TLS ports carry SNI routes (TLSRoute), TCP ports one backend
(TCPRoute). Backends are the routing model's `Backend`s (a Service port, with a
policy when filters ask for one); a rule that shares its requests between
several backends by weight names a `Split`. The values say *what* to serve;
`haproxy/` says how.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic.dataclasses import dataclass

from ingress_ctl.model.routing import RECORD, ObjectRef, PathType, Value


class ListenerProtocol(StrEnum):
    """What a Gateway port speaks."""

    HTTP = "HTTP"
    HTTPS = "HTTPS"
    TLS = "TLS"
    """SNI names route streams (TLSRoute): undecrypted (Passthrough listeners), or decrypted
    by HAProxy with the listener's certificate (Terminate listeners)."""
    TCP = "TCP"


@dataclass(frozen=True, slots=True, kw_only=True, config=RECORD)
class ValueMatch:
    """A request header (name lowercase) or query parameter that must equal `value`."""

    name: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True, config=RECORD)
class HTTPMatch:
    """One match of one HTTPRoute (or GRPCRoute) rule and where its requests go.

    A request matches when its host matches `host` (exact; `*.suffix`: any name ending in
    `.suffix`; "": every host), its normalised path matches `path` as `path_type` says
    (element by element for Prefix, as for Ingress), and every method, header and query
    condition holds.
    """

    host: str
    path: str
    path_type: PathType
    method: str | None = None
    headers: tuple[ValueMatch, ...] = ()
    query: tuple[ValueMatch, ...] = ()
    backend: str
    """A Backend's name, or a Split's."""
    source: ObjectRef
    rule: str
    """Where in the source, e.g. `spec.rules[0].matches[1]`."""
    rule_name: str | None = None

    @property
    def conditional(self) -> bool:
        """Whether more than host and path decide (a method, header or query condition)."""
        return bool(self.method or self.headers or self.query)


@dataclass(frozen=True, slots=True, kw_only=True, config=RECORD)
class WeightedBackend:
    backend: str
    weight: int


@dataclass(frozen=True, slots=True, kw_only=True, config=RECORD)
class Split:
    """Requests (or connections) shared between backends in proportion to their weights
    (a weight of 0 gets none; the total is above 0)."""

    name: str
    backends: tuple[WeightedBackend, ...]


@dataclass(frozen=True, slots=True, kw_only=True, config=RECORD)
class SNIRoute:
    """A TLS route: connections whose SNI name matches `host` (exact, or `*.suffix`)."""

    host: str
    backend: str
    """A `mode tcp` Backend's name, or a Split's."""
    source: ObjectRef
    terminate: bool = False
    """HAProxy decrypts the stream (with the port's certificate for `host`) and sends the
    backend the plain stream; else the stream passes through undecrypted."""


@dataclass(frozen=True, slots=True, kw_only=True, config=RECORD)
class ListenerCertificate:
    """The certificate file served for SNI names matching `host` ("" for any name)."""

    host: str
    file: str


@dataclass(frozen=True, slots=True, kw_only=True, config=RECORD)
class ClientValidation:
    """HTTPS: client certificates are checked against the CA bundle `ca_file` (a CABundle's
    file); `optional`: a client without a valid one is served all the same
    (AllowInsecureFallback), else its handshake fails (AllowValidOnly)."""

    ca_file: str
    optional: bool = False


class GatewayPort(Value):
    """Everything one Gateway serves on one port of its address."""

    gateway: ObjectRef
    address: str | None
    """The IP address to listen on; None: the controller's bind address."""
    port: int
    protocol: ListenerProtocol
    matches: tuple[HTTPMatch, ...] = ()
    """HTTP and HTTPS: in precedence order (Gateway API's): the first that matches a request
    wins; a request no match takes answers 404."""
    certificates: tuple[ListenerCertificate, ...] = ()
    """HTTPS, and TLS ports with terminated SNI routes: by SNI name, most specific first; a
    name none matches gets the first."""
    client_validation: ClientValidation | None = None
    """HTTPS: how client certificates are checked (Gateway `spec.tls.frontend`); None: not."""
    listener_hosts: tuple[str, ...] = ()
    """HTTPS, when the port has listeners of several hostnames: those hostnames ("" for a
    listener without one), most specific first. The listener a request's SNI name chooses
    must be the one its Host header chooses, else the request is misdirected (421)."""
    sni_routes: tuple[SNIRoute, ...] = ()
    """TLS: by SNI name, most specific first; other names are refused."""
    backend: str | None = None
    """TCP: where every connection goes (a Backend's or a Split's name); None: refused."""
