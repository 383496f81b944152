"""Shared fixtures: the real haproxy binary, free ports, echo backends on 127.0.0.x."""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from ingress_ctl.haproxy.applying import Applier, Outcome
from ingress_ctl.haproxy.process import HAProxyProcess
from ingress_ctl.haproxy.rendering import Rendered, render_state
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.routing import ServiceRef
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.state import ControllerStatus
from tests.http import Response, get
from tests.manifests import (
    Manifest,
    endpoint,
    endpoint_slice,
    run,
    service,
    service_port,
)

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


@contextmanager
def short_tmp_dir() -> Iterator[Path]:
    """A fresh directory under /tmp, short enough for UNIX sockets (107 bytes), removed after."""
    path = Path(tempfile.mkdtemp(prefix="ic", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class TinyFilesystem:
    """A small tmpfs mounted for a test: fill() makes it full (ENOSPC), free() undoes that."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._filler = path / "filler"

    def fill(self) -> None:
        """Write until not even one more byte fits."""
        descriptor = os.open(self._filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            size = 1 << 20
            while size:
                try:
                    os.write(descriptor, bytes(size))
                except OSError as error:
                    assert error.errno == errno.ENOSPC, error
                    size //= 2
        finally:
            os.close(descriptor)

    def free(self) -> None:
        self._filler.unlink(missing_ok=True)


@contextmanager
def tiny_filesystem(size: str = "4m") -> Iterator[TinyFilesystem]:
    """A tmpfs of `size` on a fresh short folder, unmounted and removed afterwards (root only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    with short_tmp_dir() as folder:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "ingress-ctl-test", folder],
            check=True,
        )
        try:
            yield TinyFilesystem(folder)
        finally:
            subprocess.run(["umount", "--lazy", folder], check=False)


class Pipeline:
    """The controller's own path without a watcher: manifests -> translate -> render -> apply.

    HAProxy listens on 127.0.0.1 on a free port; every apply goes through one Applier.
    """

    def __init__(self, *, haproxy_bin: str, state_dir: Path) -> None:
        self.port = free_port()
        self.state_dir = state_dir
        self.status = ControllerStatus(mode="files")
        self.metrics = Metrics()
        self.process = HAProxyProcess(binary=haproxy_bin, state_dir=state_dir)
        self.applier = Applier(
            process=self.process, state_dir=state_dir, status=self.status, metrics=self.metrics
        )

    def render(
        self, *manifests: Manifest, default_backend_service: ServiceRef | None = None
    ) -> Rendered:
        """These manifests, our IngressClass `haproxy` included, rendered as the Syncer does.

        The server slots of what HAProxy runs now are kept, so endpoint changes can go
        through the runtime API.
        """
        settings = Settings(
            bind_address=IPv4Address("127.0.0.1"),
            http_port=self.port,
            default_backend_service=default_backend_service,
        )
        current = self.applier.current
        return render_state(
            run(*manifests, settings=settings).routing,
            settings=settings,
            previous=current.layout if current is not None else None,
        )

    async def apply(self, rendered: Rendered) -> Outcome:
        return await self.applier.apply(rendered)

    def get(self, host: str, path: str = "/") -> Response:
        """GET path with this Host header from the HAProxy under test."""
        return get(self.port, path, host=host)


@pytest.fixture
async def pipeline(haproxy_bin: str) -> AsyncIterator[Pipeline]:
    """A Pipeline whose HAProxy (started by the first apply) is stopped afterwards."""
    with short_tmp_dir() as state_dir:
        found = Pipeline(haproxy_bin=haproxy_bin, state_dir=state_dir)
        try:
            yield found
        finally:
            await found.process.stop()


def echo_service(name: str, address: str, port: int) -> tuple[Manifest, Manifest]:
    """Service `name` (port 80) and its EndpointSlice: the echo backend at address:port."""
    return (
        service(name, service_port(80, target=port)),
        endpoint_slice(f"{name}-1", name, endpoint(address), ports=((None, port),)),
    )


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 held by a listening socket (no SO_REUSEPORT): HAProxy cannot bind it.

    `haproxy -c` still accepts a configuration that binds it: checking binds nothing.
    """
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


class EchoProxy:
    """A module's HAProxy (one Pipeline) and its echo backends, driven synchronously."""

    def __init__(
        self, pipeline: Pipeline, runner: asyncio.Runner, echoes: dict[str, tuple[str, int]]
    ) -> None:
        self.pipeline = pipeline
        self.runner = runner
        self.echoes = echoes
        """Echo backend name -> (address, port)."""

    def services(self, *names: str) -> list[Manifest]:
        """Services with endpoints, each reaching the echo backend of the same name."""
        return [made for name in names for made in echo_service(name, *self.echoes[name])]


@contextmanager
def echo_proxy(haproxy_bin: str, names: Sequence[str], first: int) -> Iterator[EchoProxy]:
    """Echo backends `names` on 127.0.0.<first>, <first + 1>, ... (started in parallel: each
    start waits for its backend) and a Pipeline, stopped afterwards."""
    addresses = {name: f"127.0.0.{first + index}" for index, name in enumerate(names)}
    echoes = {name: (address, free_port(address)) for name, address in addresses.items()}
    backends = EchoBackends()
    try:
        with ThreadPoolExecutor(len(echoes)) as pool:
            list(
                pool.map(
                    lambda item: backends.start(name=item[0], host=item[1][0], port=item[1][1]),
                    echoes.items(),
                )
            )
        with short_tmp_dir() as state_dir, asyncio.Runner() as runner:
            pipeline = Pipeline(haproxy_bin=haproxy_bin, state_dir=state_dir)
            try:
                yield EchoProxy(pipeline, runner, echoes)
            finally:
                runner.run(pipeline.process.stop())
    finally:
        backends.stop()
