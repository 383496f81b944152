"""In-cluster e2e: the image from the Dockerfile, deployed with `kubectl apply -k`, on a real node.

The controller runs as two pods of ``e2e/overlay`` (the bare-metal host-network overlay plus
the local image and the API server's address), on HAProxy 3.0 from the image. Echo backends
are pods of the Gateway API's echo-basic on the CNI bridge; requests go to 127.0.0.1:80.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from e2e.cluster import APISERVER_PORT, Cluster
from tests.http import Response, get, get_or_none, wait_for
from tests.loadgen import Load, LoadGenerator

pytestmark = pytest.mark.e2e

OVERLAY = Path(__file__).with_name("overlay")
CHART = Path(__file__).parent.parent / "charts" / "ingress-ctl"
NAMESPACE = "ingress-ctl"
ECHO_NS = "echo"
HOST = "echo.test"
HTTP_PORT, STATUS_PORT = 80, 10254

ECHO = Path(__file__).parent.parent / "examples" / "echo.yaml"
"""Echo pods (Gateway API echo-basic) behind an Ingress for ``echo.test``, as users try it."""

# Run inside a controller pod with its own ServiceAccount token: what the API says to each
# request (method, path) -> status code.
RBAC_PROBE = """
import json, ssl, urllib.request
sa = "/var/run/secrets/kubernetes.io/serviceaccount"
token = open(sa + "/token").read()
context = ssl.create_default_context(cafile=sa + "/ca.crt")
out = {}
for method, path, body in json.loads(__import__("sys").argv[1]):
    request = urllib.request.Request(
        "https://127.0.0.1:%d" + path, method=method, data=body and json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            out[method + " " + path] = response.status
    except urllib.error.HTTPError as error:
        out[method + " " + path] = error.code
print(json.dumps(out))
""".replace("%d", str(APISERVER_PORT))

SHOW_PROC = """
import socket
s = socket.socket(socket.AF_UNIX)
s.connect("/var/run/ingress-ctl/state/master.sock")
s.sendall(b"show proc\\n")
s.shutdown(socket.SHUT_WR)
print(b"".join(iter(lambda: s.recv(65536), b"")).decode())
"""


@dataclass
class Deployed:
    """The cluster with the controller and the echo backends applied."""

    cluster: Cluster

    def kubectl(self, *args: str, timeout: float = 120.0) -> str:
        return self.cluster.kubectl(*args, timeout=timeout)

    def pods(self, namespace: str, selector: str) -> set[str]:
        """Names of the Running, not terminating pods matching ``selector``."""
        out = self.kubectl("get", "pods", "-n", namespace, "-l", selector, "-o", "json")
        return {
            item["metadata"]["name"]
            for item in json.loads(out)["items"]
            if item["status"].get("phase") == "Running"
            and "deletionTimestamp" not in item["metadata"]
        }

    def controllers(self) -> set[str]:
        return self.pods(NAMESPACE, "app.kubernetes.io/name=ingress-ctl")

    def echo(self) -> Response:
        return get(HTTP_PORT, "/", host=HOST)

    def answering_pods(self, samples: int = 40) -> set[str]:
        """The echo pods that answered ``samples`` requests."""
        found = set()
        for _ in range(samples):
            response = get_or_none(HTTP_PORT, "/", host=HOST)
            if response is not None and response.status == 200:
                found.add(str(response.json()["pod"]))
        return found

    def leader(self) -> str:
        """The pod holding the Lease (its identity is `<pod>_<random suffix>`)."""
        identity = self.kubectl(
            "get", "lease", "ingress-ctl-leader", "-n", NAMESPACE,
            "-o", "jsonpath={.spec.holderIdentity}",
        ).strip()  # fmt: skip
        return identity.rpartition("_")[0]

    def exec_python(self, pod: str, script: str, *args: str) -> str:
        return self.kubectl("exec", "-n", NAMESPACE, pod, "--", "python3", "-c", script, *args)

    def reloads(self) -> dict[str, int]:
        """Per controller pod, how often its HAProxy master reloaded (`show proc`)."""
        counts = {}
        for pod in self.controllers():
            master = next(
                line for line in self.exec_python(pod, SHOW_PROC).splitlines() if " master " in line
            )
            counts[pod] = int(master.split()[2])
        return counts

    def rollout(self, kind_name: str, namespace: str) -> None:
        self.kubectl("rollout", "status", kind_name, "-n", namespace, "--timeout=180s", timeout=200)


@pytest.fixture(scope="module")
def deployed(cluster: Cluster) -> Iterator[Deployed]:
    """deploy/ applied through e2e/overlay, plus echo-basic pods behind an Ingress."""
    found = Deployed(cluster)
    found.kubectl("delete", "namespace", ECHO_NS, "--ignore-not-found", "--timeout=120s")
    image = cluster.import_images()
    found.kubectl("apply", "-k", str(OVERLAY))
    # `ingress-ctl:local` may have moved to a newer build under running pods: name the build.
    found.kubectl("set", "image", "deployment/ingress-ctl", "-n", NAMESPACE, f"controller={image}")
    found.rollout("deployment/ingress-ctl", NAMESPACE)
    cluster.kubectl("apply", "-f", str(ECHO))
    found.rollout("deployment/echo", ECHO_NS)
    wait_for(
        lambda: True if (r := get_or_none(HTTP_PORT, "/", host=HOST)) and r.status == 200 else None,
        timeout=30,
    )
    yield found
    cluster.kubectl("delete", "namespace", ECHO_NS, "--timeout=120s")


def run_load(during: Iterator[None]) -> Load:
    """Bounded load (one keep-alive and one closing client) while ``during`` runs."""
    load = LoadGenerator(port=HTTP_PORT, host=HOST, path="/", clients=2, requests=200_000)
    load.start()
    try:
        for _ in during:
            pass
    finally:
        result = load.stop()
    return result


def assert_no_lost_request(load: Load) -> None:
    """Every request answered 200, except at most one keep-alive request of the thousands
    sent that met a connection closed without an answer (open: seen about once per 10,000
    requests across a replica's stop or a reload, never on new connections)."""
    assert load.total > 100
    assert set(load.statuses) == {200}, load.statuses
    assert len(load.errors) <= 1, load.errors
    assert all(error.startswith("RemoteDisconnected") for error in load.errors), load.errors


def test_controller_pods_become_ready_through_their_probes(deployed: Deployed) -> None:
    out = deployed.kubectl("get", "pods", "-n", NAMESPACE, "-o", "json")
    pods = [p for p in json.loads(out)["items"] if "deletionTimestamp" not in p["metadata"]]

    assert len(pods) == 2
    for pod in pods:
        [container] = pod["spec"]["containers"]
        assert "master.sock" in container["readinessProbe"]["exec"]["command"][-1]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        ready = {c["type"]: c["status"] for c in pod["status"]["conditions"]}["Ready"]
        assert ready == "True"
        assert pod["spec"]["hostNetwork"] is True
        assert pod["spec"]["securityContext"]["runAsUser"] == 10001


def test_the_image_runs_haproxy_3_0_and_says_so_in_status(deployed: Deployed) -> None:
    status = get(STATUS_PORT, "/status").json()

    assert status["mode"] == "kubernetes"
    assert status["haproxy_version"].startswith("3.0.")
    assert status["ready"] is True


def test_an_ingress_applied_with_kubectl_answers_from_the_echo_pods(deployed: Deployed) -> None:
    response = deployed.echo()
    body = response.json()

    assert response.status == 200
    assert body["namespace"] == ECHO_NS
    assert body["path"] == "/"
    assert body["host"] == HOST
    assert deployed.answering_pods() == deployed.pods(ECHO_NS, "app=echo")


def scale_echo(deployed: Deployed, replicas: int) -> Iterator[None]:
    """Scale echo to ``replicas`` and wait until exactly its pods answer."""
    deployed.kubectl("scale", "deployment/echo", "-n", ECHO_NS, f"--replicas={replicas}")
    deployed.rollout("deployment/echo", ECHO_NS)
    expected = wait_for(
        lambda: pods if len(pods := deployed.pods(ECHO_NS, "app=echo")) == replicas else None,
        timeout=60,
        interval=0.5,
    )
    wait_for(
        lambda: True if deployed.answering_pods() == expected else None,
        timeout=30,
        interval=0.2,
    )
    yield


def test_scaling_changes_the_served_pods_without_reload_or_failed_request(
    deployed: Deployed,
) -> None:
    """2→5→1→2. Backends get 4 server slots (ingress_ctl/haproxy/slots.py): 5 pods outgrow them, a
    by-design reload that doubles them; every other step is runtime-API only.

    """
    reloads = [deployed.reloads()]

    def steps() -> Iterator[None]:
        for replicas in (5, 1, 2):
            yield from scale_echo(deployed, replicas)
            reloads.append(deployed.reloads())

    load = run_load(steps())

    assert_no_lost_request(load)
    before, at_five, at_one, at_two = reloads
    assert at_five == {pod: count + 1 for pod, count in before.items()}
    assert at_one == at_five
    assert at_two == at_five


def test_deleting_a_controller_pod_keeps_serving_and_moves_the_lease(deployed: Deployed) -> None:
    leader = wait_for(
        lambda: pod if (pod := deployed.leader()) in deployed.controllers() else None,
        timeout=60,
        interval=0.5,
    )

    def delete_leader() -> Iterator[None]:
        deployed.kubectl("delete", "pod", "-n", NAMESPACE, leader, "--wait=true")
        wait_for(
            lambda: True if deployed.leader() not in ("", leader) else None,
            timeout=60,
            interval=0.5,
        )
        yield

    load = run_load(delete_leader())

    assert_no_lost_request(load)
    # A pod of an earlier rollout, still in its preStop pause, may hold the Lease a moment
    # before it exits and releases it: the Lease ends on a live controller.
    wait_for(
        lambda: True if deployed.leader() in deployed.controllers() else None,
        timeout=60,
        interval=0.5,
    )
    deployed.rollout("deployment/ingress-ctl", NAMESPACE)


def test_a_rolling_restart_of_the_controller_loses_no_request(deployed: Deployed) -> None:
    before = deployed.controllers()

    def restart() -> Iterator[None]:
        deployed.kubectl("rollout", "restart", "deployment/ingress-ctl", "-n", NAMESPACE)
        deployed.rollout("deployment/ingress-ctl", NAMESPACE)
        wait_for(
            lambda: True if len(deployed.controllers()) == 2 else None, timeout=60, interval=0.5
        )
        time.sleep(2)  # requests keep flowing after the last old pod is gone
        yield

    load = run_load(restart())

    assert_no_lost_request(load)
    assert deployed.controllers().isdisjoint(before)


def test_kubectl_logs_are_json(deployed: Deployed) -> None:
    pod = sorted(deployed.controllers())[0]
    lines = deployed.kubectl("logs", "-n", NAMESPACE, pod).splitlines()

    records = [json.loads(line) for line in lines]
    messages = {(record["logger"], record["message"]) for record in records}
    assert any(message.startswith("haproxy 3.0.") for _, message in messages)
    assert any(logger == "haproxy" and "[NOTICE]" in message for logger, message in messages)


def test_rbac_denies_the_controller_what_it_must_not_do(deployed: Deployed) -> None:
    pod = sorted(deployed.controllers())[0]
    requests = [
        ("GET", "/apis/networking.k8s.io/v1/ingresses", None),
        ("GET", "/api/v1/nodes", None),
        ("DELETE", f"/api/v1/namespaces/{ECHO_NS}/pods/x", None),
        ("POST", f"/api/v1/namespaces/{ECHO_NS}/secrets", {"metadata": {"name": "x"}}),
        ("PATCH", f"/apis/networking.k8s.io/v1/namespaces/{ECHO_NS}/ingresses/echo", {}),
        ("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {}),
    ]

    out = json.loads(deployed.exec_python(pod, RBAC_PROBE, json.dumps(requests)))

    assert out == {
        "GET /apis/networking.k8s.io/v1/ingresses": 200,
        "GET /api/v1/nodes": 403,
        f"DELETE /api/v1/namespaces/{ECHO_NS}/pods/x": 403,
        f"POST /api/v1/namespaces/{ECHO_NS}/secrets": 403,
        f"PATCH /apis/networking.k8s.io/v1/namespaces/{ECHO_NS}/ingresses/echo": 403,
        "POST /apis/rbac.authorization.k8s.io/v1/clusterrolebindings": 403,
    }


def test_the_helm_chart_installs_on_the_cluster(helm: Path, cluster: Cluster) -> None:
    """One release (its own names and class) on high ports next to e2e/overlay's controller."""
    env = [
        {"name": "KUBERNETES_SERVICE_HOST", "value": "127.0.0.1"},
        {"name": "KUBERNETES_SERVICE_PORT", "value": str(APISERVER_PORT)},
    ]
    values = {
        "replicaCount": 1,
        "image": {"repository": "ingress-ctl", "tag": "local", "pullPolicy": "Never"},
        "ingressClass": {"name": "helm", "controller": "ingress-ctl.io/helm"},
        "hostNetwork": True,
        "ports": {"http": 18080, "https": 18443, "status": 11254},
        "probeHost": "127.0.0.1",
        # helm --wait waits for a LoadBalancer's address, which no one gives here.
        "service": {"type": "ClusterIP"},
        "extraArgs": ["--bind-address=127.0.0.1"],
        "extraEnv": env,
    }
    subprocess.run(
        [
            str(helm), "upgrade", "--install", "helm-ctl", str(CHART),
            "--kubeconfig", str(cluster.kubeconfig), "-n", "helm-ingress", "--create-namespace",
            "--values", "-", "--wait", "--timeout", "180s",
        ],
        input=json.dumps(values), capture_output=True, text=True, check=True, timeout=240,
    )  # fmt: skip
    try:
        status = wait_for(
            lambda: r.json() if (r := get_or_none(11254, "/status")) else None, timeout=30
        )
        assert status["mode"] == "kubernetes"
        assert status["haproxy_version"].startswith("3.0.")
        served = wait_for(lambda: get_or_none(18080, "/", host="nothing.test"), timeout=20)
        assert served.status == 404
    finally:
        subprocess.run(
            [str(helm), "uninstall", "helm-ctl", "--kubeconfig", str(cluster.kubeconfig),
             "-n", "helm-ingress", "--wait"],
            capture_output=True, check=False, timeout=120,
        )  # fmt: skip
