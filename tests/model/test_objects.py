"""Object views: manifests parse into typed values, or fail naming the field; other kinds are skipped."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from ingress_ctl.model.objects import (
    EndpointSlice,
    Ingress,
    IngressClass,
    ObjectError,
    Service,
    describe,
    object_key,
    parse_object,
)
from ingress_ctl.model.routing import ObjectRef
from ingress_ctl.model.views import EPOCH
from tests.manifests import (
    Manifest,
    endpoint,
    endpoint_slice,
    from_yaml,
    ingress,
    ingress_class,
    legacy_endpoints,
    path,
    rule,
    service,
    service_port,
)

INGRESS_YAML = """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: demo
  uid: 0b1c
  resourceVersion: "42"
  creationTimestamp: "2024-05-01T10:00:00Z"
  labels: {app: shop}
  annotations: {kubernetes.io/ingress.class: haproxy}
  managedFields: [{manager: kubectl}]
spec:
  ingressClassName: haproxy
  defaultBackend:
    service: {name: web, port: {number: 80}}
  tls:
  - hosts: [shop.example.com]
    secretName: shop-tls
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /api
        pathType: Prefix
        backend: {service: {name: api, port: {name: http}}}
      - pathType: ImplementationSpecific
        backend: {resource: {apiGroup: k8s.example.com, kind: Bucket, name: static}}
  - http:
      paths:
      - {path: /, pathType: Exact, backend: {service: {name: web, port: {number: 8080}}}}
status:
  loadBalancer: {ingress: [{ip: 10.0.0.1}]}
"""


def test_ingress_parses_the_fields_we_use() -> None:
    (raw,) = from_yaml(INGRESS_YAML)
    obj = parse_object(raw)
    assert isinstance(obj, Ingress)
    meta = obj.metadata
    assert (meta.name, meta.namespace, meta.uid, meta.resource_version) == (
        "shop",
        "demo",
        "0b1c",
        "42",
    )
    assert meta.creation_timestamp == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert meta.labels == {"app": "shop"}
    assert meta.annotations == {"kubernetes.io/ingress.class": "haproxy"}
    spec = obj.spec
    assert spec.ingress_class_name == "haproxy"
    assert spec.default_backend is not None and spec.default_backend.service is not None
    assert (spec.default_backend.service.name, spec.default_backend.service.port.number) == (
        "web",
        80,
    )
    assert [(t.hosts, t.secret_name) for t in spec.tls] == [(("shop.example.com",), "shop-tls")]
    first, second = spec.rules
    assert first.host == "shop.example.com" and second.host is None
    assert first.http is not None and second.http is not None
    api, bucket = first.http.paths
    assert (api.path, api.path_type) == ("/api", "Prefix")
    assert api.backend.service is not None
    assert (api.backend.service.name, api.backend.service.port.name) == ("api", "http")
    assert api.backend.service.port.number is None
    assert (bucket.path, bucket.path_type, bucket.backend.service) == (
        None,
        "ImplementationSpecific",
        None,
    )
    assert bucket.backend.resource is not None
    assert (bucket.backend.resource.kind, bucket.backend.resource.name) == ("Bucket", "static")
    assert [(p.path, p.path_type) for p in second.http.paths] == [("/", "Exact")]


def test_metadata_defaults() -> None:
    obj = parse_object({"kind": "Ingress", "metadata": {"name": "bare"}})
    assert isinstance(obj, Ingress)
    assert (obj.metadata.namespace, obj.metadata.creation_timestamp) == ("default", EPOCH)
    assert (obj.spec.ingress_class_name, obj.spec.rules, obj.spec.default_backend) == (
        None,
        (),
        None,
    )


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T12:00:00+02:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        # No zone: UTC, as the API server means it (never the controller's local time).
        ("2024-05-01T10:00:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        (datetime(2024, 5, 1, 10), datetime(2024, 5, 1, 10, tzinfo=UTC)),  # unquoted YAML
    ],
)
def test_creation_timestamps_are_always_aware(stamp: Any, expected: datetime) -> None:
    obj = parse_object({"kind": "Ingress", "metadata": {"name": "x", "creationTimestamp": stamp}})
    assert obj is not None
    assert obj.metadata.creation_timestamp == expected
    assert obj.metadata.creation_timestamp.tzinfo is not None


@pytest.mark.parametrize(
    ("raw", "view"),
    [
        (ingress_class("haproxy", default=True), IngressClass),
        (service("web", service_port(80, "http", "web")), Service),
        (endpoint_slice("web-a", "web", endpoint("10.0.0.1", ready=False)), EndpointSlice),
        (legacy_endpoints("web", ["10.0.0.1"]), None),
        ({"kind": "Secret", "metadata": {"name": "tls"}, "type": "kubernetes.io/tls"}, None),
        ({"kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "b"}}, None),
    ],
)
def test_other_kinds_parse(raw: Manifest, view: type | None) -> None:
    obj = parse_object(raw)
    assert obj is not None
    assert obj.kind == raw["kind"]
    if view is not None:
        assert isinstance(obj, view)


@pytest.mark.parametrize(
    "raw",
    [
        {"kind": "Pod", "metadata": {"name": "p"}},
        {"kind": "Deployment", "metadata": {"name": "BAD NAME"}},
        {"kind": "ingress", "metadata": {"name": "lowercase-kind"}},
        {"kind": "Gateway", "apiVersion": "networking.istio.io/v1", "metadata": {"name": "g"}},
        {"kind": "HTTPRoute", "metadata": {"name": "no-api-version"}},
        {"kind": "", "metadata": {"name": "x"}},
        {"metadata": {"name": "no-kind"}},
        {"kind": None},
        {"kind": 5},
        {"kind": ["Ingress"]},
        {},
    ],
)
def test_unknown_kinds_are_skipped(raw: Manifest) -> None:
    assert parse_object(raw) is None


def _ingress_with(change: str, value: Any) -> Manifest:
    """A valid Ingress with one field (a dotted path, `-` to delete) changed."""
    raw = copy.deepcopy(
        ingress(
            "shop",
            rule("shop.example.com", path("/api", "api", "http")),
            default={"service": {"name": "web", "port": {"number": 80}}},
        )
    )
    *parents, last = change.split(".")
    node: Any = raw
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is DELETE:
        del node[int(last) if last.isdigit() else last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return raw


DELETE = object()
PATH0 = "spec.rules.0.http.paths.0"

INGRESS_ERRORS: list[tuple[str, Any, str, str]] = [
    ("metadata", DELETE, "metadata", "Field required"),
    ("metadata.name", DELETE, "metadata.name", "Field required"),
    ("metadata.name", "Bad_Name", "metadata.name", "'Bad_Name' is not a valid DNS subdomain"),
    ("metadata.name", "Shop", "metadata.name", "'Shop' is not a valid DNS subdomain"),
    ("metadata.name", "", "metadata.name", "'' is not a valid DNS subdomain"),
    ("metadata.name", "a" * 254, "metadata.name", "is not a valid DNS subdomain"),
    ("metadata.name", "shop\n", "metadata.name", "'shop\\n' is not a valid DNS subdomain"),
    ("metadata.name", 7, "metadata.name", "Input should be a valid string"),
    ("metadata.namespace", "Team", "metadata.namespace", "'Team' is not a valid DNS label"),
    ("metadata.namespace", "a.b", "metadata.namespace", "'a.b' is not a valid DNS label"),
    ("metadata.namespace", "a" * 64, "metadata.namespace", "is not a valid DNS label"),
    ("metadata.creationTimestamp", "yesterday", "metadata.creationTimestamp", "datetime"),
    ("metadata.annotations", {"a": 1}, "metadata.annotations.a", "valid string"),
    ("spec.ingressClassName", "Bad Class", "spec.ingressClassName", "not a valid DNS subdomain"),
    ("spec.rules", "not-a-list", "spec.rules", "valid tuple"),
    ("spec.rules.0.http.paths", DELETE, "spec.rules.0.http.paths", "Field required"),
    (f"{PATH0}.pathType", DELETE, f"{PATH0}.pathType", "Field required"),
    (
        f"{PATH0}.pathType",
        "Regex",
        f"{PATH0}.pathType",
        "Input should be 'Exact', 'Prefix' or 'ImplementationSpecific'",
    ),
    (f"{PATH0}.pathType", "prefix", f"{PATH0}.pathType", "Input should be 'Exact'"),
    (f"{PATH0}.backend", DELETE, f"{PATH0}.backend", "Field required"),
    (
        f"{PATH0}.backend.service.name",
        "Web",
        f"{PATH0}.backend.service.name",
        "'Web' is not a valid DNS label",
    ),
    (
        f"{PATH0}.backend.service.name",
        "web.svc",
        f"{PATH0}.backend.service.name",
        "'web.svc' is not a valid DNS label",
    ),
    (f"{PATH0}.backend.service.port", DELETE, f"{PATH0}.backend.service.port", "Field required"),
    (
        f"{PATH0}.backend.service.port",
        {"number": 0},
        f"{PATH0}.backend.service.port.number",
        "greater than or equal to 1",
    ),
    (
        f"{PATH0}.backend.service.port",
        {"number": 65536},
        f"{PATH0}.backend.service.port.number",
        "less than or equal to 65535",
    ),
    (
        f"{PATH0}.backend.service.port",
        {"number": "eighty"},
        f"{PATH0}.backend.service.port.number",
        "valid integer",
    ),
    (
        f"{PATH0}.backend.service.port",
        {"name": "HTTP"},
        f"{PATH0}.backend.service.port.name",
        "'HTTP' is not a valid port name",
    ),
    (
        f"{PATH0}.backend.service.port",
        {"name": "a-very-long-port"},
        f"{PATH0}.backend.service.port.name",
        "'a-very-long-port' is not a valid port name",
    ),
    # A port name is never all digits: `80` would read as (and clash with) port number 80.
    (
        f"{PATH0}.backend.service.port",
        {"name": "80"},
        f"{PATH0}.backend.service.port.name",
        "'80' is not a valid port name",
    ),
    (
        f"{PATH0}.backend.service.port",
        {"name": "a--b"},
        f"{PATH0}.backend.service.port.name",
        "'a--b' is not a valid port name",
    ),
    (
        f"{PATH0}.backend.service.port",
        {"name": "-http"},
        f"{PATH0}.backend.service.port.name",
        "'-http' is not a valid port name",
    ),
    (
        f"{PATH0}.backend.service.port",
        {"name": "http_alt"},
        f"{PATH0}.backend.service.port.name",
        "'http_alt' is not a valid port name",
    ),
    (
        "spec.defaultBackend.service.port",
        DELETE,
        "spec.defaultBackend.service.port",
        "Field required",
    ),
    (
        "spec.defaultBackend",
        {"resource": {"kind": "Bucket", "name": "Bad Name"}},
        "spec.defaultBackend.resource.name",
        "not a valid DNS subdomain",
    ),
]


@pytest.mark.parametrize(
    ("change", "value", "field", "reason"),
    INGRESS_ERRORS,
    ids=[f"{case[0]}={case[1]!r:.30}" for case in INGRESS_ERRORS],
)
def test_ingress_errors_name_the_field(change: str, value: Any, field: str, reason: str) -> None:
    with pytest.raises(ObjectError) as raised:
        parse_object(_ingress_with(change, value))
    [(where, why)] = raised.value.fields
    assert where == field
    assert reason in why
    assert str(raised.value) == f"{where}: {why}"


@pytest.mark.parametrize(
    ("good", "name", "number"),
    [("http", "http", None), ("h2c", "h2c", None), ("a-b-1", "a-b-1", None), ("8080", None, 8080)],
)
def test_valid_backend_ports(good: str, name: str | None, number: int | None) -> None:
    port = {"number": int(good)} if good.isdigit() else {"name": good}
    obj = parse_object(_ingress_with(f"{PATH0}.backend.service.port", port))
    assert isinstance(obj, Ingress)
    found = obj.spec.rules[0].http
    assert found is not None
    service_backend = found.paths[0].backend.service
    assert service_backend is not None
    assert (service_backend.port.name, service_backend.port.number) == (name, number)


OTHER_ERRORS: list[tuple[str, Manifest, str, str]] = [
    (
        "Service port missing",
        {"kind": "Service", "metadata": {"name": "web"}, "spec": {"ports": [{"name": "http"}]}},
        "spec.ports.0.port",
        "Field required",
    ),
    (
        "Service port out of range",
        {"kind": "Service", "metadata": {"name": "web"}, "spec": {"ports": [{"port": 70000}]}},
        "spec.ports.0.port",
        "less than or equal to 65535",
    ),
    (
        "EndpointSlice endpoint without addresses",
        {"kind": "EndpointSlice", "metadata": {"name": "s"}, "endpoints": [{"conditions": {}}]},
        "endpoints.0.addresses",
        "Field required",
    ),
    (
        "EndpointSlice port zero",
        {"kind": "EndpointSlice", "metadata": {"name": "s"}, "ports": [{"port": 0}]},
        "ports.0.port",
        "greater than or equal to 1",
    ),
    (
        "EndpointSlice ready not a boolean",
        {
            "kind": "EndpointSlice",
            "metadata": {"name": "s"},
            "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": "maybe"}}],
        },
        "endpoints.0.conditions.ready",
        "valid boolean",
    ),
    (
        "Endpoints address without ip",
        {"kind": "Endpoints", "metadata": {"name": "e"}, "subsets": [{"addresses": [{}]}]},
        "subsets.0.addresses.0.ip",
        "Field required",
    ),
    (
        "IngressClass name",
        {"kind": "IngressClass", "metadata": {"name": "Bad"}, "spec": {"controller": "x"}},
        "metadata.name",
        "'Bad' is not a valid DNS subdomain",
    ),
]


@pytest.mark.parametrize(
    ("raw", "field", "reason"),
    [case[1:] for case in OTHER_ERRORS],
    ids=[case[0] for case in OTHER_ERRORS],
)
def test_other_errors_name_the_field(raw: Manifest, field: str, reason: str) -> None:
    with pytest.raises(ObjectError) as raised:
        parse_object(raw)
    [(where, why)] = raised.value.fields
    assert (where, reason in why) == (field, True)


def test_every_failed_field_is_named() -> None:
    raw = _ingress_with("metadata.namespace", "Team")
    raw["spec"]["rules"][0]["http"]["paths"][0]["pathType"] = "Regex"
    with pytest.raises(ObjectError) as raised:
        parse_object(raw)
    assert [where for where, _ in raised.value.fields] == [
        "metadata.namespace",
        f"{PATH0}.pathType",
    ]
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (ingress("shop", namespace="demo"), ("Ingress", "demo", "shop")),
        ({"kind": "Ingress", "metadata": {"name": "shop"}}, ("Ingress", "default", "shop")),
        (ingress_class("haproxy"), ("IngressClass", "", "haproxy")),
        (
            {"kind": "IngressClass", "metadata": {"name": "haproxy", "namespace": "demo"}},
            ("IngressClass", "", "haproxy"),
        ),
        (service("web", namespace="demo"), ("Service", "demo", "web")),
        (endpoint_slice("web-abc", "web"), ("EndpointSlice", "default", "web-abc")),
    ],
)
def test_object_key(raw: Manifest, key: tuple[str, str, str]) -> None:
    obj = parse_object(raw)
    assert obj is not None
    assert object_key(obj) == key


@pytest.mark.parametrize(
    ("raw", "ref"),
    [
        (
            {"kind": "Ingress", "metadata": {"name": "Bad_Name", "namespace": "demo"}},
            ObjectRef(kind="Ingress", namespace="demo", name="Bad_Name"),
        ),
        ({}, ObjectRef(kind="?", namespace="", name="?")),
        ({"kind": "Service", "metadata": "oops"}, ObjectRef(kind="Service", name="?")),
        (
            {"kind": "K" * 100, "metadata": {"name": "n" * 300, "namespace": "s" * 100}},
            ObjectRef(kind="K" * 64, namespace="s" * 64, name="n" * 253),
        ),
    ],
)
def test_describe_names_even_broken_manifests(raw: Manifest, ref: ObjectRef) -> None:
    assert describe(raw) == ref


@pytest.mark.parametrize(
    "raw",
    [
        ingress_class("haproxy", default=True),
        service("web", service_port(80, "http", "web")),
        {"kind": "Secret", "metadata": {"name": "tls", "namespace": "apps"}},
        {"kind": "ConfigMap", "metadata": {"name": "cfg"}},
    ],
)
def test_an_unreadable_object_keeps_the_key_it_would_have(raw: Manifest) -> None:
    obj = parse_object(raw)
    assert obj is not None
    assert object_key(describe(raw)) == object_key(obj)


def test_an_empty_endpoint_slice_as_the_api_server_writes_it() -> None:
    """A Service with no pods: the API server writes `null` lists, not empty ones."""
    found = parse_object(
        {
            "kind": "EndpointSlice",
            "apiVersion": "discovery.k8s.io/v1",
            "metadata": {"name": "web-abc", "namespace": "default"},
            "addressType": "IPv4",
            "endpoints": None,
            "ports": None,
        }
    )
    assert isinstance(found, EndpointSlice)
    assert (found.ready, found.ports) == ((), ())
