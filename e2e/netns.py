"""A network namespace with a veth pair, holding HTTP echo backends for e2e tests.

The API server rejects EndpointSlice addresses in 127.0.0.0/8, so backends need real-looking
pod IPs. :class:`NetNamespace` creates namespace ``icte2e<pid>`` joined to the host by a veth
pair: the host end is 10.244.0.1/24, the namespace end carries several 10.244.0.x/24
addresses (10.244.0.10-29 by default), one per backend. There is no default route in the
namespace and no forwarding on the host: only 10.244.0.0/24 (and the namespace's own
loopback) is reachable. Needs root.

    with NetNamespace() as ns:
        backend = ns.start_echo("web-1", "10.244.0.10", 8080)
        urllib.request.urlopen(backend.url)
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import select
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

NETNS_PREFIX = "icte2e"
SUBNET = ipaddress.IPv4Network("10.244.0.0/24")
HOST_IP = "10.244.0.1"
DEFAULT_ADDRESSES = tuple(f"10.244.0.{i}" for i in range(10, 30))
ECHO_SERVER = Path(__file__).with_name("echo_server.py")
MAX_IFNAME = 15  # IFNAMSIZ - 1


class NetnsError(RuntimeError):
    """An ``ip`` command or a backend in the namespace failed."""


def run_ip(*args: str, check: bool = True) -> str:
    """Run ``ip ARGS``; return stdout, or raise NetnsError with stderr when ``check``."""
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def list_namespaces() -> list[str]:
    """Names of all network namespaces (``ip netns list``)."""
    return [line.split()[0] for line in run_ip("netns", "list").splitlines() if line.strip()]


def host_interface(ns_name: str) -> str:
    """Name of the host end of the veth pair of namespace ``ns_name``."""
    return f"{ns_name}h"


def delete_namespace(name: str) -> None:
    """Kill every process in namespace ``name``, remove its veth pair and the namespace."""
    for pid in run_ip("netns", "pids", name, check=False).split():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)
    run_ip("link", "del", host_interface(name), check=False)
    run_ip("netns", "del", name, check=False)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cleanup_stale_namespaces() -> None:
    """Delete ``icte2e<pid>`` namespaces left behind by test runs that no longer exist."""
    for name in list_namespaces():
        suffix = name.removeprefix(NETNS_PREFIX)
        if name.startswith(NETNS_PREFIX) and suffix.isdigit() and not pid_alive(int(suffix)):
            delete_namespace(name)


class EchoBackend:
    """An ``echo_server.py`` process listening on ``ip:port`` inside a namespace."""

    def __init__(
        self, *, name: str, ip: str, port: int, process: subprocess.Popen[bytes], stderr: IO[bytes]
    ) -> None:
        self.name = name
        self.ip = ip
        self.port = port
        self.process = process
        self._stderr = stderr

    @property
    def url(self) -> str:
        """``http://ip:port/``."""
        return f"http://{self.ip}:{self.port}/"

    def wait_ready(self, timeout: float) -> None:
        """Wait for the server's "listening" line on stdout; raise if it exits or times out."""
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            self.stop()
            raise NetnsError(f"echo backend {self.name} not listening after {timeout} s")
        if not self.process.stdout.readline():
            self.process.wait()
            raise NetnsError(
                f"echo backend {self.name} on {self.ip}:{self.port} exited "
                f"({self.process.returncode}): {self.stderr_text()}"
            )

    def stderr_text(self) -> str:
        """What the backend wrote to stderr so far."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace").strip()

    def stop(self) -> None:
        """Terminate the backend (idempotent)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()


class NetNamespace:
    """Network namespace ``name`` linked to the host by a veth pair on 10.244.0.0/24."""

    def __init__(
        self, *, name: str | None = None, addresses: Sequence[str] = DEFAULT_ADDRESSES
    ) -> None:
        self.name = name or f"{NETNS_PREFIX}{os.getpid()}"
        if len(host_interface(self.name)) > MAX_IFNAME:
            raise ValueError(f"namespace name {self.name!r} too long for an interface name")
        self.host_ip = HOST_IP
        self.addresses = tuple(addresses)
        for address in self.addresses:
            ip = ipaddress.IPv4Address(address)
            if ip not in SUBNET or ip in (
                SUBNET.network_address,
                SUBNET.broadcast_address,
                ipaddress.IPv4Address(HOST_IP),
            ):
                raise ValueError(f"{address} is not a usable backend address in {SUBNET}")
        self._backends: list[EchoBackend] = []

    @property
    def host_interface(self) -> str:
        """Host end of the veth pair (carries 10.244.0.1/24)."""
        return host_interface(self.name)

    @property
    def namespace_interface(self) -> str:
        """Namespace end of the veth pair (carries the backend addresses)."""
        return f"{self.name}n"

    def create(self) -> None:
        """Create the namespace and veth pair (first removing stale ones from dead runs)."""
        cleanup_stale_namespaces()
        run_ip("netns", "add", self.name)
        try:
            self._configure()
        except BaseException:
            self.delete()
            raise

    def _configure(self) -> None:
        prefix = f"/{SUBNET.prefixlen}"
        run_ip("-n", self.name, "link", "set", "lo", "up")
        run_ip(
            "link",
            "add",
            self.host_interface,
            "type",
            "veth",
            "peer",
            "name",
            self.namespace_interface,
            "netns",
            self.name,
        )
        run_ip("addr", "add", HOST_IP + prefix, "dev", self.host_interface)
        run_ip("link", "set", self.host_interface, "up")
        for address in self.addresses:
            run_ip(
                "-n", self.name, "addr", "add", address + prefix, "dev", self.namespace_interface
            )
        run_ip("-n", self.name, "link", "set", self.namespace_interface, "up")

    def delete(self) -> None:
        """Stop all backends and delete the namespace and its veth pair (idempotent)."""
        for backend in self._backends:
            backend.stop()
        self._backends.clear()
        delete_namespace(self.name)

    def command(self, *argv: str) -> list[str]:
        """``argv`` prefixed to run inside the namespace (``ip netns exec NAME ...``)."""
        return ["ip", "netns", "exec", self.name, *argv]

    def start_echo(
        self, name: str, ip: str, port: int = 8080, timeout: float = 10.0
    ) -> EchoBackend:
        """Start an echo backend called ``name`` on ``ip:port``; return once it listens.

        Raises NetnsError (with the backend's stderr) if it cannot bind.
        """
        if ip not in self.addresses:
            raise ValueError(f"{ip} is not an address of namespace {self.name}")
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 (EchoBackend.stop closes it)
        process = subprocess.Popen(
            self.command(
                sys.executable, str(ECHO_SERVER), "--name", name, "--bind", ip, "--port", str(port)
            ),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        backend = EchoBackend(name=name, ip=ip, port=port, process=process, stderr=stderr)
        self._backends.append(backend)
        backend.wait_ready(timeout)
        return backend

    def __enter__(self) -> NetNamespace:
        self.create()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.delete()
