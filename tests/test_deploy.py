"""deploy/: the Deployment's flags are flags the controller takes, and its ports line up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ingress_ctl.cli import parse_command_line

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def manifest(relative: str) -> Any:
    """The first object of a file under deploy/."""
    return next(yaml.safe_load_all((DEPLOY / relative).read_text()))


def container() -> Any:
    [found] = manifest("controller/deployment.yaml")["spec"]["template"]["spec"]["containers"]
    return found


def test_the_deployment_args_parse_into_kubernetes_mode() -> None:
    args, settings = parse_command_line(container()["args"])

    assert args.command == "run"
    assert settings.mode == "kubernetes"
    assert (settings.http_port, settings.https_port, settings.status_port) == (8080, 8443, 10254)
    assert settings.publish_service == "ingress-ctl/ingress-ctl"
    assert settings.election_id in manifest("cluster/role.yaml")["rules"][1]["resourceNames"]


def test_the_state_dir_is_the_only_writable_place() -> None:
    spec = manifest("controller/deployment.yaml")["spec"]["template"]["spec"]
    _, settings = parse_command_line(container()["args"])

    [mount] = container()["volumeMounts"]
    assert Path(mount["mountPath"]) == settings.state_dir
    assert spec["volumes"] == [{"name": mount["name"], "emptyDir": {}}]
    assert container()["securityContext"]["readOnlyRootFilesystem"] is True
    assert spec["securityContext"]["runAsNonRoot"] is True


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
