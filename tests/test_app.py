"""`ingress-ctl run` in file mode, as a real subprocess with the real HAProxy.

Status endpoints, live edits of the manifests folder, the state directory and
SIGTERM. The controller and its HAProxy listen on 127.0.0.1 on free ports; an
echo backend on 127.0.0.41 serves the Ingress.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from collections.abc import Iterator
from ipaddress import IPv4Address

import pytest

from ingress_ctl import __version__
from ingress_ctl.app import _until_signal
from ingress_ctl.fallback import load_or_create
from ingress_ctl.haproxy.rendering import render
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import Snapshot
from ingress_ctl.sources.files import load_manifests
from ingress_ctl.translation import translate
from tests.conftest import EchoBackends, echo_service, free_port
from tests.controller import Controller, running, running_controller
from tests.http import Response, get, get_or_none, wait_for
from tests.manifests import Manifest, ingress, path, rule

pytestmark = pytest.mark.haproxy

ECHO_ADDRESS = "127.0.0.41"


@pytest.fixture(scope="module")
def echo_port() -> Iterator[int]:
    """The port of a running echo backend named `web` on ECHO_ADDRESS."""
    port = free_port(ECHO_ADDRESS)
    backends = EchoBackends()
    try:
        backends.start(name="web", host=ECHO_ADDRESS, port=port)
        yield port
    finally:
        backends.stop()


@pytest.fixture(scope="module")
def echo(echo_port: int) -> tuple[Manifest, Manifest]:
    """Service `web` and its EndpointSlice: the echo backend."""
    return echo_service("web", ECHO_ADDRESS, echo_port)


def app(*paths: Manifest) -> Manifest:
    return ingress("app", rule("app.test", *paths), rule("bad_host", path("/", "web")))


@pytest.fixture(scope="module")
def served(haproxy_bin: str, echo: tuple[Manifest, Manifest]) -> Iterator[Controller]:
    """One controller for the read-only tests: app.test/ -> web, plus a rejected rule."""
    with running_controller(haproxy_bin, app(path("/", "web")), *echo) as controller:
        controller.wait_until("/readyz")
        yield controller


@pytest.fixture
def fresh(haproxy_bin: str, echo: tuple[Manifest, Manifest]) -> Iterator[Controller]:
    """A controller of this test's own, serving app.test/old -> web, ready."""
    with running_controller(haproxy_bin, app(path("/old", "web")), *echo) as controller:
        controller.wait_until("/readyz")
        yield controller


def test_health_and_readiness_once_serving(served: Controller) -> None:
    healthz, readyz = get(served.status_port, "/healthz"), get(served.status_port, "/readyz")

    assert (healthz.status, healthz.text) == (200, "ok\n")
    assert (readyz.status, readyz.text) == (200, "ready\n")
    assert served.get("app.test", "/x").backend == "web"
    assert served.get("other.test").status == 404


def test_status_reports_what_is_served_and_what_was_rejected(served: Controller) -> None:
    status = served.status()

    assert (status["version"], status["mode"], status["ready"]) == (__version__, "files", True)
    assert status["haproxy_version"].startswith(("2.", "3."))
    assert status["last_sync"]["revision"] >= 1
    assert status["last_reload"]["ok"] is True
    assert status["last_error"] is None
    assert status["objects"] == {"EndpointSlice": 1, "Ingress": 1, "IngressClass": 1, "Service": 1}
    [report] = status["ingresses"]
    problem = {
        "source": {"kind": "Ingress", "namespace": "default", "name": "app"},
        "field": "spec.rules[1].host",
        "reason": "'bad_host' is not a DNS name (optionally starting with '*.'); rule ignored",
        "severity": "error",
    }
    assert report == {
        "source": {"kind": "Ingress", "namespace": "default", "name": "app"},
        "state": "serving",
        "reason": "",
        "routes": ["app.test/ (Prefix) -> be_default_web_80"],
        "problems": [problem],
        "backends": [
            {
                "name": "be_default_web_80",
                "service": "default/web:80",
                "ready": 1,
                "total": 1,
                "reason": "",
            }
        ],
        "not_serving": "",
    }
    assert status["problems"] == [problem]


def test_state_directory_holds_the_rendered_files_and_sockets(served: Controller) -> None:
    settings = Settings(
        bind_address=IPv4Address("127.0.0.1"),
        http_port=served.http_port,
        https_port=served.https_port,
    )
    loaded = load_manifests([served.manifests])
    fallback = load_or_create(served.state_dir)  # made by the controller, read back here
    translation = translate(
        Snapshot.of(loaded.objects), settings=settings, fallback_certificate=fallback
    )
    expected = render(translation.routing, settings=settings)

    on_disk = {name: (served.state_dir / name).read_text() for name in expected}

    maps = {"maps/hosts.map", "maps/routes.map"}  # tls.map only once a host has TLS
    certificates = {"certs/https.crt-list", fallback.file}
    assert set(expected) == {"haproxy.cfg", *maps, *certificates}
    assert on_disk == expected
    assert (served.state_dir / "master.sock").is_socket()
    assert (served.state_dir / "admin.sock").is_socket()


def _served_within(controller: Controller, request_path: str, *manifests: Manifest) -> float:
    """Write the manifests; seconds until request_path on app.test reaches the echo backend."""
    started = time.monotonic()
    controller.write(*manifests)

    def reached() -> Response | None:
        found = get_or_none(controller.http_port, request_path, host="app.test")
        return found if found is not None and found.backend == "web" else None

    wait_for(reached, timeout=5.0, interval=0.01)
    return time.monotonic() - started


def test_an_edited_manifest_is_served_within_a_second(
    fresh: Controller, echo: tuple[Manifest, Manifest], echo_port: int
) -> None:
    assert fresh.get("app.test", "/new").status == 404
    before = fresh.metrics()
    new_service = echo_service("new", ECHO_ADDRESS, echo_port)  # a new backend: a spare

    to_new_backend = _served_within(
        fresh, "/new", app(path("/old", "web"), path("/new", "new")), *echo, *new_service
    )
    to_same_backend = _served_within(
        fresh,
        "/more",
        app(path("/old", "web"), path("/new", "new"), path("/more", "web")),
        *echo,
        *new_service,
    )

    assert to_new_backend < 1.0
    assert to_same_backend < 1.0
    after = wait_for(lambda: _synced(fresh, before), timeout=2.0)
    assert [key for key in after if key.startswith("ingress_ctl_reloads_total{")] == []


def _synced(controller: Controller, before: dict[str, float]) -> dict[str, float] | None:
    """The metrics once two more syncs than `before` were counted."""
    after = controller.metrics()
    synced = after["ingress_ctl_syncs_total"] >= before["ingress_ctl_syncs_total"] + 2
    return after if synced else None


def test_sigterm_stops_the_controller_and_its_haproxy(fresh: Controller) -> None:
    haproxy = fresh.haproxy()
    assert running(haproxy.master_pid)

    fresh.process.send_signal(signal.SIGTERM)

    assert fresh.process.wait(timeout=5) == 0
    assert [pid for pid in (haproxy.master_pid, *haproxy.workers) if running(pid)] == []


def test_not_ready_while_haproxy_cannot_start(
    haproxy_bin: str, echo: tuple[Manifest, Manifest], busy_port: int
) -> None:
    with running_controller(haproxy_bin, app(path("/", "web")), *echo, http_port=busy_port) as ctl:
        ctl.wait_until("/healthz")
        status = wait_for(lambda: ctl.status() if ctl.status()["last_sync"] else None, timeout=10)

        readyz = get(ctl.status_port, "/readyz")

        assert (readyz.status, readyz.text) == (503, "not ready: no configuration serves yet\n")
        assert status["last_sync"]["action"] == "rejected"
        assert status["last_error"].startswith("haproxy did not start")
        assert get(ctl.status_port, "/healthz").status == 200


def test_a_failed_start_is_retried_until_haproxy_serves(
    haproxy_bin: str, echo: tuple[Manifest, Manifest]
) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = int(holder.getsockname()[1])
    with running_controller(haproxy_bin, app(path("/", "web")), *echo, http_port=port) as ctl:
        ctl.wait_until("/healthz")
        wait_for(lambda: ctl.status()["last_error"], timeout=10)
        holder.close()

        ready = wait_for(lambda: get(ctl.status_port, "/readyz").status == 200 or None, timeout=10)

        assert ready
        assert ctl.status()["last_reload"]["ok"] is True


async def test_a_task_that_ends_on_its_own_is_named_for_a_non_zero_exit() -> None:
    async def failing() -> None:
        raise RuntimeError("a bug")

    tasks = [
        asyncio.create_task(failing(), name="syncing"),
        asyncio.create_task(asyncio.sleep(60), name="source"),
    ]

    assert await _until_signal(tasks) == ["syncing"]
    tasks[1].cancel()
