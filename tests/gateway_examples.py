"""One object of every Gateway API kind (and a labelled Namespace), as users write them.

Plain dicts, as a YAML file or the API server gives them: file-mode tests load
them from disk, e2e tests apply them to a real API server (whose CRD schemas
they must pass).
"""

from __future__ import annotations

from typing import Any

Manifest = dict[str, Any]

V1 = "gateway.networking.k8s.io/v1"
CLASS = "ingress-ctl"
KINDS = (
    "Namespace",
    "GatewayClass",
    "Gateway",
    "HTTPRoute",
    "GRPCRoute",
    "TLSRoute",
    "TCPRoute",
    "ReferenceGrant",
    "ListenerSet",
    "BackendTLSPolicy",
)
"""What `gateway_api_objects` holds, one of each, in this order."""


def gateway_api_objects(
    namespace: str, *, controller: str = "ingress-ctl.io/haproxy"
) -> list[Manifest]:
    """A Namespace labelled for allowedRoutes, our GatewayClass, a Gateway with HTTP, TLS and
    TCP listeners, a route of each kind attached to it, a ReferenceGrant, a ListenerSet
    (the Gateway does not admit it), and a BackendTLSPolicy."""
    meta = {"namespace": namespace}
    parent = [{"name": "gw"}]
    backend = [{"name": "web", "port": 80}]
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": namespace, "labels": {"gateway-access": "yes"}},
        },
        {
            "apiVersion": V1,
            "kind": "GatewayClass",
            "metadata": {"name": f"{CLASS}-{namespace}"},
            "spec": {"controllerName": controller},
        },
        {
            "apiVersion": V1,
            "kind": "Gateway",
            "metadata": {"name": "gw", **meta},
            "spec": {
                "gatewayClassName": f"{CLASS}-{namespace}",
                "listeners": [
                    {
                        "name": "http",
                        "port": 80,
                        "protocol": "HTTP",
                        "allowedRoutes": {
                            "namespaces": {
                                "from": "Selector",
                                "selector": {"matchLabels": {"gateway-access": "yes"}},
                            }
                        },
                    },
                    {
                        "name": "tls",
                        "port": 443,
                        "protocol": "TLS",
                        "hostname": "*.example.com",
                        "tls": {"mode": "Passthrough"},
                    },
                    {"name": "tcp", "port": 5432, "protocol": "TCP"},
                ],
            },
        },
        {
            "apiVersion": V1,
            "kind": "HTTPRoute",
            "metadata": {"name": "web", **meta},
            "spec": {
                "parentRefs": [{"name": "gw", "sectionName": "http"}],
                "hostnames": ["www.example.com"],
                "rules": [
                    {
                        "matches": [{"path": {"type": "PathPrefix", "value": "/shop"}}],
                        "backendRefs": backend,
                    }
                ],
            },
        },
        {
            "apiVersion": V1,
            "kind": "GRPCRoute",
            "metadata": {"name": "grpc", **meta},
            "spec": {
                "parentRefs": parent,
                "rules": [
                    {
                        "matches": [{"method": {"service": "echo.Echo", "method": "Say"}}],
                        "backendRefs": backend,
                    }
                ],
            },
        },
        {
            "apiVersion": V1,
            "kind": "TLSRoute",
            "metadata": {"name": "tls", **meta},
            "spec": {
                "parentRefs": [{"name": "gw", "sectionName": "tls"}],
                "hostnames": ["db.example.com"],
                "rules": [{"backendRefs": [{"name": "db", "port": 443}]}],
            },
        },
        {
            "apiVersion": V1,
            "kind": "TCPRoute",
            "metadata": {"name": "tcp", **meta},
            "spec": {
                "parentRefs": [{"name": "gw", "sectionName": "tcp"}],
                "rules": [{"backendRefs": [{"name": "db", "port": 5432}]}],
            },
        },
        {
            "apiVersion": V1,
            "kind": "ReferenceGrant",
            "metadata": {"name": "from-routes", **meta},
            "spec": {
                "from": [
                    {
                        "group": "gateway.networking.k8s.io",
                        "kind": "HTTPRoute",
                        "namespace": "other",
                    }
                ],
                "to": [{"group": "", "kind": "Service"}],
            },
        },
        {
            "apiVersion": V1,
            "kind": "ListenerSet",
            "metadata": {"name": "extra", **meta},
            "spec": {
                "parentRef": {"name": "gw"},
                "listeners": [
                    {"name": "extra", "port": 8080, "protocol": "HTTP", "hostname": "x.example.com"}
                ],
            },
        },
        {
            "apiVersion": V1,
            "kind": "BackendTLSPolicy",
            "metadata": {"name": "web-tls", **meta},
            "spec": {
                "targetRefs": [{"group": "", "kind": "Service", "name": "web"}],
                "validation": {"wellKnownCACertificates": "System", "hostname": "web.example.com"},
            },
        },
    ]
