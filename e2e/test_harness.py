"""Tests of the e2e harness itself: a real API server, hand-made EndpointSlices, backends."""

from __future__ import annotations

import json
import urllib.request
from ipaddress import ip_address, ip_network
from typing import Any

import pytest

from e2e.controlplane import SERVICE_CLUSTER_IP_RANGE, ControlPlane
from e2e.fixtures import StartEcho

pytestmark = pytest.mark.e2e

BACKEND_IP = "10.244.0.10"


def service_with_endpoints(namespace: str) -> dict[str, Any]:
    """A List holding Service ``web`` and a hand-made EndpointSlice pointing at BACKEND_IP."""
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
    }
    endpoint_slice = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "web-e2e",
            "namespace": namespace,
            "labels": {
                "kubernetes.io/service-name": "web",
                "endpointslice.kubernetes.io/managed-by": "ingress-ctl-e2e",
            },
        },
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": [{"addresses": [BACKEND_IP], "conditions": {"ready": True}}],
    }
    return {"apiVersion": "v1", "kind": "List", "items": [service, endpoint_slice]}


def get_json(cp: ControlPlane, *args: str) -> dict[str, Any]:
    """``kubectl get ARGS -o json``, decoded."""
    result: dict[str, Any] = json.loads(cp.kubectl("get", *args, "-o", "json"))
    return result


def test_service_and_endpointslice_round_trip(control_plane: ControlPlane, namespace: str) -> None:
    control_plane.kubectl("apply", "-f", "-", input=json.dumps(service_with_endpoints(namespace)))

    service = get_json(control_plane, "-n", namespace, "service", "web")
    assert ip_address(service["spec"]["clusterIP"]) in ip_network(SERVICE_CLUSTER_IP_RANGE)
    slices = get_json(
        control_plane, "-n", namespace, "endpointslices", "-l", "kubernetes.io/service-name=web"
    )
    assert [s["endpoints"][0]["addresses"] for s in slices["items"]] == [[BACKEND_IP]]


def test_echo_backend_answers_from_host(echo_backend: StartEcho) -> None:
    backend = echo_backend("web-1", BACKEND_IP, 8080)
    request = urllib.request.Request(
        f"{backend.url}some/path?q=1", headers={"Host": "app.example.com"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
        assert response.headers["X-Backend"] == "web-1"
        body = json.load(response)
    headers = body.pop("headers")
    assert body == {
        "backend": "web-1",
        "method": "GET",
        "path": "/some/path?q=1",
        "host": "app.example.com",
    }
    assert headers["host"] == "app.example.com"


def test_restart_apiserver_keeps_objects(control_plane: ControlPlane, namespace: str) -> None:
    control_plane.kubectl("apply", "-f", "-", input=json.dumps(service_with_endpoints(namespace)))
    before = get_json(control_plane, "-n", namespace, "endpointslice", "web-e2e")

    control_plane.restart_apiserver()

    after = get_json(control_plane, "-n", namespace, "endpointslice", "web-e2e")
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["endpoints"] == before["endpoints"]
