"""Shared fixtures: the real haproxy binary, free ports, echo backends on 127.0.0.x."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ECHO_SERVER = ROOT / "e2e" / "echo_server.py"


def haproxy_binary() -> str:
    """The haproxy binary (Debian's package), or fail loudly: `make test` installs it."""
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        pytest.fail("haproxy is not installed (make test installs the Debian package)")
    return found


@pytest.fixture(scope="session")
def haproxy_bin() -> str:
    return haproxy_binary()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on host right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EchoBackends:
    """Echo backends on 127.0.0.x, each answering with its own name."""

    def __init__(self) -> None:
        self._processes: list[subprocess.Popen[str]] = []

    def start(self, *, name: str, host: str, port: int) -> None:
        process = subprocess.Popen(
            [sys.executable, str(ECHO_SERVER), "--name", name, "--bind", host, "--port", str(port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening"), f"echo backend {name} did not start: {line!r}"
        self._processes.append(process)

    def stop(self) -> None:
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            process.wait(timeout=5)


@pytest.fixture
def echo_backends() -> Iterator[EchoBackends]:
    backends = EchoBackends()
    yield backends
    backends.stop()
