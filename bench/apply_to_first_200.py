"""`kubectl apply` of an Ingress → first 200 through HAProxy, on a real API server.

The e2e harness's control plane (etcd + kube-apiserver on 127.0.0.1) with deploy/cluster
applied, the controller running on its ServiceAccount's token, and one echo backend in
the e2e network namespace (needs root). Each of 20 Ingresses gets its own host; the clock
starts before `kubectl apply` (a process start included, as a user would see it) and
stops at the first 200 that the echo backend answered; the time kubectl itself took is
shown apart. Run: `python -m bench.apply_to_first_200`.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.reporting import report, summary_ms
from e2e.controller import Controller, apply, backend_slice, install, running_controller
from e2e.controlplane import ControlPlane, build_binaries
from e2e.netns import NetNamespace
from tests.http import wait_for
from tests.manifests import ingress, path, rule, service, service_port

INGRESSES = 20
NAMESPACE = "bench"
BACKEND_IP, BACKEND_PORT = "10.244.0.10", 8080


def time_ingress(cp: ControlPlane, controller: Controller, name: str) -> tuple[float, float]:
    """Seconds from `kubectl apply` of Ingress `name` to kubectl's return and to the first 200."""
    host = f"{name}.bench.test"
    started = time.perf_counter()
    apply(cp, ingress(name, rule(host, path("/")), namespace=NAMESPACE))
    applied = time.perf_counter() - started

    def served() -> bool | None:
        found = controller.get(host)
        return True if found is not None and found.backend == "bench" else None

    wait_for(served, timeout=30.0, interval=0.005)
    return applied, time.perf_counter() - started


def measure(cp: ControlPlane, workdir: Path) -> list[tuple[float, float]]:
    kubeconfig = install(cp, workdir)
    cp.kubectl("create", "namespace", NAMESPACE)
    apply(
        cp,
        service("web", service_port(80, target=BACKEND_PORT), namespace=NAMESPACE),
        backend_slice("web-1", "web", BACKEND_IP, port=BACKEND_PORT, namespace=NAMESPACE),
    )
    with running_controller(kubeconfig) as controller:
        controller.wait_ready()
        return [time_ingress(cp, controller, f"app{i}") for i in range(INGRESSES)]


def main() -> None:
    etcd_bin, apiserver_bin = build_binaries()
    with (
        tempfile.TemporaryDirectory(prefix="ic-bench-") as workdir,
        NetNamespace() as netns,
        ControlPlane(
            workdir=Path(workdir) / "controlplane", etcd_bin=etcd_bin, apiserver_bin=apiserver_bin
        ) as cp,
    ):
        netns.start_echo("bench", BACKEND_IP, BACKEND_PORT)
        applied, served = zip(*measure(cp, Path(workdir)), strict=True)
    rows = [
        {
            "from kubectl apply to": "kubectl returned",
            "ingresses": INGRESSES,
            **summary_ms(applied),
        },
        {"from kubectl apply to": "first 200", "ingresses": INGRESSES, **summary_ms(served)},
    ]
    report("apply_to_first_200", "`kubectl apply` of an Ingress → first 200 through HAProxy", rows)


if __name__ == "__main__":
    main()
