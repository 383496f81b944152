"""End to end: `ingress-ctl run` against a real API server, with the RBAC of deploy/cluster.

One controller serves the whole module: a subprocess on 127.0.0.1 holding only a token
of its ServiceAccount, publishing 192.0.2.10 into the status of its Ingresses. Each test
works in a namespace of its own, with echo backends in the e2e network namespace (one
address per test, so backends never collide).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e.controller import ROOT, Controller, apply, backend_slice, install, running_controller
from e2e.controlplane import ControlPlane
from e2e.fixtures import StartEcho
from tests.http import get, wait_for
from tests.manifests import Manifest, ingress, ingress_class, path, rule, service, service_port

pytestmark = pytest.mark.e2e

PUBLISHED = "192.0.2.10"
PORT = 8080
CONVERGE_S = 15.0


@pytest.fixture(scope="module")
def kubeconfig(control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """deploy/cluster applied; a kubeconfig with the controller ServiceAccount's token."""
    return install(control_plane, tmp_path_factory.mktemp("service-account"))


@pytest.fixture(scope="module")
def controller(kubeconfig: Path) -> Iterator[Controller]:
    """The module's controller, ready (it has listed everything and HAProxy serves)."""
    with running_controller(
        kubeconfig, "--publish-address", PUBLISHED, "--sync-settle", "0.02"
    ) as running:
        running.wait_ready()
        yield running


def web(namespace: str, *addresses: str) -> tuple[Manifest, Manifest]:
    """Service `web` (port 80) and its EndpointSlice: echo backends at addresses:8080."""
    return (
        service("web", service_port(80, target=PORT), namespace=namespace),
        backend_slice("web-e2e", "web", *addresses, port=PORT, namespace=namespace),
    )


def answered_by(controller: Controller, host: str, request_path: str = "/") -> str | None:
    """The echo backend that answered through HAProxy, `404`, or None for anything else."""
    found = controller.get(host, request_path)
    if found is None:
        return None
    return "404" if found.status == 404 else found.backend


def wait_answer(controller: Controller, host: str, expected: str, request_path: str = "/") -> float:
    """Seconds until requests for host answer `expected` (a backend name, or `404`)."""
    started = time.monotonic()

    def arrived() -> bool | None:
        controller.check_running()
        return True if answered_by(controller, host, request_path) == expected else None

    wait_for(arrived, timeout=CONVERGE_S, interval=0.01)
    return time.monotonic() - started


def get_json(cp: ControlPlane, *args: str) -> Any:
    return json.loads(cp.kubectl("get", *args, "-o", "json"))


def lb_status(cp: ControlPlane, namespace: str, name: str) -> list[dict[str, str]]:
    found = get_json(cp, "-n", namespace, "ingress", name)
    entries: list[dict[str, str]] = found["status"].get("loadBalancer", {}).get("ingress", [])
    return entries


def warnings(cp: ControlPlane, namespace: str) -> list[dict[str, Any]]:
    """The Warning Events about Ingresses in namespace."""
    items: list[dict[str, Any]] = get_json(cp, "-n", namespace, "events")["items"]
    return [e for e in items if e["type"] == "Warning" and e["involvedObject"]["kind"] == "Ingress"]


def can_i(kubeconfig: Path, *request: str) -> bool:
    """`kubectl auth can-i REQUEST` with these credentials."""
    result = subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), "auth", "can-i", *request],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip() in ("yes", "no"), result.stderr
    return result.returncode == 0


ALLOWED = (
    "list ingresses.networking.k8s.io --all-namespaces",
    "watch ingressclasses.networking.k8s.io",
    "watch endpointslices.discovery.k8s.io --all-namespaces",
    "get secrets -n default",
    "list configmaps --all-namespaces",
    "patch ingresses.networking.k8s.io --subresource=status -n default",
    "create events -n default",
    "create leases.coordination.k8s.io -n ingress-ctl",
    "update leases.coordination.k8s.io/ingress-ctl-leader -n ingress-ctl",
)
DENIED = (
    "create pods -n default",
    "list pods --all-namespaces",
    "update ingresses.networking.k8s.io -n default",
    "create ingresses.networking.k8s.io -n default",
    "delete secrets -n default",
    "create secrets -n default",
    "patch services -n default",
    "update ingressclasses.networking.k8s.io",
    "delete events -n default",
    "get leases.coordination.k8s.io -n kube-system",
    "update leases.coordination.k8s.io/some-other-lease -n ingress-ctl",
    "get nodes",
)


def test_service_account_has_least_privilege(kubeconfig: Path) -> None:
    answers = {request: can_i(kubeconfig, *request.split()) for request in ALLOWED + DENIED}

    assert answers == {request: request in ALLOWED for request in ALLOWED + DENIED}


@pytest.mark.usefixtures("kubeconfig")  # deploy/cluster is in place already
def test_the_deployment_passes_server_side_validation(control_plane: ControlPlane) -> None:
    output = control_plane.kubectl("apply", "-k", str(ROOT / "deploy"), "--dry-run=server")

    assert "deployment.apps/ingress-ctl created (server dry run)" in output


def test_controller_runs_on_the_service_account_alone(controller: Controller) -> None:
    status = controller.status()
    metrics = controller.metrics()

    assert (status["mode"], status["ready"]) == ("kubernetes", True)
    assert metrics["ingress_ctl_leader"] == 1.0
    assert status["leader"] is True
    assert "<dd>kubernetes (leader)</dd>" in get(controller.status_port, "/").text
    assert metrics['ingress_ctl_informer_lists_total{kind="IngressClass",reason="start"}'] == 1.0


def test_an_applied_ingress_is_served_within_two_seconds(
    control_plane: ControlPlane, controller: Controller, namespace: str, echo_backend: StartEcho
) -> None:
    echo_backend("fast", "10.244.0.11", PORT)
    apply(control_plane, *web(namespace, "10.244.0.11"))
    host = f"fast.{namespace}.test"

    started = time.monotonic()
    apply(control_plane, ingress("web", rule(host, path("/")), namespace=namespace))
    wait_answer(controller, host, "fast")
    elapsed = time.monotonic() - started

    assert elapsed < 2.0, f"kubectl apply to first 200 took {elapsed:.2f} s"


def test_changed_hosts_paths_and_endpoints_are_applied_and_deletion_404s(
    control_plane: ControlPlane, controller: Controller, namespace: str, echo_backend: StartEcho
) -> None:
    echo_backend("one", "10.244.0.12", PORT)
    echo_backend("two", "10.244.0.13", PORT)
    first, second = f"first.{namespace}.test", f"second.{namespace}.test"
    apply(control_plane, *web(namespace, "10.244.0.12"))
    apply(control_plane, ingress("web", rule(first, path("/a")), namespace=namespace))
    wait_answer(controller, first, "one", "/a")

    apply(control_plane, ingress("web", rule(second, path("/b")), namespace=namespace))
    wait_answer(controller, second, "one", "/b")
    assert answered_by(controller, first, "/a") == "404"
    assert answered_by(controller, second, "/a") == "404"

    apply(control_plane, web(namespace, "10.244.0.13")[1])
    wait_answer(controller, second, "two", "/b")

    control_plane.kubectl("delete", "-n", namespace, "ingress", "web")
    wait_answer(controller, second, "404", "/b")


def test_status_is_published_for_our_ingresses_only(
    control_plane: ControlPlane, controller: Controller, namespace: str, echo_backend: StartEcho
) -> None:
    echo_backend("status", "10.244.0.14", PORT)
    ours, theirs = f"ours.{namespace}.test", f"theirs.{namespace}.test"
    apply(
        control_plane,
        ingress_class("other", "example.com/other"),
        *web(namespace, "10.244.0.14"),
        ingress("theirs", rule(theirs, path("/")), namespace=namespace, class_name="other"),
        ingress("ours", rule(ours, path("/")), namespace=namespace),
    )
    wait_answer(controller, ours, "status")
    wait_for(lambda: lb_status(control_plane, namespace, "ours") or None, timeout=CONVERGE_S)

    assert lb_status(control_plane, namespace, "ours") == [{"ip": PUBLISHED}]
    assert lb_status(control_plane, namespace, "theirs") == []
    assert answered_by(controller, theirs) == "404"
    [report] = [r for r in controller.status()["ingresses"] if r["source"]["name"] == "theirs"]
    assert report["state"] == "ignored"


def test_an_ingress_without_its_service_gets_one_warning_event(
    control_plane: ControlPlane, controller: Controller, namespace: str
) -> None:
    apply(
        control_plane,
        ingress("broken", rule("broken.test", path("/", "missing")), namespace=namespace),
    )
    uid = get_json(control_plane, "-n", namespace, "ingress", "broken")["metadata"]["uid"]
    [event] = wait_for(lambda: warnings(control_plane, namespace) or None, timeout=CONVERGE_S)

    # Another sync with the same problem writes nothing new.
    revision = controller.status()["last_sync"]["revision"]
    control_plane.kubectl("create", "configmap", "nudge", "-n", namespace)
    wait_for(
        lambda: controller.status()["last_sync"]["revision"] > revision or None,
        timeout=CONVERGE_S,
    )
    time.sleep(0.3)  # the reporter looks at each sync within 0.1 s

    assert warnings(control_plane, namespace) == [event]
    assert event["reason"] == "ServiceNotFound"
    assert event["count"] == 1
    assert event["involvedObject"]["uid"] == uid
    assert f"Service {namespace}/missing not found" in event["message"]


@pytest.mark.usefixtures("kubeconfig")  # deploy/cluster: the publish Service
def test_followers_serve_and_a_new_leader_takes_over(
    control_plane: ControlPlane, namespace: str, echo_backend: StartEcho
) -> None:
    """Two replicas of a controller of their own (own class, Lease and namespace)."""
    echo_backend("pair", "10.244.0.15", PORT)
    controller_name = f"e2e.example.com/{namespace}"
    host = f"pair.{namespace}.test"
    apply(
        control_plane,
        ingress_class(namespace, controller_name),
        *web(namespace, "10.244.0.15"),
        ingress("web", rule(host, path("/")), namespace=namespace, class_name=namespace),
    )
    flags = (
        "--controller-name", controller_name, "--watch-namespace", namespace,
        "--controller-namespace", namespace, "--election-id", "pair",
        "--publish-service", "ingress-ctl/ingress-ctl",
    )  # fmt: skip
    with (
        running_controller(control_plane.kubeconfig, *flags) as first,
        running_controller(control_plane.kubeconfig, *flags) as second,
    ):
        first.wait_ready()
        second.wait_ready()
        leader, follower = wait_for(lambda: _leader_first(first, second), timeout=CONVERGE_S)
        cluster_ip = get_json(control_plane, "-n", "ingress-ctl", "service", "ingress-ctl")["spec"][
            "clusterIP"
        ]

        wait_answer(follower, host, "pair")
        wait_answer(leader, host, "pair")
        wait_for(lambda: lb_status(control_plane, namespace, "web") or None, timeout=CONVERGE_S)
        assert lb_status(control_plane, namespace, "web") == [{"ip": cluster_ip}]

        leader.process.terminate()  # a graceful stop releases the Lease
        wait_for(lambda: follower.metrics()["ingress_ctl_leader"] == 1.0 or None, timeout=5.0)
        assert answered_by(follower, host) == "pair"


def _leader_first(*controllers: Controller) -> tuple[Controller, Controller] | None:
    leaders = [c for c in controllers if c.metrics()["ingress_ctl_leader"] == 1.0]
    if len(leaders) != 1:
        return None
    [follower] = [c for c in controllers if c is not leaders[0]]
    return leaders[0], follower


def test_api_server_restart_loses_no_update_and_expired_watches_relist(
    control_plane: ControlPlane, controller: Controller, namespace: str, echo_backend: StartEcho
) -> None:
    echo_backend("before", "10.244.0.16", PORT)
    echo_backend("after", "10.244.0.17", PORT)
    old, new = f"old.{namespace}.test", f"new.{namespace}.test"
    apply(control_plane, *web(namespace, "10.244.0.16"))
    apply(control_plane, ingress("old", rule(old, path("/")), namespace=namespace))
    wait_answer(controller, old, "before")
    expired = _expired_lists(controller)

    control_plane.restart_apiserver()
    # Made while the controller's watches are broken and backing off.
    apply(
        control_plane,
        web(namespace, "10.244.0.17")[1],
        ingress("new", rule(new, path("/")), namespace=namespace),
    )

    wait_answer(controller, old, "after")
    wait_answer(controller, new, "after")
    assert _expired_lists(controller) > expired, controller.log.read_text()[-30000:]


def _expired_lists(controller: Controller) -> float:
    """Relists after 410 Gone, all kinds together."""
    return sum(
        value
        for name, value in controller.metrics().items()
        if name.startswith("ingress_ctl_informer_lists_total") and 'reason="expired"' in name
    )
