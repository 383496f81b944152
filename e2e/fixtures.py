"""pytest fixtures for e2e tests; the root conftest.py registers this plugin for every run.

- ``control_plane`` (session): a started :class:`~e2e.controlplane.ControlPlane`; the binaries
  are built on first use by ``e2e/build-controlplane.sh`` and cached outside the repository.
- ``namespace`` (function): a fresh Kubernetes namespace name (created, never deleted: without
  a controller-manager namespaces never finish terminating).
- ``netns`` (session): a :class:`~e2e.netns.NetNamespace` holding 10.244.0.10-29 (needs root).
- ``helm`` (session): path of the helm binary (built once, cached by version).
- ``cluster`` (module): the single-node :class:`~e2e.cluster.Cluster`, reused when
  ``make cluster`` already runs it, else brought up (builds cached outside the repository)
  and torn down at the end of the module.
- ``echo_backend`` (function): ``start(name, ip, port=8080) -> EchoBackend``; backends started
  through it are stopped at the end of the test.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

from e2e.cluster import Cluster, build_script, session_cluster
from e2e.controlplane import ControlPlane, build_binaries
from e2e.netns import EchoBackend, NetNamespace


class StartEcho(Protocol):
    """Signature of the ``echo_backend`` fixture's value."""

    def __call__(self, name: str, ip: str, port: int = 8080) -> EchoBackend: ...


def namespace_name(test_name: str) -> str:
    """A unique, valid namespace name (DNS label) derived from a test name."""
    slug = re.sub(r"[^a-z0-9]+", "-", test_name.lower()).strip("-")[:40].strip("-")
    return f"e2e-{slug}-{secrets.token_hex(3)}"


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """etcd + kube-apiserver on 127.0.0.1, shared by the whole test session."""
    etcd_bin, apiserver_bin = build_binaries()
    cp = ControlPlane(
        workdir=tmp_path_factory.mktemp("controlplane"),
        etcd_bin=etcd_bin,
        apiserver_bin=apiserver_bin,
    )
    try:
        cp.start()
        yield cp
    finally:
        cp.stop()


@pytest.fixture
def namespace(control_plane: ControlPlane, request: pytest.FixtureRequest) -> str:
    """Name of a Kubernetes namespace created for this test."""
    name = namespace_name(request.node.name)
    control_plane.kubectl("create", "namespace", name)
    return name


@pytest.fixture(scope="session")
def netns() -> Iterator[NetNamespace]:
    """A network namespace with backend addresses 10.244.0.10-29, reachable from the host."""
    with NetNamespace() as ns:
        yield ns


@pytest.fixture
def echo_backend(netns: NetNamespace) -> Iterator[StartEcho]:
    """Start echo backends in ``netns`` for this test; they are stopped afterwards."""
    started: list[EchoBackend] = []

    def start(name: str, ip: str, port: int = 8080) -> EchoBackend:
        backend = netns.start_echo(name, ip, port)
        started.append(backend)
        return backend

    yield start
    for backend in started:
        backend.stop()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A real single-node Kubernetes on 127.0.0.1 (see e2e/cluster.py), for one module: it
    is down again before the next module's timing-sensitive tests run."""
    with session_cluster(Cluster()) as found:
        yield found


@pytest.fixture(scope="session")
def helm() -> Path:
    """helm, built from its Go module by e2e/build-helm.sh (cached by version)."""
    (found,) = build_script("build-helm.sh")
    return found
