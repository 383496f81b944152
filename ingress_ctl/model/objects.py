"""Slim, typed views of the Kubernetes objects the controller reads.

Raw manifests (dicts from YAML files or from the API server) are parsed here,
once, into frozen pydantic values. Only the fields the controller uses are
kept. Names and namespaces are checked against the Kubernetes grammar so that
nothing downstream ever sees a malformed identifier; a field that does not fit
makes the whole object fail to parse with an error naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import InitVar, field
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple, TypeAlias

from pydantic import (
    AfterValidator,
    Field,
    GetCoreSchemaHandler,
    GetPydanticSchema,
    PlainValidator,
    TypeAdapter,
    ValidationError,
)
from pydantic.dataclasses import dataclass
from pydantic_core import SchemaValidator, core_schema

from ingress_ctl.model.gateway_api import API_RESOURCES, GROUP
from ingress_ctl.model.routing import ObjectRef
from ingress_ctl.model.views import (
    VIEW,
    Label,
    Metadata,
    PortName,
    PortNumber,
    Subdomain,
    all_canonical_ipv4,
    canonical_ip,
    name_error,
)

if TYPE_CHECKING:
    from ingress_ctl.model.gateway_objects import GatewayObject


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class ServiceBackendPort:
    number: PortNumber | None = None
    name: PortName | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class IngressServiceBackend:
    name: Label
    port: ServiceBackendPort


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class TypedLocalObjectReference:
    api_group: str | None = Field(default=None, alias="apiGroup")
    kind: str
    name: Subdomain


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class IngressBackend:
    service: IngressServiceBackend | None = None
    resource: TypedLocalObjectReference | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class HTTPIngressPath:
    path: str | None = None
    path_type: Literal["Exact", "Prefix", "ImplementationSpecific"] = Field(alias="pathType")
    backend: IngressBackend


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class HTTPIngressRuleValue:
    paths: tuple[HTTPIngressPath, ...]


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class IngressRule:
    host: str | None = None
    http: HTTPIngressRuleValue | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class IngressTLS:
    hosts: tuple[str, ...] = ()
    secret_name: Subdomain | None = Field(default=None, alias="secretName")


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class IngressSpec:
    ingress_class_name: Subdomain | None = Field(default=None, alias="ingressClassName")
    default_backend: IngressBackend | None = Field(default=None, alias="defaultBackend")
    rules: tuple[IngressRule, ...] = ()
    tls: tuple[IngressTLS, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class LoadBalancerIngress:
    ip: str | None = None
    hostname: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class LoadBalancerStatus:
    ingress: tuple[LoadBalancerIngress, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class LoadBalancedStatus:
    """`status` of an Ingress or a Service: the addresses that reach it."""

    load_balancer: LoadBalancerStatus = Field(default=LoadBalancerStatus(), alias="loadBalancer")


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class Ingress:
    kind: Literal["Ingress"] = "Ingress"
    metadata: Metadata
    spec: IngressSpec = IngressSpec()
    status: LoadBalancedStatus = LoadBalancedStatus()


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class IngressClassSpec:
    controller: str = ""


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class IngressClass:
    kind: Literal["IngressClass"] = "IngressClass"
    metadata: Metadata
    spec: IngressClassSpec = IngressClassSpec()


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class ServicePort:
    name: str | None = None
    port: PortNumber
    target_port: PortNumber | PortName | None = Field(default=None, alias="targetPort")
    protocol: str = "TCP"
    app_protocol: str | None = Field(default=None, alias="appProtocol")


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class ServiceSpec:
    type: str = "ClusterIP"
    ports: tuple[ServicePort, ...] = ()
    external_name: str | None = Field(default=None, alias="externalName")
    cluster_ip: str | None = Field(default=None, alias="clusterIP")
    external_ips: tuple[str, ...] = Field(default=(), alias="externalIPs")


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class Service:
    kind: Literal["Service"] = "Service"
    metadata: Metadata
    spec: ServiceSpec = ServiceSpec()
    status: LoadBalancedStatus = LoadBalancedStatus()


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class EndpointConditions:
    ready: bool | None = None
    serving: bool | None = None
    terminating: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class Endpoint:
    addresses: tuple[str, ...]
    conditions: EndpointConditions = EndpointConditions()


Addresses = tuple[str, ...]
EndpointState = tuple[Addresses, bool | None, bool | None, bool | None]
"""An endpoint as the `Endpoint` views read it: addresses, ready, serving, terminating."""
ByCondition = tuple[Addresses, Addresses, Addresses]
"""A slice's addresses: of ready endpoints, of serving and terminating ones, of the others."""

_ENDPOINTS: TypeAdapter[tuple[Endpoint, ...]] = TypeAdapter(tuple[Endpoint, ...])
_ABSENT: dict[str, Any] = {}
_FLAGS = frozenset({bool, type(None)})
_STRINGS = frozenset({str})


class ReadEndpoints(NamedTuple):
    """The endpoints of a slice as read, before their addresses are checked."""

    by_condition: ByCondition
    states: tuple[EndpointState, ...] | None
    """The endpoints, for naming a bad address; None when read by hand (see `endpoint_states`)."""
    source: Sequence[Any] = ()
    """What was read by hand: a list or tuple, read again by the views when states are needed."""

    def endpoint_states(self) -> tuple[EndpointState, ...]:
        """The endpoints one by one (only for a slice whose addresses are not all canonical
        IPv4: the views read by hand endpoints again, then)."""
        return self.states if self.states is not None else _endpoint_states(self.source)


NO_ENDPOINTS = ReadEndpoints(by_condition=((), (), ()), states=())


def _nullable(source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
    """The schema of the type, or `null` as None (which `__post_init__` then reads as empty):
    pydantic-core's check, not a Python call per object."""
    return core_schema.nullable_schema(handler(source))


def _read_endpoints(value: Any) -> ReadEndpoints:
    """The endpoints of a slice, read by hand when every value has exactly its type (as the
    API server writes them; 100,000 at scale, where the views cost twice as much), else by
    the `Endpoint` views, which coerce what pydantic coerces and name each field that fails
    (tests/model/test_endpoint_states.py checks that both agree)."""
    if value is None:  # the API server writes `"endpoints": null` for a Service with no pods
        return NO_ENDPOINTS
    exact = _exact_by_condition(value) if type(value) is list or type(value) is tuple else None
    if exact is not None:
        return ReadEndpoints(by_condition=exact, states=None, source=value)
    states = _endpoint_states(value)
    return ReadEndpoints(by_condition=_by_condition(states), states=states)


def _endpoint_states(value: Any) -> tuple[EndpointState, ...]:
    """The endpoints as the `Endpoint` views read them; ValidationError naming bad fields."""
    return tuple(
        (
            found.addresses,
            found.conditions.ready,
            found.conditions.serving,
            found.conditions.terminating,
        )
        for found in _ENDPOINTS.validate_python(value)
    )


def _exact_by_condition(endpoints: list[Any] | tuple[Any, ...]) -> ByCondition | None:
    """`_by_condition` of the endpoints when each one's addresses are a list of strings and
    its conditions, if given, are booleans or null; None for anything else. One loop over the
    endpoints, no call per endpoint, one type check of all the addresses at the end."""
    ready: list[Any] = []
    terminating: list[Any] = []
    not_ready: list[Any] = []
    for raw in endpoints:
        if type(raw) is not dict:
            return None
        addresses = raw.get("addresses")
        if type(addresses) is not list:
            return None
        conditions = raw.get("conditions", _ABSENT)
        if conditions is _ABSENT:  # no conditions: readiness unknown, counted as ready
            ready.extend(addresses)
            continue
        if type(conditions) is not dict:
            return None
        is_ready = conditions.get("ready")
        serving = conditions.get("serving")
        is_terminating = conditions.get("terminating")
        if not (
            type(is_ready) in _FLAGS and type(serving) in _FLAGS and type(is_terminating) in _FLAGS
        ):
            return None
        (ready, terminating, not_ready)[_condition(is_ready, serving, is_terminating)].extend(
            addresses
        )
    if not _STRINGS.issuperset(map(type, ready + terminating + not_ready)):
        return None
    return tuple(ready), tuple(terminating), tuple(not_ready)


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class EndpointPort:
    name: str | None = None
    port: PortNumber | None = None
    protocol: str = "TCP"


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class EndpointSlice:
    """An EndpointSlice, its endpoints kept as the addresses translation reads (in canonical
    form, checked once here rather than at each translation): those of ready endpoints, and
    those of serving, terminating ones (routed to only when none is ready). FQDN slices keep
    none: only IP addresses are routed to."""

    kind: Literal["EndpointSlice"] = "EndpointSlice"
    metadata: Metadata
    address_type: str = Field(default="IPv4", alias="addressType")
    endpoints: InitVar[Annotated[ReadEndpoints, PlainValidator(_read_endpoints)]] = NO_ENDPOINTS
    ports: Annotated[tuple[EndpointPort, ...], GetPydanticSchema(_nullable)] = ()
    """`null` (as the API server writes it for an empty slice) is read as no ports."""
    ready: tuple[str, ...] = field(init=False, default=())
    terminating: tuple[str, ...] = field(init=False, default=())
    not_ready: tuple[str, ...] = field(init=False, default=())
    """Never routed to; counted in /status."""

    def __post_init__(self, endpoints: ReadEndpoints) -> None:
        """Keep the addresses by condition. IPv4 addresses in canonical form (as the API server
        writes them) are checked a slice at a time; any other form is checked and made
        canonical address by address, the first bad one named. `null` ports become none."""
        if self.ports is None:
            object.__setattr__(self, "ports", ())
        if self.address_type not in ("IPv4", "IPv6"):
            return
        found = endpoints.by_condition
        if not all_canonical_ipv4(found[0] + found[1] + found[2]):
            states = endpoints.endpoint_states()
            found = _by_condition(_canonical(i, endpoint) for i, endpoint in enumerate(states))
        ready, terminating, not_ready = found
        object.__setattr__(self, "ready", ready)  # frozen: set once, while made
        object.__setattr__(self, "terminating", terminating)
        object.__setattr__(self, "not_ready", not_ready)


def _by_condition(endpoints: Iterable[EndpointState]) -> ByCondition:
    """The addresses of ready endpoints (unknown readiness counts as ready), of serving and
    terminating ones, and of the others."""
    found: tuple[list[str], list[str], list[str]] = ([], [], [])
    for addresses, is_ready, serving, is_terminating in endpoints:
        found[_condition(is_ready, serving, is_terminating)].extend(addresses)
    return tuple(found[0]), tuple(found[1]), tuple(found[2])


def _condition(ready: bool | None, serving: bool | None, terminating: bool | None) -> int:
    """Where an endpoint's addresses go: 0 ready (unknown readiness counts as ready), 1 serving
    and terminating (routed to only when none is ready), 2 the others (never routed to)."""
    if ready is not False:
        return 0
    return 1 if serving and terminating else 2


def _canonical(index: int, endpoint: EndpointState) -> EndpointState:
    """The endpoint with its addresses in canonical form; ValueError naming the first bad one."""
    addresses, ready, serving, terminating = endpoint
    found = []
    for j, address in enumerate(addresses):
        try:
            found.append(canonical_ip(address))
        except ValueError as error:
            raise ValueError(f"endpoints[{index}].addresses[{j}]: {error}") from None
    return (tuple(found), ready, serving, terminating)


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class EndpointAddress:
    ip: Annotated[str, AfterValidator(canonical_ip)]


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class EndpointSubset:
    addresses: tuple[EndpointAddress, ...] = ()
    not_ready_addresses: tuple[EndpointAddress, ...] = Field(default=(), alias="notReadyAddresses")
    ports: tuple[EndpointPort, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class Endpoints:
    kind: Literal["Endpoints"] = "Endpoints"
    metadata: Metadata
    subsets: tuple[EndpointSubset, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class Secret:
    kind: Literal["Secret"] = "Secret"
    metadata: Metadata
    type: str = "Opaque"
    data: dict[str, str] = Field(default_factory=dict)
    string_data: dict[str, str] = Field(default_factory=dict, alias="stringData")


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class ConfigMap:
    kind: Literal["ConfigMap"] = "ConfigMap"
    metadata: Metadata
    data: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True, config=VIEW)
class Namespace:
    """What `allowedRoutes` namespace selectors of Gateway listeners read."""

    kind: Literal["Namespace"] = "Namespace"
    metadata: Metadata


KubeObject: TypeAlias = (
    "Ingress | IngressClass | Service | EndpointSlice | Endpoints | Secret | ConfigMap"
    " | Namespace | GatewayObject"
)

VIEWS: dict[str, TypeAdapter[KubeObject]] = {
    "Ingress": TypeAdapter(Ingress),
    "IngressClass": TypeAdapter(IngressClass),
    "Service": TypeAdapter(Service),
    "EndpointSlice": TypeAdapter(EndpointSlice),
    "Endpoints": TypeAdapter(Endpoints),
    "Secret": TypeAdapter(Secret),
    "ConfigMap": TypeAdapter(ConfigMap),
    "Namespace": TypeAdapter(Namespace),
}
"""The view of each core kind, by kind; the Gateway API's are in `gateway_objects`."""

CLUSTER_SCOPED = frozenset({"IngressClass", "GatewayClass", "Namespace"})
GATEWAY_KINDS = frozenset(API_RESOURCES)
"""Kinds read only from the Gateway API's group (another group's `Gateway` is not ours)."""


def _gateway_view(kind: str, api_version: object) -> TypeAdapter[KubeObject] | None:
    """The view of a Gateway API kind of the Gateway API's group, if it is one; their module
    is imported here, at the first such object, not by every `render` of Ingresses."""
    if kind not in GATEWAY_KINDS or not (
        isinstance(api_version, str) and api_version.startswith(GROUP + "/")
    ):
        return None
    from ingress_ctl.model import gateway_objects  # noqa: PLC0415 (see above)

    return gateway_objects.VIEWS[kind]  # type: ignore[return-value]


class ObjectError(ValueError):
    """A manifest that could not be read as one of our kinds; says which fields and why."""

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{where}: {why}" for where, why in fields))
        self.fields = fields


def parse_object(raw: dict[str, Any]) -> KubeObject | None:
    """Parse one manifest; None for kinds we do not read, ObjectError for bad ones."""
    kind = raw.get("kind")
    if not isinstance(kind, str):
        return None
    view = VIEWS.get(kind) or _gateway_view(kind, raw.get("apiVersion"))
    if view is None:
        return None
    try:
        # pydantic-core's validator itself: TypeAdapter.validate_python's handling of its
        # keyword arguments costs as much as a tenth of validating a Service
        found: KubeObject = view.validator.validate_python(raw)
    except ValidationError as error:
        raise ObjectError(failed_fields(error)) from None
    return found


class Unread(NamedTuple):
    """An item of a manifest left to `parse_object` (and to the problems of what it refuses)."""

    raw: Any


_LIST_JSON = SchemaValidator(
    core_schema.typed_dict_schema(
        {
            "kind": core_schema.typed_dict_field(core_schema.str_schema(pattern="List$")),
            "items": core_schema.typed_dict_field(
                core_schema.list_schema(
                    core_schema.union_schema(
                        [
                            core_schema.tagged_union_schema(
                                {kind: view.core_schema for kind, view in VIEWS.items()},
                                discriminator="kind",
                            ),
                            core_schema.no_info_plain_validator_function(Unread),
                        ],
                        mode="left_to_right",
                    )
                )
            ),
        }
    )
)
"""A JSON document of a `List` kind whose `items` are a list: each item of a core kind read by
its view straight from the JSON text, any other item (not an object, another kind, or one its
view refuses) left Unread."""


def parse_list_json(data: bytes) -> list[KubeObject | Unread] | None:
    """The items of a JSON `List` document, in order; None for any other bytes.

    The fast form of parsing the JSON into Python values, then each item with `parse_object`,
    for the 10,000-Ingress List: pydantic-core validates the core kinds from the JSON text,
    without the tree of Python dicts and lists that is otherwise built and freed (a third of
    loading it). An item of a core kind is taken only when its view accepts it, which it does
    in JSON as in Python for the same value; every other item is given back as the value the
    JSON parser makes of it, for `parse_object` to read or refuse as ever
    (tests/sources/test_list_json.py checks that both forms load the same)."""
    try:
        found: list[KubeObject | Unread] = _LIST_JSON.validate_json(data)["items"]
    except ValueError:  # not JSON, or not a List (as `str(kind).endswith("List")` reads it)
        return None
    return found


def failed_fields(error: ValidationError) -> list[tuple[str, str]]:
    """(field, reason) for every failed field, e.g. `spec.rules.0.host`."""
    return [
        (".".join(str(part) for part in item["loc"]) or "(object)", name_error(item))
        for item in error.errors()
    ]


def describe(raw: dict[str, Any]) -> ObjectRef:
    """Best-effort name of a raw manifest, for errors about it."""
    meta = raw.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    return ObjectRef(
        kind=str(raw.get("kind", "?"))[:64],
        namespace=str(meta.get("namespace", ""))[:64],
        name=str(meta.get("name", "?"))[:253],
    )


def object_key(obj: KubeObject | ObjectRef) -> tuple[str, str, str]:
    """(kind, namespace, name): the identity of an object in the store; an unreadable
    object's (by its `describe`d name) is the one it would have had if readable."""
    if isinstance(obj, ObjectRef):
        kind, namespace, name = obj.kind, obj.namespace or "default", obj.name
    else:
        kind, namespace, name = obj.kind, obj.metadata.namespace, obj.metadata.name
    return (kind, "" if kind in CLUSTER_SCOPED else namespace, name)
