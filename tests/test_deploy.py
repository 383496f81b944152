"""deploy/: the Deployment's flags are flags the controller takes, and its ports line up."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from ingress_ctl.cli import parse_command_line

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def manifest(relative: str) -> Any:
    """The first object of a file under deploy/."""
    return next(yaml.safe_load_all((DEPLOY / relative).read_text()))


def container() -> Any:
    """The controller container, its `$(POD_IP)` expanded as the kubelet does."""
    [found] = manifest("controller/deployment.yaml")["spec"]["template"]["spec"]["containers"]
    found["args"] = [arg.replace("$(POD_IP)", "10.1.2.3") for arg in found["args"]]
    return found


def test_the_deployment_args_parse_into_kubernetes_mode() -> None:
    args, settings = parse_command_line(container()["args"])

    assert args.command == "run"
    assert settings.mode == "kubernetes"
    assert (settings.http_port, settings.https_port, settings.status_port) == (8080, 8443, 10254)
    assert settings.publish_service == "ingress-ctl/ingress-ctl"
    assert (str(settings.status_bind_address), settings.metrics_port) == ("10.1.2.3", 10255)
    assert settings.election_id in manifest("cluster/role.yaml")["rules"][1]["resourceNames"]


def test_the_state_dir_is_the_only_writable_place() -> None:
    spec = manifest("controller/deployment.yaml")["spec"]["template"]["spec"]
    _, settings = parse_command_line(container()["args"])

    [mount] = container()["volumeMounts"]
    # an emptyDir is world-writable (0777): the controller makes its private state dir inside
    assert settings.state_dir.parent == Path(mount["mountPath"])
    assert spec["volumes"] == [{"name": mount["name"], "emptyDir": {}}]
    assert container()["securityContext"]["readOnlyRootFilesystem"] is True
    assert spec["securityContext"]["runAsNonRoot"] is True


def test_only_net_bind_service_stays_in_the_bounding_set_and_is_never_granted() -> None:
    """The image's HAProxy has the file capability cap_net_bind_service+ep: the kernel
    refuses to exec it (EPERM) when the bounding set lacks NET_BIND_SERVICE."""
    security = container()["securityContext"]

    assert security["capabilities"] == {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}
    assert security["allowPrivilegeEscalation"] is False


def test_service_and_probes_use_the_container_ports() -> None:
    ports = {port["name"]: port["containerPort"] for port in container()["ports"]}
    service = manifest("cluster/service.yaml")

    assert {p["port"]: ports[p["targetPort"]] for p in service["spec"]["ports"]} == {
        80: 8080,
        443: 8443,
    }
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        assert container()[probe]["httpGet"] == {"path": path, "port": "status"}
    assert ports["status"] == 10254


def kustomized(directory: Path) -> dict[str, Any]:
    """`kubectl kustomize directory`, by kind/name."""
    out = subprocess.run(
        ["kubectl", "kustomize", str(directory)], capture_output=True, text=True, check=True
    ).stdout
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in yaml.safe_load_all(out)}


def test_the_host_network_overlay_serves_80_and_443_with_only_net_bind_service() -> None:
    base = kustomized(DEPLOY)
    overlay = kustomized(DEPLOY / "overlays" / "host-network")
    spec = overlay["Deployment/ingress-ctl"]["spec"]["template"]["spec"]
    [found] = spec["containers"]
    _, settings = parse_command_line(found["args"])

    assert set(overlay) == set(base)
    assert spec["hostNetwork"] is True
    assert spec["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert (settings.http_port, settings.https_port, settings.status_port) == (80, 443, 10254)
    assert {p["name"]: p["containerPort"] for p in found["ports"]} == {
        "http": 80,
        "https": 443,
        "status": 10254,
    }
    assert found["securityContext"]["capabilities"] == {
        "drop": ["ALL"],
        "add": ["NET_BIND_SERVICE"],
    }
    assert found["securityContext"]["readOnlyRootFilesystem"] is True
    assert found["securityContext"]["allowPrivilegeEscalation"] is True
    assert overlay["Deployment/ingress-ctl"]["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0


def test_the_e2e_overlay_only_pins_the_image_and_adds_what_the_test_cluster_lacks() -> None:
    bare_metal = kustomized(DEPLOY / "overlays" / "host-network")
    e2e = kustomized(DEPLOY.parent / "e2e" / "overlay")
    [metal] = bare_metal["Deployment/ingress-ctl"]["spec"]["template"]["spec"]["containers"]
    [local] = e2e["Deployment/ingress-ctl"]["spec"]["template"]["spec"]["containers"]

    assert {k: v for k, v in e2e.items() if k != "Deployment/ingress-ctl"} == {
        k: v for k, v in bare_metal.items() if k != "Deployment/ingress-ctl"
    }
    assert (local["image"], local["imagePullPolicy"]) == ("ingress-ctl:local", "Never")
    assert local["args"] == [*metal["args"], "--bind-address=127.0.0.1"]
    assert local["env"][len(metal["env"]) :] == [
        {"name": "KUBERNETES_SERVICE_HOST", "value": "127.0.0.1"},
        {"name": "KUBERNETES_SERVICE_PORT", "value": "16443"},
    ]
    assert local["securityContext"] == metal["securityContext"]
