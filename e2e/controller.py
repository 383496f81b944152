"""`ingress-ctl run` in Kubernetes mode against the e2e control plane, as the cluster would run it.

:func:`install` applies ``deploy/cluster`` (everything but the Deployment) and returns a
kubeconfig holding a token of the controller's ServiceAccount: the controller then has
exactly the RBAC of the manifests. :func:`running_controller` starts it as a subprocess
on 127.0.0.1 (free ports, a short state directory for HAProxy's sockets) and stops it,
and any HAProxy it left, afterwards. Also the helpers the tests and benchmarks share:
applying manifests and a hand-made EndpointSlice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from e2e.controlplane import ControlPlane, free_ports, stop_process
from ingress_ctl.haproxy.process import parse_show_proc
from ingress_ctl.haproxy.sockets import send_commands
from tests.http import Response, get, get_or_none, metric_samples, wait_for
from tests.manifests import Manifest, endpoint, endpoint_slice

ROOT = Path(__file__).resolve().parent.parent
INGRESS_CTL = ROOT / ".venv" / "bin" / "ingress-ctl"
SERVICE_ACCOUNT = ("ingress-ctl", "ingress-ctl")
"""(namespace, name) of the controller's ServiceAccount in deploy/cluster."""
MANAGED_BY = {"endpointslice.kubernetes.io/managed-by": "e2e"}
START_TIMEOUT_S = 30.0


def apply(cp: ControlPlane, *manifests: Manifest) -> None:
    """``kubectl apply`` these manifests in one call."""
    cp.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(manifests)}),
    )


def backend_slice(name: str, service: str, *addresses: str, port: int, namespace: str) -> Manifest:
    """A hand-made EndpointSlice for Service ``service``: ready endpoints at addresses:port."""
    found = endpoint_slice(
        name, service, *(endpoint(a, ready=True) for a in addresses), ports=((None, port),),
        namespace=namespace,
    )  # fmt: skip
    found["metadata"]["labels"].update(MANAGED_BY)
    return found


class ApiServer(Protocol):
    """What :func:`install` needs of a control plane or a cluster."""

    @property
    def server(self) -> str: ...

    @property
    def ca_file(self) -> Path: ...

    def kubectl(self, *args: str, input: str | None = None, timeout: float = ...) -> str: ...


def install(cp: ApiServer, workdir: Path) -> Path:
    """Apply deploy/cluster; a kubeconfig (in workdir) for the controller's ServiceAccount."""
    cp.kubectl("apply", "-k", str(ROOT / "deploy" / "cluster"))
    namespace, name = SERVICE_ACCOUNT
    token = cp.kubectl("create", "token", name, "-n", namespace, "--duration", "2h").strip()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "e2e",
                "cluster": {"server": cp.server, "certificate-authority": str(cp.ca_file)},
            }
        ],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": name}}],
        "current-context": "e2e",
    }
    path = workdir / "service-account.kubeconfig"
    path.write_text(json.dumps(config, indent=2) + "\n")
    path.chmod(0o600)
    return path


@dataclass(frozen=True)
class Controller:
    """A running `ingress-ctl run` and where to reach it."""

    process: subprocess.Popen[bytes]
    state_dir: Path
    http_port: int
    status_port: int
    log: Path

    def get(self, host: str, path: str = "/") -> Response | None:
        """GET through HAProxy with this Host header; None while the connection fails."""
        return get_or_none(self.http_port, path, host=host)

    def status(self) -> Any:
        return get(self.status_port, "/status").json()

    def metrics(self) -> dict[str, float]:
        """Every sample of /metrics, by name with labels."""
        return metric_samples(self.status_port)

    def check_running(self) -> None:
        code = self.process.poll()
        assert code is None, f"ingress-ctl exited with {code}:\n{self.log.read_text()}"

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        def ready() -> bool | None:
            self.check_running()
            found = get_or_none(self.status_port, "/readyz")
            return True if found is not None and found.status == 200 else None

        wait_for(ready, timeout=timeout, interval=0.05)


@contextlib.contextmanager
def running_controller(
    kubeconfig: Path,
    *flags: str,
    ports: tuple[int, int, int] | None = None,
    log: Path | None = None,
) -> Iterator[Controller]:
    """`ingress-ctl run --kubeconfig kubeconfig FLAGS` on 127.0.0.1, until exit: HTTP, HTTPS
    and status on ``ports`` (default: free ones), its output in ``log`` (default: a
    temporary file)."""
    root = Path(tempfile.mkdtemp(prefix="ic", dir="/tmp"))  # short: UNIX socket paths
    http_port, https_port, status_port = ports or free_ports(3)
    state_dir, log = root / "state", log or root / "controller.log"
    command = [
        str(INGRESS_CTL), "run", "--kubeconfig", str(kubeconfig), "--bind-address", "127.0.0.1",
        "--http-port", str(http_port), "--https-port", str(https_port),
        "--status-port", str(status_port), "--state-dir", str(state_dir), *flags,
    ]  # fmt: skip
    environment = {key: value for key, value in os.environ.items() if key != "KUBECONFIG"}
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            env=environment,
        )  # fmt: skip
    controller = Controller(process, state_dir, http_port, status_port, log)
    try:
        yield controller
    finally:
        _stop(controller)
        shutil.rmtree(root, ignore_errors=True)


def _stop(controller: Controller) -> None:
    """SIGTERM the controller, then SIGKILL whatever of its HAProxy survived."""
    master = None
    with contextlib.suppress(OSError, ValueError, TimeoutError):
        reply = asyncio.run(
            send_commands(path=controller.state_dir / "master.sock", commands=["show proc"])
        )
        master = parse_show_proc(reply[0]).master_pid
    stop_process(controller.process)
    if master is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(master, signal.SIGKILL)  # HAProxy runs in a session of its own
