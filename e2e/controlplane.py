"""A real Kubernetes control plane (etcd + kube-apiserver) on 127.0.0.1 for e2e tests.

The binaries come from ``e2e/build-controlplane.sh`` (see :func:`build_binaries`). There is
no controller-manager or scheduler: objects are stored and watched exactly as in a cluster,
but nothing reconciles them (namespaces never finish deleting, nothing is garbage-collected).

Authentication is a static bearer token in group ``system:masters``; authorization is RBAC.
The API server serves TLS with the self-signed certificate it generates in its cert dir;
the kubeconfig trusts that certificate's CA.

By hand::

    python -m e2e.controlplane up [--workdir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

BUILD_SCRIPT = Path(__file__).with_name("build-controlplane.sh")
KUBECTL = Path("/usr/bin/kubectl")
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/16"
"""Room for the 10,000 Services of the scale benchmark."""
LOOPBACK = "127.0.0.1"


class ControlPlaneError(RuntimeError):
    """A control-plane process failed to start or to become ready."""


class KubectlError(RuntimeError):
    """kubectl exited non-zero; the message carries the command and its stderr."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        super().__init__(f"kubectl {' '.join(args)} exited {returncode}: {stderr.strip()}")
        self.returncode = returncode
        self.stderr = stderr


def build_binaries() -> tuple[Path, Path]:
    """Run build-controlplane.sh (instant when cached); return (etcd, kube-apiserver) paths."""
    out = subprocess.run(
        ["bash", str(BUILD_SCRIPT)], check=True, stdout=subprocess.PIPE, text=True
    ).stdout.split()
    if len(out) != 2:
        raise ControlPlaneError(f"{BUILD_SCRIPT} printed {out!r}, expected two paths")
    return Path(out[0]), Path(out[1])


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct TCP ports that are currently free on 127.0.0.1."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind((LOOPBACK, 0))
        return [int(sock.getsockname()[1]) for sock in socks]


def wait_until(ready: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll ``ready`` every 0.1 s until it returns True; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise ControlPlaneError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def run_kubectl(
    binary: Path, kubeconfig: Path, args: Sequence[str], *, input: str | None, timeout: float
) -> str:
    """Run kubectl with `kubeconfig`; return stdout or raise KubectlError."""
    result = subprocess.run(
        [str(binary), "--kubeconfig", str(kubeconfig), *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise KubectlError(tuple(args), result.returncode, result.stderr)
    return result.stdout


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """SIGTERM ``proc``, then SIGKILL it if it has not exited after ``timeout`` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def log_tail(path: Path, lines: int = 30) -> str:
    """Return the last ``lines`` lines of a log file (for error messages)."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def generate_rsa_key_pair(private: Path, public: Path) -> None:
    """Write an RSA private key and its public key (PEM) with the openssl CLI."""
    subprocess.run(
        [
            "openssl",
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            str(private),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["openssl", "pkey", "-in", str(private), "-pubout", "-out", str(public)],
        check=True,
        capture_output=True,
    )


class ControlPlane:
    """etcd and kube-apiserver processes listening on free ports of 127.0.0.1.

    All state (etcd data, certificates, keys, token file, kubeconfig, logs) lives in
    ``workdir``. Ports are chosen at construction and kept across :meth:`restart_apiserver`,
    so clients can reconnect to the same URL.
    """

    def __init__(
        self,
        *,
        workdir: Path,
        etcd_bin: Path,
        apiserver_bin: Path,
        kubectl_bin: Path = KUBECTL,
        start_timeout: float = 90.0,
    ) -> None:
        self.workdir = workdir
        self.etcd_bin = etcd_bin
        self.apiserver_bin = apiserver_bin
        self.kubectl_bin = kubectl_bin
        self.start_timeout = start_timeout
        self.etcd_port, self.etcd_peer_port, self.apiserver_port = free_ports(3)
        self.token = secrets.token_hex(24)
        self._etcd: subprocess.Popen[bytes] | None = None
        self._apiserver: subprocess.Popen[bytes] | None = None

    @property
    def server(self) -> str:
        """HTTPS URL of the API server."""
        return f"https://{LOOPBACK}:{self.apiserver_port}"

    @property
    def etcd_url(self) -> str:
        """Client URL of etcd."""
        return f"http://{LOOPBACK}:{self.etcd_port}"

    @property
    def cert_dir(self) -> Path:
        """Directory where the API server keeps its self-signed serving certificate."""
        return self.workdir / "certs"

    @property
    def ca_file(self) -> Path:
        """PEM file that verifies the API server (its serving cert followed by its CA)."""
        return self.cert_dir / "apiserver.crt"

    @property
    def kubeconfig(self) -> Path:
        """Path of a kubeconfig for the admin user (token in group system:masters)."""
        return self.workdir / "kubeconfig"

    def start(self) -> None:
        """Start etcd, then kube-apiserver, and wait until /readyz answers ok.

        On failure, whatever was started is stopped and ControlPlaneError carries the end
        of the failing process's log.
        """
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._write_credentials()
        self._write_kubeconfig()
        try:
            self._etcd = self._spawn("etcd", self._etcd_args())
            wait_until(self._etcd_healthy, timeout=self.start_timeout, what="etcd /health")
            self._start_apiserver()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop kube-apiserver, then etcd. Safe to call more than once."""
        self._stop_apiserver()
        if self._etcd is not None:
            stop_process(self._etcd)
            self._etcd = None

    def restart_apiserver(self) -> None:
        """Stop and start kube-apiserver alone (etcd, and so all objects, are kept)."""
        self._stop_apiserver()
        self._start_apiserver()

    def kubectl(self, *args: str, input: str | None = None, timeout: float = 60.0) -> str:
        """Run kubectl with the admin kubeconfig; return stdout or raise KubectlError."""
        return run_kubectl(self.kubectl_bin, self.kubeconfig, args, input=input, timeout=timeout)

    def ssl_context(self) -> ssl.SSLContext:
        """An SSL context that verifies the API server's certificate."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _write_credentials(self) -> None:
        """Create the service-account key pair and the static token file (once)."""
        key = self.workdir / "sa.key"
        if not key.exists():
            generate_rsa_key_pair(key, self.workdir / "sa.pub")
        (self.workdir / "tokens.csv").write_text(f'{self.token},admin,admin,"system:masters"\n')

    def _write_kubeconfig(self) -> None:
        """Write the admin kubeconfig (JSON is valid kubeconfig YAML)."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "e2e",
                    "cluster": {"server": self.server, "certificate-authority": str(self.ca_file)},
                }
            ],
            "users": [{"name": "admin", "user": {"token": self.token}}],
            "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": "admin"}}],
            "current-context": "e2e",
        }
        self.kubeconfig.write_text(json.dumps(config, indent=2) + "\n")
        self.kubeconfig.chmod(0o600)

    def _etcd_args(self) -> list[str]:
        peer = f"http://{LOOPBACK}:{self.etcd_peer_port}"
        return [
            str(self.etcd_bin),
            "--name=e2e",
            f"--data-dir={self.workdir / 'etcd'}",
            f"--listen-client-urls={self.etcd_url}",
            f"--advertise-client-urls={self.etcd_url}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=e2e={peer}",
            "--unsafe-no-fsync",
            "--log-level=warn",
        ]

    def _apiserver_args(self) -> list[str]:
        return [
            str(self.apiserver_bin),
            f"--etcd-servers={self.etcd_url}",
            f"--bind-address={LOOPBACK}",
            f"--advertise-address={LOOPBACK}",
            f"--secure-port={self.apiserver_port}",
            f"--cert-dir={self.cert_dir}",
            "--authorization-mode=RBAC",
            f"--token-auth-file={self.workdir / 'tokens.csv'}",
            f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={self.workdir / 'sa.pub'}",
            f"--service-account-signing-key-file={self.workdir / 'sa.key'}",
            "--disable-admission-plugins=ServiceAccount",
            # The `kubernetes` Service's endpoint would be 127.0.0.1, which validation rejects.
            "--endpoint-reconciler-type=none",
            # Without it, an open watch holds a stopping API server up for 15 s (then SIGKILL).
            "--shutdown-watch-termination-grace-period=1s",
        ]

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        """Start a process whose stdout and stderr append to ``workdir/<name>.log``."""
        with open(self.workdir / f"{name}.log", "ab") as log:
            return subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )

    def _start_apiserver(self) -> None:
        self._apiserver = self._spawn("kube-apiserver", self._apiserver_args())
        wait_until(self._apiserver_ready, timeout=self.start_timeout, what="kube-apiserver /readyz")

    def _stop_apiserver(self) -> None:
        if self._apiserver is not None:
            stop_process(self._apiserver)
            self._apiserver = None

    def _check_alive(self, name: str, proc: subprocess.Popen[bytes] | None) -> None:
        """Raise with the end of the log if ``proc`` is not running."""
        if proc is None or proc.poll() is not None:
            code = None if proc is None else proc.returncode
            log = self.workdir / f"{name}.log"
            raise ControlPlaneError(f"{name} exited ({code}); end of {log}:\n{log_tail(log)}")

    def _etcd_healthy(self) -> bool:
        self._check_alive("etcd", self._etcd)
        try:
            with urllib.request.urlopen(f"{self.etcd_url}/health", timeout=2) as resp:
                return bool(json.load(resp).get("health") == "true")
        except (OSError, http.client.HTTPException, ValueError):
            return False

    def _apiserver_ready(self) -> bool:
        self._check_alive("kube-apiserver", self._apiserver)
        if not self.ca_file.exists():
            return False
        request = urllib.request.Request(
            f"{self.server}/readyz", headers={"Authorization": f"Bearer {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=2, context=self.ssl_context()) as resp:
                return bool(resp.read().strip() == b"ok")
        except (OSError, http.client.HTTPException):
            return False


def main(argv: Sequence[str] | None = None) -> int:
    """``up``: build (or reuse) the binaries, run a control plane until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m e2e.controlplane",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["up"])
    parser.add_argument("--workdir", type=Path, help="state directory (default: a temp dir)")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ingress-ctl-cp-"))
    etcd_bin, apiserver_bin = build_binaries()
    started = time.monotonic()
    with ControlPlane(workdir=workdir, etcd_bin=etcd_bin, apiserver_bin=apiserver_bin) as cp:
        print(
            f"control plane ready in {time.monotonic() - started:.1f} s: {cp.server}\n"
            f"export KUBECONFIG={cp.kubeconfig}\n(Ctrl-C to stop; logs in {workdir})",
            flush=True,
        )
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
    return 0


if __name__ == "__main__":
    sys.exit(main())
