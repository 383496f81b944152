"""Generated clusters for benchmarks: N Ingresses (one host, 3 paths each), N Services,
and E endpoints per Service in one EndpointSlice each, as raw manifests."""

from __future__ import annotations

from typing import Any

Manifest = dict[str, Any]
NAMESPACE = "bench"


def ingress_class() -> Manifest:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {"name": "haproxy"},
        "spec": {"controller": "ingress-ctl.io/haproxy"},
    }


def ingress(index: int, *, service: str | None = None) -> Manifest:
    backend = {"service": {"name": service or f"svc{index}", "port": {"number": 80}}}
    paths = [
        {"path": path, "pathType": kind, "backend": backend}
        for path, kind in (("/", "Prefix"), ("/api", "Prefix"), ("/healthz", "Exact"))
    ]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": f"ing{index}", "namespace": NAMESPACE},
        "spec": {
            "ingressClassName": "haproxy",
            "rules": [{"host": f"host{index}.example.com", "http": {"paths": paths}}],
        },
    }


def service(index: int) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"svc{index}", "namespace": NAMESPACE},
        "spec": {"ports": [{"port": 80, "targetPort": 8080}]},
    }


def endpoint_slice(index: int, endpoints: int, *, generation: int = 0) -> Manifest:
    base = index * endpoints + generation
    addresses = [
        {"addresses": [f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"]}
        for n in range(base + 1, base + endpoints + 1)
    ]
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"svc{index}-abcde",
            "namespace": NAMESPACE,
            "labels": {"kubernetes.io/service-name": f"svc{index}"},
        },
        "addressType": "IPv4",
        "ports": [{"port": 8080}],
        "endpoints": addresses,
    }


def cluster(ingresses: int, *, endpoints: int) -> list[Manifest]:
    """The whole generated cluster."""
    found = [ingress_class()]
    for index in range(ingresses):
        found += [ingress(index), service(index), endpoint_slice(index, endpoints)]
    return found
