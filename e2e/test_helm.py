"""charts/ingress-ctl: `helm template` renders what deploy/ applies and what values ask.

helm is built from its Go module by e2e/build-helm.sh (cached by version); the chart's
install on the cluster is in test_cluster.py (one cluster per module).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from ingress_ctl.cli import parse_command_line

pytestmark = pytest.mark.e2e

CHART = Path(__file__).parent.parent / "charts" / "ingress-ctl"
DEPLOY = Path(__file__).parent.parent / "deploy"


def template(helm: Path, *values: str, namespace: str = "ingress-ctl") -> dict[str, Any]:
    """`helm template` of the chart as release ``ingress-ctl``, by kind/name."""
    sets = [arg for value in values for arg in ("--set", value)]
    out = subprocess.run(
        [str(helm), "template", "ingress-ctl", str(CHART), "-n", namespace, *sets],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    objects = [o for o in yaml.safe_load_all(out) if o]
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in objects}


def container(objects: dict[str, Any]) -> Any:
    """The controller container, its `$(POD_IP)` expanded as the kubelet does."""
    [found] = objects["Deployment/ingress-ctl"]["spec"]["template"]["spec"]["containers"]
    found["args"] = [arg.replace("$(POD_IP)", "10.1.2.3") for arg in found["args"]]
    return found


def test_the_defaults_render_what_deploy_applies(helm: Path) -> None:
    kustomized = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY)], capture_output=True, text=True, check=True
    ).stdout
    deployed = {f"{o['kind']}/{o['metadata']['name']}": o for o in yaml.safe_load_all(kustomized)}
    rendered = template(helm)

    assert set(rendered) == set(deployed) - {"Namespace/ingress-ctl"}
    _, settings = parse_command_line(container(rendered)["args"])
    _, expected = parse_command_line(container(deployed)["args"])
    assert settings == expected
    for key in (
        "securityContext",
        "readinessProbe",
        "livenessProbe",
        "startupProbe",
        "ports",
        "env",
    ):
        assert container(rendered)[key] == container(deployed)[key], key
    assert (
        rendered["ClusterRole/ingress-ctl"]["rules"] == deployed["ClusterRole/ingress-ctl"]["rules"]
    )


def test_values_reach_the_objects(helm: Path) -> None:
    rendered = template(
        helm,
        "replicaCount=3",
        "image.repository=registry.example/ingress-ctl",
        "image.tag=9.9",
        "ingressClass.name=edge",
        "ingressClass.default=true",
        "hostNetwork=true",
        "ports.http=80",
        "ports.https=443",
        "config.ssl-redirect=false",
        "service.type=NodePort",
        "resources.limits.memory=2Gi",
    )
    deployment = rendered["Deployment/ingress-ctl"]
    found = container(rendered)
    _, settings = parse_command_line(found["args"])

    assert deployment["spec"]["replicas"] == 3
    assert found["image"] == "registry.example/ingress-ctl:9.9"
    assert rendered["IngressClass/edge"]["metadata"]["annotations"] == {
        "ingressclass.kubernetes.io/is-default-class": "true"
    }
    assert deployment["spec"]["template"]["spec"]["hostNetwork"] is True
    assert (settings.http_port, settings.https_port) == (80, 443)
    assert found["securityContext"]["capabilities"]["add"] == ["NET_BIND_SERVICE"]
    assert found["securityContext"]["allowPrivilegeEscalation"] is True
    assert rendered["ConfigMap/ingress-ctl"]["data"] == {"ssl-redirect": "false"}
    assert settings.configmap == "ingress-ctl/ingress-ctl"
    assert rendered["Service/ingress-ctl"]["spec"]["type"] == "NodePort"
    assert found["resources"]["limits"]["memory"] == "2Gi"


def test_the_gateway_class_is_rendered_on_request_like_deploy_gatewayclass(helm: Path) -> None:
    kustomized = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY / "gatewayclass")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    [deployed] = yaml.safe_load_all(kustomized)
    rendered = template(helm, "gatewayClass.create=true")
    renamed = template(
        helm, "gatewayClass.create=true", "gatewayClass.name=edge", "ingressClass.controller=x.io/y"
    )

    assert "GatewayClass/ingress-ctl" not in template(helm)
    assert rendered["GatewayClass/ingress-ctl"]["spec"] == deployed["spec"]
    assert renamed["GatewayClass/edge"]["spec"]["controllerName"] == "x.io/y"
