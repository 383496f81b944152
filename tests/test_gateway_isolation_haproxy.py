"""Listener isolation through translation and the real HAProxy, to real echo backends.

The conformance suite's GatewayHTTPListenerIsolation Gateway (with hostname intersection):
four HTTP listeners on one port (no hostname, `*.example.com`, `*.foo.example.com`,
`abc.foo.example.com`), a route on each naming all four hostnames; a request is served
only by the route of the most specific listener its host matches, else 404.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from ingress_ctl.model.settings import Settings
from tests.conftest import free_port
from tests.http import request
from tests.manifests import endpoint, endpoint_slice, from_yaml, run, service, service_port
from tests.test_gateway_haproxy import GatewayProxy, answered, echoes, proxy

pytestmark = pytest.mark.haproxy
__all__ = ("echoes", "proxy")

LISTENERS = {
    "empty": None,
    "wild": "*.example.com",
    "deep": "*.foo.example.com",
    "admin": "abc.foo.example.com",
}
"""Listener name (and the echo backend of its route) -> its hostname."""
HOSTNAMES = ["bar.com", "*.example.com", "*.foo.example.com", "abc.foo.example.com"]


def manifests(port: int, echoes: dict[str, tuple[str, int]]) -> list[dict[str, Any]]:
    listeners = [
        {"name": name, "port": port, "protocol": "HTTP"} | ({"hostname": host} if host else {})
        for name, host in LISTENERS.items()
    ]
    found = from_yaml(f"""
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: ours}}
spec: {{controllerName: ingress-ctl.io/haproxy}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: infra}}
spec:
  gatewayClassName: ours
  addresses: [{{value: 127.0.0.1}}]
  listeners: {yaml.safe_dump(listeners, default_flow_style=True).strip()}
""")
    for name in LISTENERS:
        address, echo_port = echoes["web" if name == "empty" else name]
        backend = f"svc-{name}"
        found += [
            service(backend, service_port(8080), namespace="infra"),
            endpoint_slice(
                backend, backend, endpoint(address), ports=((None, echo_port),), namespace="infra"
            ),
            {
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "HTTPRoute",
                "metadata": {"name": name, "namespace": "infra"},
                "spec": {
                    "parentRefs": [{"name": "gw", "sectionName": name}],
                    "hostnames": HOSTNAMES,
                    "rules": [
                        {
                            "matches": [{"path": {"type": "PathPrefix", "value": f"/{name}"}}],
                            "backendRefs": [{"name": backend, "port": 8080}],
                        }
                    ],
                },
            },
        ]
    return found


REQUESTS = {
    # host: the route (by path) that serves it; every other path answers 404
    "bar.com": "empty",
    "bar.example.com": "wild",
    "bar.foo.example.com": "deep",
    "abc.foo.example.com": "admin",
}


async def test_a_request_is_served_only_by_its_most_specific_listener(
    proxy: GatewayProxy, echoes: dict[str, tuple[str, int]]
) -> None:
    port = free_port()
    translation = run(
        *manifests(port, echoes), settings=Settings(gateway_address_pool="127.0.0.0/8")
    )
    await proxy.apply(translation.routing)
    seen = {}
    for host in REQUESTS:
        for name in LISTENERS:
            response = request(port, f"/{name}/x", host=host)
            seen[host, name] = answered(response)["backend"] if response.status == 200 else 404
    expected = {
        (host, name): ("web" if name == "empty" else name) if name == owner else 404
        for host, owner in REQUESTS.items()
        for name in LISTENERS
    }
    assert seen == expected
