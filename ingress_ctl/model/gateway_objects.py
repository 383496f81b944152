"""Slim, typed views of the Gateway API objects (gateway.networking.k8s.io, v1.6).

GatewayClass, Gateway, ListenerSet, HTTPRoute, GRPCRoute, TLSRoute, TCPRoute,
ReferenceGrant and BackendTLSPolicy. Like `objects` (which imports this module only
when it meets the first of these kinds), only the fields the controller uses are kept and names are checked against the
Kubernetes grammar; values the API server's CRD validation already bounds
(hostnames, paths, header names and values) are kept as strings here and
parsed by translation, which turns a value it refuses into a route condition
rather than a lost object. `status` is kept raw: the status writer keeps what
other controllers wrote and the transition times of unchanged conditions.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import Field, TypeAdapter
from pydantic.dataclasses import dataclass

from ingress_ctl.model.gateway_api import GROUP
from ingress_ctl.model.views import VIEW, Label, Metadata, PortNumber, Subdomain


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class GatewayClassSpec:
    controller_name: str = Field(alias="controllerName")


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class GatewayClass:
    kind: Literal["GatewayClass"] = "GatewayClass"
    metadata: Metadata
    spec: GatewayClassSpec
    status: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class SecretObjectReference:
    """A certificateRef: a Secret unless group/kind say otherwise."""

    group: str = ""
    kind: str = "Secret"
    name: Subdomain
    namespace: Label | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class GatewayTLSConfig:
    mode: str = "Terminate"
    certificate_refs: tuple[SecretObjectReference, ...] = Field(default=(), alias="certificateRefs")


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class LabelSelectorRequirement:
    key: str
    operator: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class LabelSelector:
    match_labels: dict[str, str] = Field(default_factory=dict, alias="matchLabels")
    match_expressions: tuple[LabelSelectorRequirement, ...] = Field(
        default=(), alias="matchExpressions"
    )


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class RouteNamespaces:
    from_: str = Field(default="Same", alias="from")
    selector: LabelSelector | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class RouteGroupKind:
    group: str = GROUP
    kind: str


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class AllowedRoutes:
    namespaces: RouteNamespaces = RouteNamespaces()
    kinds: tuple[RouteGroupKind, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class Listener:
    name: str
    hostname: str | None = None
    port: PortNumber
    protocol: str
    tls: GatewayTLSConfig | None = None
    allowed_routes: AllowedRoutes = Field(default=AllowedRoutes(), alias="allowedRoutes")


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class GatewayAddress:
    type: str = "IPAddress"
    value: str = ""
    """Empty: the implementation assigns one."""


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class ParametersReference:
    group: str = ""
    kind: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class GatewayInfrastructure:
    """Only parametersRef is read: labels and annotations are for generated resources,
    which this controller does not make."""

    parameters_ref: ParametersReference | None = Field(default=None, alias="parametersRef")


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class ListenerNamespaces:
    """Which namespaces' ListenerSets may add listeners to a Gateway (none by default)."""

    from_: str = Field(default="None", alias="from")
    selector: LabelSelector | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class AllowedListeners:
    namespaces: ListenerNamespaces = ListenerNamespaces()


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class ObjectReference:
    """A reference to an object of any kind (a caCertificateRef: a ConfigMap in core)."""

    group: str = ""
    kind: str
    name: Subdomain
    namespace: Label | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class FrontendValidation:
    """How client certificates are checked: against these CAs; `AllowValidOnly` or
    `AllowInsecureFallback`."""

    ca_certificate_refs: tuple[ObjectReference, ...] = Field(default=(), alias="caCertificateRefs")
    mode: str = "AllowValidOnly"


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class FrontendTLS:
    validation: FrontendValidation | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class FrontendTLSPort:
    port: PortNumber
    tls: FrontendTLS = FrontendTLS()


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class GatewayFrontendTLS:
    """`spec.tls.frontend`: the client certificate validation of HTTPS listeners, by port."""

    default: FrontendTLS = FrontendTLS()
    per_port: tuple[FrontendTLSPort, ...] = Field(default=(), alias="perPort")

    def for_port(self, port: int) -> FrontendTLS:
        """The per-port configuration of `port`, else the default."""
        return next((item.tls for item in self.per_port if item.port == port), self.default)


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class GatewayBackendTLS:
    client_certificate_ref: SecretObjectReference | None = Field(
        default=None, alias="clientCertificateRef"
    )


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class GatewayTLS:
    """`spec.tls`: how HTTPS listeners check clients (`frontend`), and what the Gateway
    presents to backends (`backend`)."""

    frontend: GatewayFrontendTLS | None = None
    backend: GatewayBackendTLS | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class GatewaySpec:
    gateway_class_name: str = Field(alias="gatewayClassName")
    listeners: tuple[Listener, ...] = ()
    addresses: tuple[GatewayAddress, ...] = ()
    allowed_listeners: AllowedListeners = Field(
        default=AllowedListeners(), alias="allowedListeners"
    )
    infrastructure: GatewayInfrastructure | None = None
    tls: GatewayTLS | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class Gateway:
    kind: Literal["Gateway"] = "Gateway"
    metadata: Metadata
    spec: GatewaySpec
    status: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class ParentGatewayReference:
    """A ListenerSet's parent: a Gateway, in the ListenerSet's namespace unless named."""

    group: str = GROUP
    kind: str = "Gateway"
    name: str
    namespace: Label | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class ListenerSetSpec:
    parent_ref: ParentGatewayReference = Field(alias="parentRef")
    listeners: tuple[Listener, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class ListenerSet:
    """Listeners that join a Gateway's own when its `allowedListeners` lets them."""

    kind: Literal["ListenerSet"] = "ListenerSet"
    metadata: Metadata
    spec: ListenerSetSpec
    status: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class ParentReference:
    group: str = GROUP
    kind: str = "Gateway"
    namespace: Label | None = None
    name: str
    section_name: str | None = Field(default=None, alias="sectionName")
    port: PortNumber | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class HTTPHeader:
    name: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class HeaderFilter:
    """RequestHeaderModifier / ResponseHeaderModifier."""

    set: tuple[HTTPHeader, ...] = ()
    add: tuple[HTTPHeader, ...] = ()
    remove: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class PathModifier:
    type: str
    replace_full_path: str | None = Field(default=None, alias="replaceFullPath")
    replace_prefix_match: str | None = Field(default=None, alias="replacePrefixMatch")


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class RequestRedirectFilter:
    scheme: str | None = None
    hostname: str | None = None
    path: PathModifier | None = None
    port: PortNumber | None = None
    status_code: int = Field(default=302, alias="statusCode")


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class URLRewriteFilter:
    hostname: str | None = None
    path: PathModifier | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class CORSFilter:
    allow_origins: tuple[str, ...] = Field(default=(), alias="allowOrigins")
    allow_credentials: bool | None = Field(default=None, alias="allowCredentials")
    allow_methods: tuple[str, ...] = Field(default=(), alias="allowMethods")
    allow_headers: tuple[str, ...] = Field(default=(), alias="allowHeaders")
    expose_headers: tuple[str, ...] = Field(default=(), alias="exposeHeaders")
    max_age: int | None = Field(default=None, alias="maxAge")


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class LocalObjectReference:
    group: str = ""
    kind: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class RouteFilter:
    """An HTTPRoute or GRPCRoute filter (GRPCRoute uses the header modifiers only)."""

    type: str
    request_header_modifier: HeaderFilter | None = Field(
        default=None, alias="requestHeaderModifier"
    )
    response_header_modifier: HeaderFilter | None = Field(
        default=None, alias="responseHeaderModifier"
    )
    request_redirect: RequestRedirectFilter | None = Field(default=None, alias="requestRedirect")
    url_rewrite: URLRewriteFilter | None = Field(default=None, alias="urlRewrite")
    cors: CORSFilter | None = None
    extension_ref: LocalObjectReference | None = Field(default=None, alias="extensionRef")


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class BackendRef:
    group: str = ""
    kind: str = "Service"
    name: str
    namespace: Label | None = None
    port: PortNumber | None = None
    weight: int = Field(default=1, ge=0, le=1_000_000)
    filters: tuple[RouteFilter, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class PathMatch:
    type: str = "PathPrefix"
    value: str = "/"


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class ValueMatch:
    """A header or query parameter match."""

    type: str = "Exact"
    name: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class HTTPRouteMatch:
    path: PathMatch | None = None
    headers: tuple[ValueMatch, ...] = ()
    query_params: tuple[ValueMatch, ...] = Field(default=(), alias="queryParams")
    method: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class HTTPRouteTimeouts:
    request: str | None = None
    backend_request: str | None = Field(default=None, alias="backendRequest")


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class HTTPRouteRetry:
    codes: tuple[int, ...] = ()
    attempts: int | None = None
    backoff: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class HTTPRouteRule:
    name: str | None = None
    matches: tuple[HTTPRouteMatch, ...] = (HTTPRouteMatch(path=PathMatch()),)
    filters: tuple[RouteFilter, ...] = ()
    backend_refs: tuple[BackendRef, ...] = Field(default=(), alias="backendRefs")
    timeouts: HTTPRouteTimeouts | None = None
    retry: HTTPRouteRetry | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class HTTPRouteSpec:
    parent_refs: tuple[ParentReference, ...] = Field(default=(), alias="parentRefs")
    hostnames: tuple[str, ...] = ()
    rules: tuple[HTTPRouteRule, ...] = (HTTPRouteRule(),)


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class HTTPRoute:
    kind: Literal["HTTPRoute"] = "HTTPRoute"
    metadata: Metadata
    spec: HTTPRouteSpec = HTTPRouteSpec()
    status: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class GRPCMethodMatch:
    type: str = "Exact"
    service: str | None = None
    method: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class GRPCRouteMatch:
    method: GRPCMethodMatch | None = None
    headers: tuple[ValueMatch, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class GRPCRouteRule:
    name: str | None = None
    matches: tuple[GRPCRouteMatch, ...] = (GRPCRouteMatch(),)
    filters: tuple[RouteFilter, ...] = ()
    backend_refs: tuple[BackendRef, ...] = Field(default=(), alias="backendRefs")


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class GRPCRouteSpec:
    parent_refs: tuple[ParentReference, ...] = Field(default=(), alias="parentRefs")
    hostnames: tuple[str, ...] = ()
    rules: tuple[GRPCRouteRule, ...] = (GRPCRouteRule(),)


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class GRPCRoute:
    kind: Literal["GRPCRoute"] = "GRPCRoute"
    metadata: Metadata
    spec: GRPCRouteSpec = GRPCRouteSpec()
    status: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class StreamRouteRule:
    """A TLSRoute or TCPRoute rule: backends only."""

    name: str | None = None
    backend_refs: tuple[BackendRef, ...] = Field(default=(), alias="backendRefs")


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class TLSRouteSpec:
    parent_refs: tuple[ParentReference, ...] = Field(default=(), alias="parentRefs")
    hostnames: tuple[str, ...] = ()
    rules: tuple[StreamRouteRule, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class TLSRoute:
    kind: Literal["TLSRoute"] = "TLSRoute"
    metadata: Metadata
    spec: TLSRouteSpec = TLSRouteSpec()
    status: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class TCPRouteSpec:
    parent_refs: tuple[ParentReference, ...] = Field(default=(), alias="parentRefs")
    rules: tuple[StreamRouteRule, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class TCPRoute:
    kind: Literal["TCPRoute"] = "TCPRoute"
    metadata: Metadata
    spec: TCPRouteSpec = TCPRouteSpec()
    status: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class ReferenceGrantFrom:
    group: str
    kind: str
    namespace: Label


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class ReferenceGrantTo:
    group: str
    kind: str
    name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class ReferenceGrantSpec:
    from_: tuple[ReferenceGrantFrom, ...] = Field(default=(), alias="from")
    to: tuple[ReferenceGrantTo, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class ReferenceGrant:
    kind: Literal["ReferenceGrant"] = "ReferenceGrant"
    metadata: Metadata
    spec: ReferenceGrantSpec = ReferenceGrantSpec()


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class PolicyTargetReference:
    """A policy's targetRef: a local object, and optionally one of its sections (a port)."""

    group: str
    kind: str
    name: str
    section_name: str | None = Field(default=None, alias="sectionName")


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class SubjectAltName:
    type: str
    hostname: str = ""
    uri: str = ""


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class BackendTLSValidation:
    ca_certificate_refs: tuple[LocalObjectReference, ...] = Field(
        default=(), alias="caCertificateRefs"
    )
    well_known_ca_certificates: str | None = Field(default=None, alias="wellKnownCACertificates")
    hostname: str
    subject_alt_names: tuple[SubjectAltName, ...] = Field(default=(), alias="subjectAltNames")


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class BackendTLSPolicySpec:
    target_refs: tuple[PolicyTargetReference, ...] = Field(default=(), alias="targetRefs")
    validation: BackendTLSValidation


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class BackendTLSPolicy:
    """How the Gateway speaks TLS to the pods of the Services (ports) it targets."""

    kind: Literal["BackendTLSPolicy"] = "BackendTLSPolicy"
    metadata: Metadata
    spec: BackendTLSPolicySpec
    status: dict[str, Any] = Field(default_factory=dict)


Route = HTTPRoute | GRPCRoute | TLSRoute | TCPRoute
"""The route kinds that attach to Gateway listeners."""

GatewayObject = (
    GatewayClass
    | Gateway
    | ListenerSet
    | HTTPRoute
    | GRPCRoute
    | TLSRoute
    | TCPRoute
    | ReferenceGrant
    | BackendTLSPolicy
)

VIEWS: dict[str, TypeAdapter[GatewayObject]] = {
    view.__name__: TypeAdapter(view) for view in get_args(GatewayObject)
}
"""The view of each kind, by kind (`objects.parse_object` reads them)."""
