"""deploy/: the Deployment's flags are flags the controller takes, and its ports line up."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from ingress_ctl.cli import parse_command_line
from ingress_ctl.model.gateway_api import API_RESOURCES

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


GATEWAY_KINDS = {found.plural for found in API_RESOURCES.values()}
"""Every Gateway API kind the controller reads (ListenerSets included): RBAC must grant each."""


def test_the_cluster_role_reads_gateway_api_objects_and_writes_only_their_status() -> None:
    rules = manifest("cluster/clusterrole.yaml")["rules"]
    gateway = [rule for rule in rules if rule["apiGroups"] == ["gateway.networking.k8s.io"]]
    reads = {
        r
        for rule in gateway
        if rule["verbs"] == ["get", "list", "watch"]
        for r in rule["resources"]
    }
    writes = {
        r for rule in gateway if rule["verbs"] == ["update", "patch"] for r in rule["resources"]
    }

    assert reads == GATEWAY_KINDS
    assert writes == {f"{kind}/status" for kind in GATEWAY_KINDS - {"referencegrants"}}
    assert len(gateway) == 2
    assert {
        "apiGroups": [""],
        "resources": ["namespaces"],
        "verbs": ["get", "list", "watch"],
    } in rules


def test_the_gateway_class_names_the_controller_by_its_default_controller_name() -> None:
    objects = kustomized(DEPLOY / "gatewayclass")
    _, settings = parse_command_line(container()["args"])

    assert list(objects) == ["GatewayClass/ingress-ctl"]
    assert objects["GatewayClass/ingress-ctl"]["spec"]["controllerName"] == settings.controller_name


def test_the_gateway_api_crds_are_the_standard_channel_of_the_suites_version() -> None:
    """Every file of deploy/gateway-api is in its kustomization, and all carry the bundle
    version the conformance suite is pinned at (e2e/gateway-conformance/go.mod)."""
    folder = DEPLOY / "gateway-api"
    go_mod = (DEPLOY.parent / "e2e" / "gateway-conformance" / "go.mod").read_text()
    [version] = re.findall(r"sigs\.k8s\.io/gateway-api/conformance (v\S+)", go_mod)
    listed = yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"]
    objects = [o for name in listed for o in yaml.safe_load_all((folder / name).read_text())]
    crds = {
        o["spec"]["names"]["plural"]: o for o in objects if o["kind"] == "CustomResourceDefinition"
    }

    assert sorted(listed) == sorted(
        p.name for p in folder.glob("*.yaml") if p.name != "kustomization.yaml"
    )
    assert set(crds) >= GATEWAY_KINDS
    for crd in crds.values():
        annotations = crd["metadata"]["annotations"]
        assert annotations["gateway.networking.k8s.io/bundle-version"] == version
        assert annotations["gateway.networking.k8s.io/channel"] == "standard"
    for kind in ("tlsroutes", "tcproutes"):
        served = {v["name"] for v in crds[kind]["spec"]["versions"] if v["served"]}
        assert "v1" in served, kind


def test_the_gateway_overlay_adds_the_gateway_class_and_the_address_pool_only() -> None:
    e2e = kustomized(DEPLOY.parent / "e2e" / "overlay")
    gateway = kustomized(DEPLOY.parent / "e2e" / "gateway-overlay")
    [before] = e2e["Deployment/ingress-ctl"]["spec"]["template"]["spec"]["containers"]
    [after] = gateway["Deployment/ingress-ctl"]["spec"]["template"]["spec"]["containers"]
    _, settings = parse_command_line(after["args"])

    assert set(gateway) == {*e2e, "GatewayClass/ingress-ctl"}
    assert after["args"] == [*before["args"], "--gateway-address-pool=127.10.0.0/24"]
    assert {k: v for k, v in after.items() if k != "args"} == {
        k: v for k, v in before.items() if k != "args"
    }
    assert str(settings.gateway_address_pool) == "127.10.0.0/24"
    assert str(settings.bind_address) == "127.0.0.1"  # Ingress listeners off 127.10.0.0/24
