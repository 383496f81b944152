"""deploy/overlays/monitoring: the ServiceMonitor and PodMonitor find the pods' /metrics."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def kustomize(folder: Path) -> dict[str, Any]:
    """The objects `kubectl kustomize folder` makes, by kind."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (e2e/ installs it)")
    output = subprocess.run(
        [kubectl, "kustomize", str(folder)], check=True, capture_output=True, text=True
    ).stdout
    return {found["kind"]: found for found in yaml.safe_load_all(output)}


def pod_template() -> Any:
    deployment = next(yaml.safe_load_all((DEPLOY / "controller" / "deployment.yaml").read_text()))
    return deployment["spec"]["template"]


def metrics_port() -> int:
    """The port of /metrics: the Deployment serves it on the pod IP (--metrics-port)."""
    [container] = pod_template()["spec"]["containers"]
    assert "--status-bind-address=$(POD_IP)" in container["args"]
    port = int(next(p["containerPort"] for p in container["ports"] if p["name"] == "metrics"))
    assert f"--metrics-port={port}" in container["args"]
    return port


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def test_service_monitor_reaches_the_metrics_port() -> None:
    made = kustomize(DEPLOY / "overlays/monitoring")
    service, monitor = made["Service"], made["ServiceMonitor"]
    assert selects(service["spec"]["selector"], pod_template()["metadata"]["labels"])
    assert selects(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"])
    [endpoint] = monitor["spec"]["endpoints"]
    [port] = service["spec"]["ports"]
    assert (endpoint["port"], endpoint["path"]) == (port["name"], "/metrics")
    assert port["targetPort"] == "metrics" and port["port"] == metrics_port()


def test_pod_monitor_reaches_the_metrics_port() -> None:
    monitor = kustomize(DEPLOY / "overlays/monitoring/pods")["PodMonitor"]
    assert selects(monitor["spec"]["selector"]["matchLabels"], pod_template()["metadata"]["labels"])
    [endpoint] = monitor["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("metrics", "/metrics")
    assert metrics_port()
