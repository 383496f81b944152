"""Tiny builders for manifests, and compact views of what translation made of them.

Builders return plain dicts, exactly what a YAML file or the API server gives,
so every test goes through `parse_object` like the controller does. Views turn
a Translation into short tuples and strings that a table test can compare.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import yaml

from ingress_ctl.model import matching
from ingress_ctl.model.objects import parse_object
from ingress_ctl.model.routing import Certificate
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import Resolved, Snapshot
from ingress_ctl.translation import Translation, translate

Manifest = dict[str, Any]

CONTROLLER = "ingress-ctl.io/haproxy"


def created(minute: int) -> str:
    """A creationTimestamp `minute` minutes after a fixed instant: smaller is older."""
    return f"2024-01-01T{minute // 60:02d}:{minute % 60:02d}:00Z"


def meta(name: str, namespace: str | None = "default", **extra: Any) -> Manifest:
    found: Manifest = {"name": name}
    if namespace is not None:
        found["namespace"] = namespace
    found.update({key: value for key, value in extra.items() if value is not None})
    return found


def ingress_class(
    name: str = "haproxy", controller: str = CONTROLLER, *, default: bool = False
) -> Manifest:
    annotations = {"ingressclass.kubernetes.io/is-default-class": "true"} if default else None
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": meta(name, None, annotations=annotations),
        "spec": {"controller": controller},
    }


def backend(service: str, port: int | str) -> Manifest:
    """An IngressBackend naming a Service port by number (int) or by name (str)."""
    key = "number" if isinstance(port, int) else "name"
    return {"service": {"name": service, "port": {key: port}}}


def path(
    value: str | None, service: str = "web", port: int | str = 80, kind: str = "Prefix"
) -> Manifest:
    found: Manifest = {"pathType": kind, "backend": backend(service, port)}
    if value is not None:
        found["path"] = value
    return found


def rule(host: str | None, *paths: Manifest) -> Manifest:
    found: Manifest = {"http": {"paths": list(paths)}} if paths else {}
    if host is not None:
        found["host"] = host
    return found


def ingress(
    name: str,
    *rules: Manifest,
    namespace: str = "default",
    class_name: str | None = "haproxy",
    default: Manifest | None = None,
    minute: int | None = None,
    annotations: dict[str, str] | None = None,
    tls: list[Manifest] | None = None,
) -> Manifest:
    spec: Manifest = {}
    if class_name is not None:
        spec["ingressClassName"] = class_name
    if default is not None:
        spec["defaultBackend"] = default
    if rules:
        spec["rules"] = list(rules)
    if tls is not None:
        spec["tls"] = tls
    stamp = created(minute) if minute is not None else None
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": meta(name, namespace, creationTimestamp=stamp, annotations=annotations),
        "spec": spec,
    }


def tls(secret: str | None, *hosts: str) -> Manifest:
    """One `spec.tls` entry of an Ingress."""
    found: Manifest = {"hosts": list(hosts)}
    if secret is not None:
        found["secretName"] = secret
    return found


def tls_secret(
    name: str,
    chain_pem: bytes,
    key_pem: bytes,
    *,
    namespace: str = "default",
    kind: str = "kubernetes.io/tls",
    string_data: bool = False,
) -> Manifest:
    """A TLS Secret: base64 `data` as the API server gives, or `stringData` as files may."""
    if string_data:
        body: Manifest = {
            "stringData": {"tls.crt": chain_pem.decode(), "tls.key": key_pem.decode()}
        }
    else:
        encoded = {"tls.crt": chain_pem, "tls.key": key_pem}
        body = {"data": {key: base64.b64encode(value).decode() for key, value in encoded.items()}}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta(name, namespace),
        "type": kind,
    } | body


def configmap(name: str, data: dict[str, str], *, namespace: str = "default") -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta(name, namespace),
        "data": data,
    }


def service_port(
    port: int = 80, name: str | None = None, target: int | str | None = None
) -> Manifest:
    found: Manifest = {"port": port}
    if name is not None:
        found["name"] = name
    if target is not None:
        found["targetPort"] = target
    return found


def service(
    name: str = "web",
    *ports: Manifest,
    namespace: str = "default",
    external_name: str | None = None,
    annotations: dict[str, str] | None = None,
) -> Manifest:
    spec: Manifest = {"ports": list(ports) or [service_port(80, target=8080)]}
    if external_name is not None:
        spec.update(type="ExternalName", externalName=external_name)
    metadata = meta(name, namespace, annotations=annotations)
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}


def endpoint(
    *addresses: str,
    ready: bool | None = None,
    serving: bool | None = None,
    terminating: bool | None = None,
) -> Manifest:
    conditions = {"ready": ready, "serving": serving, "terminating": terminating}
    found: Manifest = {"addresses": list(addresses)}
    if any(value is not None for value in conditions.values()):
        found["conditions"] = {k: v for k, v in conditions.items() if v is not None}
    return found


def endpoint_slice(
    name: str,
    service_name: str | None,
    *endpoints: Manifest,
    ports: Iterable[tuple[str | None, int]] = ((None, 8080),),
    namespace: str = "default",
    address_type: str = "IPv4",
) -> Manifest:
    labels = {"kubernetes.io/service-name": service_name} if service_name else None
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": meta(name, namespace, labels=labels),
        "addressType": address_type,
        "ports": [{"port": port} | ({"name": n} if n is not None else {}) for n, port in ports],
        "endpoints": list(endpoints),
    }


def legacy_endpoints(
    name: str,
    addresses: Iterable[str],
    *,
    not_ready: Iterable[str] = (),
    ports: Iterable[tuple[str | None, int]] = ((None, 8080),),
    namespace: str = "default",
) -> Manifest:
    subset = {
        "addresses": [{"ip": ip} for ip in addresses],
        "notReadyAddresses": [{"ip": ip} for ip in not_ready],
        "ports": [{"port": port} | ({"name": n} if n is not None else {}) for n, port in ports],
    }
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": meta(name, namespace),
        "subsets": [subset],
    }


def from_yaml(text: str) -> list[Manifest]:
    """The documents of a multi-document YAML string."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def snapshot(manifests: Iterable[Manifest]) -> Snapshot:
    objects = []
    for raw in manifests:
        obj = parse_object(raw)
        assert obj is not None, raw
        objects.append(obj)
    return Snapshot.of(objects)


def run(
    *manifests: Manifest,
    settings: Settings | None = None,
    fallback_certificate: Certificate | None = None,
    resolved: Resolved | None = None,
) -> Translation:
    """Translate these manifests (an IngressClass `haproxy` of ours is always present), with
    what ExternalNames resolve to."""
    everything = [ingress_class(), *manifests]
    return translate(
        replace(snapshot(everything), resolved=resolved or {}),
        settings=settings or Settings(),
        fallback_certificate=fallback_certificate,
    )


# Views: compact, comparable parts of a Translation.


def routes(translation: Translation) -> list[str]:
    """Every route as `host path Type -> backend [namespace/name]` ("*" for any host)."""
    return [
        f"{route.host or '*'} {route.path} {route.path_type} -> {route.backend} "
        f"[{route.source.namespace}/{route.source.name}]"
        for vhost in translation.routing.hosts
        for route in vhost.routes
    ]


def problems(translation: Translation) -> list[tuple[str, str, str]]:
    """Every problem as (`namespace/name`, field, severity)."""
    return [
        (f"{p.source.namespace}/{p.source.name}", p.field, p.severity) for p in translation.problems
    ]


def states(translation: Translation) -> dict[str, str]:
    """Each Ingress's report state, by name."""
    return {report.source.name: report.state for report in translation.ingresses}


def servers(translation: Translation, backend_name: str) -> list[str]:
    """The `address:port` of every server of one backend."""
    found = translation.routing.backend(backend_name)
    return [f"{server.address}:{server.port}" for server in found.servers]


def where(translation: Translation, host: str, request_path: str) -> str:
    """The backend a request reaches, via the same table HAProxy's maps hold."""
    table = matching.build_table(translation.routing)
    return matching.lookup(table, routing=translation.routing, host=host, path=request_path).backend
