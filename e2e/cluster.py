"""A real single-node Kubernetes cluster on 127.0.0.1: ``make cluster`` and the in-cluster e2e.

etcd and kube-apiserver (as :class:`~e2e.controlplane.ControlPlane` runs them, with node
authorization and ServiceAccount admission on), kube-controller-manager, kube-scheduler and
kubelet v1.36 built by ``e2e/build-*.sh``, and Debian's containerd + runc + CNI plugins with
their own configuration, state and socket under :data:`STATE_DIR`. Pods get addresses on a
CNI bridge (10.88.0.0/16, no masquerade, no port mapping); the node is named ``localhost``
and every server listens on 127.0.0.1. Images come only from local archives imported into
containerd (a pause image built here, the echo backend, the controller image); pods never pull.
The fixes for this machine are those of ``/work/shared/notes/cluster.md`` (oom_score_adj,
cgroup v1 without systemd, no iptables utility chains, host sysctls restored).

Processes run detached (their pids in ``STATE_DIR/pids``) so the cluster outlives the
command that started it; :meth:`Cluster.down` removes everything :meth:`Cluster.up` made:
processes, mounts, network namespaces, the bridge, iptables chains, cgroups, and the sysctls
kubelet and the bridge changed. Both are idempotent.

By hand::

    python -m e2e.cluster up      # prints `export KUBECONFIG=...`
    python -m e2e.cluster down
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from e2e.controlplane import (
    KUBECTL,
    LOOPBACK,
    ControlPlane,
    KubectlError,
    build_binaries,
    run_kubectl,
    wait_until,
)
from e2e.images import ImageFile, pack_image

E2E_DIR = Path(__file__).parent
STATE_DIR = Path(os.environ.get("INGRESS_CTL_CLUSTER_DIR", "/tmp/ingress-ctl-cluster"))
CACHE_DIR = Path(os.environ.get("INGRESS_CTL_CACHE", Path.home() / ".cache" / "ingress-ctl"))
APISERVER_PORT = 16443
ETCD_PORT, ETCD_PEER_PORT = 12379, 12380
NODE_NAME = "localhost"
POD_CIDR = "10.88.0.0/16"
BRIDGE = "ictl-cni0"
CNI_BIN_DIR = Path("/usr/lib/cni")
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
ECHO_IMAGE = "docker.io/library/echo-basic:e2e"
CONTROLLER_IMAGE = "docker.io/library/ingress-ctl:local"
"""The name the test overlay pins (``ingress-ctl:local``); points at the latest build."""
SYSCTLS = (
    "vm/overcommit_memory",
    "kernel/panic",
    "kernel/panic_on_oops",
    "net/ipv4/ip_forward",
    "net/ipv4/conf/all/forwarding",
)
"""Host sysctls kubelet or the CNI bridge change; recorded at up, restored at down."""
HOST_DIRS = ("/var/lib/cni", "/run/containerd", "/var/lib/kubelet")
"""Fixed paths the CNI plugins, containerd's shims and kubelet use whatever they are told;
removed at down when they did not exist at up."""
IPTABLES = ("iptables", "ip6tables")
TABLES = ("filter", "nat", "mangle")
# Order matters for down: the node first, then the runtime, then the control plane.
PROCESSES = ("kubelet", "kube-scheduler", "kube-controller-manager", "containerd")


class ClusterError(RuntimeError):
    """A cluster component failed to build, start or become ready."""


def log(message: str) -> None:
    """Progress on stderr (stdout is for the `export KUBECONFIG=` line)."""
    print(f"[cluster] {message}", file=sys.stderr, flush=True)


def run(*args: str, check: bool = True, timeout: float = 300.0) -> str:
    """Run a command; return stdout, raise ClusterError with stderr when ``check`` fails."""
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise ClusterError(f"{' '.join(args)} exited {result.returncode}: {result.stderr.strip()}")
    return result.stdout


def build_script(name: str) -> list[Path]:
    """Run ``e2e/<name>`` (instant when its cache is warm); return the paths it prints."""
    out = subprocess.run(
        ["bash", str(E2E_DIR / name)], check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    return [Path(line) for line in out.split()]


# --- processes -------------------------------------------------------------------------


def _start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (guards against a recycled pid), None if gone.

    A zombie counts as gone (and is reaped when it is our child: the test session starts
    the processes itself, so their corpses are its to collect)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    if fields[0] == "Z":
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return None
    return fields[19]


class Pids:
    """Pid files of the detached processes: ``<name>.pid`` holds ``pid start-time``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def record(self, name: str, pid: int) -> None:
        """Remember ``pid`` as the process ``name``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / f"{name}.pid").write_text(f"{pid} {_start_time(pid)}\n")

    def alive(self, name: str) -> int | None:
        """The recorded pid of ``name`` if that very process still runs."""
        try:
            pid_text, started = (self.directory / f"{name}.pid").read_text().split()
        except (OSError, ValueError):
            return None
        pid = int(pid_text)
        return pid if _start_time(pid) == started else None

    def stop(self, name: str, timeout: float = 20.0) -> None:
        """SIGTERM the recorded process, SIGKILL it after ``timeout`` s; forget it."""
        pid = self.alive(name)
        if pid is not None:
            terminate(pid, timeout)
        (self.directory / f"{name}.pid").unlink(missing_ok=True)


def terminate(pid: int, timeout: float = 20.0) -> None:
    """SIGTERM ``pid``, then SIGKILL it if it still runs after ``timeout`` seconds."""
    started = _start_time(pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _start_time(pid) == started and started is not None:
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


def spawn(pids: Pids, logs: Path, name: str, args: list[str]) -> subprocess.Popen[bytes]:
    """Start ``args`` detached (own session), logging to ``logs/<name>.log``; record its pid."""
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / f"{name}.log", "ab") as out:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pids.record(name, proc.pid)
    return proc


class ClusterControlPlane(ControlPlane):
    """The e2e control plane with fixed ports, detached processes and a real node's settings."""

    def __init__(self, state: Path, pids: Pids, etcd_bin: Path, apiserver_bin: Path) -> None:
        super().__init__(workdir=state, etcd_bin=etcd_bin, apiserver_bin=apiserver_bin)
        self.pids = pids
        self.etcd_port, self.etcd_peer_port = ETCD_PORT, ETCD_PEER_PORT
        self.apiserver_port = APISERVER_PORT
        tokens = self.tokens
        self.token = tokens["admin"]

    @property
    def tokens(self) -> dict[str, str]:
        """Bearer token per user (admin, controller-manager, scheduler, kubelet), kept on disk."""
        path = self.workdir / "tokens.json"
        if not path.exists():
            self.workdir.mkdir(parents=True, exist_ok=True)
            users = ("admin", "kube-controller-manager", "kube-scheduler", "kubelet")
            path.write_text(json.dumps({user: secrets.token_hex(24) for user in users}))
            path.chmod(0o600)
        tokens: dict[str, str] = json.loads(path.read_text())
        return tokens

    def _write_credentials(self) -> None:
        super()._write_credentials()
        tokens = self.tokens
        (self.workdir / "tokens.csv").write_text(
            f'{tokens["admin"]},admin,admin,"system:masters"\n'
            f"{tokens['kube-controller-manager']},system:kube-controller-manager,kcm\n"
            f"{tokens['kube-scheduler']},system:kube-scheduler,scheduler\n"
            f'{tokens["kubelet"]},system:node:{NODE_NAME},kubelet,"system:nodes"\n'
        )

    def _apiserver_args(self) -> list[str]:
        args = [
            "--authorization-mode=Node,RBAC" if arg == "--authorization-mode=RBAC" else arg
            for arg in super()._apiserver_args()
            if arg != "--disable-admission-plugins=ServiceAccount"
        ]
        pki = self.workdir / "pki"
        return [
            *args,
            # kubelet's node address is loopback, which it refuses: reach it by its name.
            "--kubelet-preferred-address-types=Hostname",
            f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
            f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
        ]

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        return spawn(self.pids, self.workdir / "logs", name, args)

    def kubeconfig_for(self, user: str) -> Path:
        """A kubeconfig file authenticating as ``user`` with its static token."""
        path = self.workdir / f"{user}.kubeconfig"
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "local",
                    "cluster": {"server": self.server, "certificate-authority": str(self.ca_file)},
                }
            ],
            "users": [{"name": user, "user": {"token": self.tokens[user]}}],
            "contexts": [{"name": "local", "context": {"cluster": "local", "user": user}}],
            "current-context": "local",
        }
        path.write_text(json.dumps(config, indent=2) + "\n")
        path.chmod(0o600)
        return path


# --- host state ------------------------------------------------------------------------


def read_sysctls() -> dict[str, str]:
    """Current values of :data:`SYSCTLS`."""
    return {key: Path("/proc/sys", key).read_text().strip() for key in SYSCTLS}


def iptables_chains() -> set[str]:
    """``tool/table/chain`` for every chain of :data:`TABLES` (both address families)."""
    chains: set[str] = set()
    for tool in IPTABLES:
        for table in TABLES:
            out = run(tool, "-w", "-t", table, "-S", check=False)
            chains.update(
                f"{tool}/{table}/{line.split()[1]}" for line in out.splitlines() if line[:2] == "-N"
            )
    return chains


def delete_chains(chains: set[str]) -> None:
    """Remove the jumps to, then flush and delete, each ``tool/table/chain``."""
    for entry in sorted(chains):
        tool, table, chain = entry.split("/")
        for line in run(tool, "-w", "-t", table, "-S", check=False).splitlines():
            words = line.split()
            if words[:1] == ["-A"] and ("-j" in words or "-g" in words) and chain in words[2:]:
                run(tool, "-w", "-t", table, "-D", *words[1:], check=False)
    for entry in sorted(chains):
        tool, table, chain = entry.split("/")
        run(tool, "-w", "-t", table, "-F", chain, check=False)
        run(tool, "-w", "-t", table, "-X", chain, check=False)


def mounts_under(*roots: Path) -> list[Path]:
    """Mount points at or below ``roots``, deepest first."""
    found: list[Path] = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = Path(line.split()[4].encode().decode("unicode_escape"))
        if any(point == root or root in point.parents for root in roots):
            found.append(point)
    return sorted(set(found), key=lambda p: len(p.parts), reverse=True)


def cgroup_dirs(name: str) -> list[Path]:
    """Every cgroup directory named ``name`` at the top of a hierarchy, then their children."""
    tops = [d / name for d in Path("/sys/fs/cgroup").iterdir() if (d / name).is_dir()]
    nested = [p for top in tops for p in top.rglob("*") if p.is_dir()]
    return sorted(nested, key=lambda p: len(p.parts), reverse=True) + tops


def kill_cgroup(name: str) -> None:
    """SIGKILL every process left in the cgroups ``name`` (pods' processes) and remove them."""
    for directory in cgroup_dirs(name):
        with contextlib.suppress(OSError):
            for pid in (directory / "cgroup.procs").read_text().split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
    time.sleep(0.2)
    for directory in cgroup_dirs(name):
        with contextlib.suppress(OSError):
            directory.rmdir()


# --- the cluster -----------------------------------------------------------------------


class Cluster:
    """The single-node cluster whose state lives in ``state`` (see the module docstring)."""

    def __init__(self, state: Path = STATE_DIR) -> None:
        self.state = state
        self.pids = Pids(state / "pids")
        self.logs = state / "logs"

    # paths
    @property
    def kubeconfig(self) -> Path:
        """Admin kubeconfig (token in group system:masters)."""
        return self.state / "kubeconfig"

    @property
    def server(self) -> str:
        """HTTPS URL of the API server."""
        return f"https://{LOOPBACK}:{APISERVER_PORT}"

    @property
    def ca_file(self) -> Path:
        """PEM file that verifies the API server (as :class:`ClusterControlPlane` writes it)."""
        return self.state / "certs" / "apiserver.crt"

    @property
    def socket(self) -> Path:
        """containerd's CRI/gRPC socket."""
        return self.state / "containerd" / "containerd.sock"

    @property
    def host_record(self) -> Path:
        """What the host looked like before up: sysctls, iptables chains, netns names."""
        return self.state / "host.json"

    def kubectl(self, *args: str, input: str | None = None, timeout: float = 120.0) -> str:
        """Run kubectl as admin; return stdout or raise KubectlError."""
        return run_kubectl(KUBECTL, self.kubeconfig, args, input=input, timeout=timeout)

    def ctr(self, *args: str, timeout: float = 300.0) -> str:
        """Run ``ctr`` against this cluster's containerd, namespace k8s.io."""
        return run("ctr", "--address", str(self.socket), "-n", "k8s.io", *args, timeout=timeout)

    def running(self) -> bool:
        """True when every process is alive and the node is Ready."""
        names = ("etcd", "kube-apiserver", *PROCESSES)
        if not all(self.pids.alive(name) for name in names):
            return False
        try:
            return self._node_ready()
        except (KubectlError, subprocess.TimeoutExpired):
            return False

    # up
    def up(self, *, images: bool = True) -> None:
        """Build what is missing, start every component, wait for the node; no-op if running.
        Then (unless ``images`` is false) build and import the echo and controller images."""
        if self.running():
            log("already running")
            if images:
                self.import_images()
            return
        self.down()
        started = time.monotonic()
        etcd_bin, apiserver_bin = build_binaries()
        kcm_bin, scheduler_bin, kubelet_bin = build_script("build-node.sh")
        self.state.mkdir(parents=True, exist_ok=True)
        self._record_host()
        self._write_pki()
        control_plane = ClusterControlPlane(self.state, self.pids, etcd_bin, apiserver_bin)
        control_plane.start()
        log(f"control plane ready at {control_plane.server}")
        self._start_containerd()
        self._import_pause()
        self._spawn("kube-controller-manager", self._kcm_args(control_plane, kcm_bin))
        self._spawn("kube-scheduler", self._scheduler_args(control_plane, scheduler_bin))
        self._spawn("kubelet", self._kubelet_args(control_plane, kubelet_bin))
        wait_until(self._node_ready_or_fail, timeout=120, what="node localhost Ready")
        wait_until(self._default_service_account, timeout=60, what="ServiceAccount default")
        log(f"node Ready in {time.monotonic() - started:.1f} s")
        if images:
            self.import_images()

    def import_images(self) -> str:
        """Build (cached) and import the echo backend and the controller image; return the
        controller image's exact name (tagged by the hash of its inputs)."""
        self.import_echo()
        controller_archive, controller_name = build_script("build-image.sh")
        self._import(controller_archive, str(controller_name), CONTROLLER_IMAGE)
        return str(controller_name)

    def import_echo(self, *aliases: str) -> None:
        """Build (cached) and import the echo backend as :data:`ECHO_IMAGE` and ``aliases``."""
        (echo_bin,) = build_script("build-echo.sh")
        self.import_binary(echo_bin, "/echo-basic", ECHO_IMAGE, *aliases)

    def import_binary(
        self, binary: Path, path: str, name: str, *aliases: str, **image: str
    ) -> None:
        """Import the one-binary image of ``binary`` (at ``path``, its entrypoint) as ``name``
        and ``aliases``; packed once into the image cache. ``image``: pack_image's options."""
        archive = CACHE_DIR / "images" / f"{binary.name}.oci.tar"
        if not archive.exists():
            files = [ImageFile(path, binary)]
            pack_image(archive, name=name, files=files, entrypoint=[path], **image)
        self._import(archive, name, name)
        for alias in aliases:
            self._import(archive, name, alias)

    def _import(self, archive: Path, name: str, alias: str) -> None:
        """Import ``archive`` (holding ``name``) unless present; point ``alias`` at it."""
        listed = self.ctr("images", "ls", "-q").split()
        if name not in listed:
            started = time.monotonic()
            self.ctr("images", "import", str(archive))
            log(f"imported {name} in {time.monotonic() - started:.1f} s")
        if alias != name:
            self.ctr("images", "tag", "--force", name, alias)

    def _spawn(self, name: str, args: list[str]) -> None:
        spawn(self.pids, self.logs, name, args)

    def _record_host(self) -> None:
        if self.host_record.exists():
            return
        record = {
            "sysctls": read_sysctls(),
            "chains": sorted(iptables_chains()),
            "netns": sorted(p.name for p in Path("/run/netns").glob("*")),
            "dirs": [d for d in HOST_DIRS if Path(d).exists()],
        }
        self.host_record.write_text(json.dumps(record, indent=2) + "\n")

    def _write_pki(self) -> None:
        """A CA, kubelet's trust of it, and the API server's client certificate for kubelet."""
        pki = self.state / "pki"
        if (pki / "apiserver-kubelet-client.crt").exists():
            return
        pki.mkdir(parents=True, exist_ok=True)
        run(
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
            "-subj", "/CN=ingress-ctl-e2e-ca", "-keyout", str(pki / "ca.key"),
            "-out", str(pki / "ca.crt"),
        )  # fmt: skip
        run(
            "openssl", "req", "-newkey", "rsa:2048", "-nodes",
            "-subj", "/O=system:masters/CN=kube-apiserver-kubelet-client",
            "-keyout", str(pki / "apiserver-kubelet-client.key"),
            "-out", str(pki / "apiserver-kubelet-client.csr"),
        )  # fmt: skip
        run(
            "openssl", "x509", "-req", "-in", str(pki / "apiserver-kubelet-client.csr"),
            "-CA", str(pki / "ca.crt"), "-CAkey", str(pki / "ca.key"), "-CAcreateserial",
            "-days", "30", "-out", str(pki / "apiserver-kubelet-client.crt"),
        )  # fmt: skip

    def _start_containerd(self) -> None:
        root = self.state / "containerd"
        cni_conf = self.state / "cni" / "net.d"
        cni_conf.mkdir(parents=True, exist_ok=True)
        (cni_conf / "10-ingress-ctl.conflist").write_text(json.dumps(self._cni_config(), indent=2))
        cri = '[plugins."io.containerd.grpc.v1.cri"'
        (root / "config.toml").parent.mkdir(parents=True, exist_ok=True)
        (root / "config.toml").write_text(
            f"""version = 2
root = "{root / "root"}"
state = "{root / "state"}"
[grpc]
  address = "{self.socket}"
[ttrpc]
  address = "{self.socket}.ttrpc"
[debug]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{root / "opt"}"
{cri}]
  sandbox_image = "{PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  # Pods (not on the host network) may bind ports below 1024 as any user, as containerd 2
  # does by default: the Gateway API suite's CoreDNS (non-root) binds 53.
  enable_unprivileged_ports = true
  stream_server_address = "{LOOPBACK}"
{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
{cri}.cni]
  bin_dir = "{CNI_BIN_DIR}"
  conf_dir = "{cni_conf}"
  max_conf_num = 1
"""
        )
        self._spawn("containerd", ["containerd", "--config", str(root / "config.toml")])
        wait_until(self._containerd_ready, timeout=60, what="containerd")

    def _cni_config(self) -> dict[str, object]:
        return {
            "cniVersion": "1.0.0",
            "name": "ingress-ctl-e2e",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": BRIDGE,
                    "isGateway": True,
                    "ipMasq": False,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": POD_CIDR}]],
                        "dataDir": str(self.state / "cni" / "ipam"),
                    },
                }
            ],
        }

    def _containerd_ready(self) -> bool:
        if not self.pids.alive("containerd"):
            raise ClusterError(f"containerd exited; see {self.logs / 'containerd.log'}")
        try:
            self.ctr("version", timeout=5)
        except (ClusterError, subprocess.TimeoutExpired):
            return False
        return True

    def _import_pause(self) -> None:
        archive = CACHE_DIR / "images" / "pause-3.10.oci.tar"
        if not archive.exists():
            archive.parent.mkdir(parents=True, exist_ok=True)
            binary = archive.with_name("pause")
            run("gcc", "-static", "-Os", "-s", "-o", str(binary), str(E2E_DIR / "pause.c"))
            files = [ImageFile("/pause", binary)]
            pack_image(archive, name=PAUSE_IMAGE, files=files, entrypoint=["/pause"])
        self._import(archive, PAUSE_IMAGE, PAUSE_IMAGE)

    def _kcm_args(self, cp: ClusterControlPlane, binary: Path) -> list[str]:
        return [
            *_component_args(cp, binary, user="kube-controller-manager", port=10257),
            "--use-service-account-credentials",
            f"--service-account-private-key-file={self.state / 'sa.key'}",
            f"--root-ca-file={cp.ca_file}",
            f"--cert-dir={self.state / 'kcm-certs'}",
        ]

    def _scheduler_args(self, cp: ClusterControlPlane, binary: Path) -> list[str]:
        return [
            *_component_args(cp, binary, user="kube-scheduler", port=10259),
            f"--cert-dir={self.state / 'scheduler-certs'}",
        ]

    def _kubelet_args(self, cp: ClusterControlPlane, binary: Path) -> list[str]:
        config = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "address": LOOPBACK,
            "port": 10250,
            "readOnlyPort": 0,
            "healthzBindAddress": LOOPBACK,
            "healthzPort": 10248,
            "authentication": {
                "anonymous": {"enabled": False},
                "webhook": {"enabled": True},
                "x509": {"clientCAFile": str(self.state / "pki" / "ca.crt")},
            },
            "authorization": {"mode": "Webhook"},
            "containerRuntimeEndpoint": f"unix://{self.socket}",
            "cgroupDriver": "cgroupfs",
            "failCgroupV1": False,
            "oomScoreAdj": 0,
            "makeIPTablesUtilChains": False,
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%"},
            "podLogsDir": str(self.state / "pod-logs"),
            "resolvConf": "/etc/resolv.conf",
            "serializeImagePulls": False,
            "rotateCertificates": False,
        }
        path = self.state / "kubelet.json"
        path.write_text(json.dumps(config, indent=2))
        return [
            str(binary),
            f"--config={path}",
            f"--kubeconfig={cp.kubeconfig_for('kubelet')}",
            f"--hostname-override={NODE_NAME}",
            f"--root-dir={self.state / 'kubelet'}",
            f"--cert-dir={self.state / 'kubelet-certs'}",
            "--v=1",
        ]

    def _node_ready(self) -> bool:
        out = self.kubectl(
            "get", "node", NODE_NAME, "--ignore-not-found",
            "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
            timeout=10,
        )  # fmt: skip
        return out.strip() == "True"

    def _node_ready_or_fail(self) -> bool:
        for name in PROCESSES:
            if not self.pids.alive(name):
                raise ClusterError(f"{name} exited; see {self.logs / f'{name}.log'}")
        return self._node_ready()

    def _default_service_account(self) -> bool:
        out = self.kubectl("get", "serviceaccount", "default", "--ignore-not-found", "-o", "name")
        return bool(out.strip())

    # down
    def down(self) -> None:
        """Stop and remove everything :meth:`up` made; safe when nothing runs."""
        if not self.state.exists():
            return
        started = time.monotonic()
        self.pids.stop("kube-controller-manager")
        if self.pids.alive("kubelet") and self.pids.alive("kube-apiserver"):
            # kubelet stops the pods itself, so the CNI plugin releases their addresses.
            with contextlib.suppress(KubectlError, subprocess.TimeoutExpired):
                self.kubectl(
                    "delete", "pods", "--all", "--all-namespaces", "--grace-period=2",
                    "--timeout=60s", timeout=90,
                )  # fmt: skip
        for name in PROCESSES:
            self.pids.stop(name)
        self._kill_shims()
        kill_cgroup("kubepods")
        for name in ("kube-apiserver", "etcd"):
            self.pids.stop(name)
        self._restore_host()
        for point in mounts_under(self.state):
            run("umount", "--lazy", str(point), check=False)
        run("rm", "-rf", str(self.state))
        log(f"down in {time.monotonic() - started:.1f} s")

    def _kill_shims(self) -> None:
        """Kill containerd shims serving this cluster's containerd (matched by its socket)."""
        marker = str(self.socket).encode()
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
                if b"containerd-shim" in cmdline[0] and marker in cmdline:
                    terminate(int(proc.name), timeout=5)

    def _restore_host(self) -> None:
        record = json.loads(self.host_record.read_text()) if self.host_record.exists() else {}
        netns_before = set(record.get("netns", []))
        for path in Path("/run/netns").glob("cni-*"):
            if path.name not in netns_before:
                run("umount", "--lazy", str(path), check=False)
                path.unlink(missing_ok=True)
        run("ip", "link", "delete", BRIDGE, check=False)
        if "chains" in record:
            delete_chains(iptables_chains() - set(record["chains"]))
        for directory in HOST_DIRS:
            if "dirs" in record and directory not in record["dirs"]:
                run("rm", "-rf", directory)
        for key, value in record.get("sysctls", {}).items():
            Path("/proc/sys", key).write_text(value + "\n")


def cluster_env(cluster: Cluster) -> str:
    """The shell line that points kubectl at the cluster."""
    return f"export KUBECONFIG={cluster.kubeconfig}"


@contextlib.contextmanager
def session_cluster(cluster: Cluster) -> Iterator[Cluster]:
    """The cluster for a test session: reused when already up, else brought up and down."""
    owned = not cluster.running()
    cluster.up()
    try:
        yield cluster
    finally:
        if owned:
            cluster.down()


def _component_args(cp: ClusterControlPlane, binary: Path, *, user: str, port: int) -> list[str]:
    """The flags kube-controller-manager and kube-scheduler share: their own user's
    kubeconfig for everything, a secure port on loopback, no leader election."""
    kubeconfig = cp.kubeconfig_for(user)
    return [
        str(binary),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        f"--bind-address={LOOPBACK}",
        f"--secure-port={port}",
        "--leader-elect=false",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """``up`` (prints ``export KUBECONFIG=...``) or ``down``."""
    parser = argparse.ArgumentParser(
        prog="python -m e2e.cluster",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["up", "down"])
    args = parser.parse_args(argv)
    cluster = Cluster()
    if args.command == "up":
        cluster.up()
        print(cluster_env(cluster))
    else:
        cluster.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
