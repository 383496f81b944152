"""Zero failed requests while endpoints churn and the configuration reloads.

Real HAProxy, real echo backends, the controller's own store → syncing →
applying pipeline, and a bounded load of keep-alive and `Connection: close`
clients. HAProxy's master counts the reloads; they must equal the changes
the plan said needed one. At the end, what runs (`show servers state`,
`show map`) equals what was rendered.
"""

from __future__ import annotations

import asyncio
import http.client
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ingress_ctl.haproxy import naming
from ingress_ctl.haproxy.applying import Applier
from ingress_ctl.haproxy.process import HAProxyProcess
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.objects import KubeObject, parse_object
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.state import ControllerStatus
from ingress_ctl.refreshing import Resolver
from ingress_ctl.store import Store
from ingress_ctl.syncing import Syncer
from ingress_ctl.web.observing import Observer
from tests.conftest import EchoBackends, free_port
from tests.loadgen import LoadGenerator
from tests.manifests import (
    Manifest,
    endpoint,
    endpoint_slice,
    ingress,
    ingress_class,
    path,
    rule,
    service,
    service_port,
)

pytestmark = pytest.mark.haproxy

IPS = [f"127.0.0.{i}" for i in range(41, 51)]
HOST = "churn.example.com"
BACKEND = "be_default_web_80"


def _objects(*manifests: Manifest) -> list[KubeObject]:
    parsed = [parse_object(m) for m in manifests]
    return [obj for obj in parsed if obj is not None]


def web_slice(port: int, ready: list[str], not_ready: list[str] | None = None) -> KubeObject:
    endpoints = [endpoint(ip) for ip in ready] + [
        endpoint(ip, ready=False) for ip in not_ready or ()
    ]
    [obj] = _objects(endpoint_slice("web-1", "web", *endpoints, ports=((None, port),)))
    return obj


def extra(index: int) -> list[KubeObject]:
    """A structural change: a new host served by a new Service (a new backend)."""
    name = f"extra{index}"
    return _objects(
        ingress(name, rule(f"{name}.example.com", path("/", name))),
        service(name, service_port(80, target=8080)),
    )


class Controller:
    """The controller's pipeline, driven step by step."""

    def __init__(
        self,
        *,
        haproxy_bin: str,
        state_dir: Path,
        http_port: int,
        resolver: Resolver | None = None,
        **flags: Any,
    ) -> None:
        self.store = Store()
        self.metrics = Metrics()
        self.process = HAProxyProcess(binary=haproxy_bin, state_dir=state_dir)
        self.settings = Settings(bind_address="127.0.0.1", http_port=http_port, **flags)
        self.status = status = ControllerStatus(mode="files")
        self.applier = Applier(
            process=self.process, state_dir=state_dir, status=status, metrics=self.metrics
        )
        self.syncer = Syncer(
            store=self.store,
            settings=self.settings,
            applier=self.applier,
            status=status,
            metrics=self.metrics,
            resolver=resolver,
        )
        self.actions: list[str] = []

    async def sync(self) -> None:
        await self.syncer.sync_once()
        assert self.syncer.last_outcome is not None
        outcome = self.syncer.last_outcome
        self.actions.append(outcome.action if outcome.action != "reload" else outcome.detail)

    async def runtime(self, command: str) -> str:
        [reply] = await self.process.runtime([command])
        return reply


@pytest.fixture
def backends(echo_backends: EchoBackends) -> Iterator[int]:
    port = free_port()
    for i, ip in enumerate(IPS):
        echo_backends.start(name=f"web-{i}", host=ip, port=port)
    yield port


@pytest.fixture
async def controller(haproxy_bin: str) -> AsyncIterator[Controller]:
    with tempfile.TemporaryDirectory(prefix="iczd") as state:
        found = Controller(haproxy_bin=haproxy_bin, state_dir=Path(state), http_port=free_port())
        yield found
        await found.process.stop()


def running_servers(state: str, backend: str) -> set[tuple[str, int]]:
    """(address, port) of every server of backend that is not in maintenance.

    srv_admin_state is a bit set: 0x1 forced (CLI) and 0x2 inherited maintenance stop
    traffic. 0x4 only records that the configuration said `disabled`: HAProxy 2.6 keeps
    it after `set server ... state ready`, and such a server serves (checked by hand).
    """
    servers = set()
    for line in state.splitlines():
        fields = line.split()
        if len(fields) > 18 and fields[1] == backend and int(fields[6]) & 0x3 == 0:
            servers.add((fields[4], int(fields[18])))
    return servers


def configured_servers(config: str, backend: str) -> set[tuple[str, int]]:
    """(address, port) of every enabled server line of backend in a haproxy.cfg."""
    section = config.split(f"backend {backend}\n", 1)[1].split("\n\n", 1)[0]
    servers = set()
    for line in section.splitlines():
        words = line.split()
        if words[:1] == ["server"] and "disabled" not in words:
            address, _, port = words[2].rpartition(":")
            servers.add((address, int(port)))
    return servers


def running_map(text: str) -> dict[str, str]:
    return {
        key: value for _, key, value in (line.split(" ", 2) for line in text.splitlines() if line)
    }


async def _site_under_load(
    controller: Controller, backends: int, ready: list[str]
) -> tuple[int, LoadGenerator]:
    """Serve HOST from Service `web` on `ready`, then start 8 clients on it: HAProxy's
    reload count before the load, and the running load."""
    controller.store.replace_all(
        [
            *_objects(
                ingress_class(),
                ingress("site", rule(HOST, path("/", "web"))),
                service("web", service_port(80, target=backends)),
            ),
            web_slice(backends, ready),
        ],
        [],
    )
    await controller.sync()
    reloads_before = (await controller.process.status()).reloads
    load = LoadGenerator(
        port=controller.settings.http_port, host=HOST, path="/", clients=8, requests=10**9
    )
    load.start()
    return reloads_before, load


async def test_churn_and_reloads_fail_no_request(controller: Controller, backends: int) -> None:
    store = controller.store
    reloads_before, load = await _site_under_load(controller, backends, IPS[:1])
    for churn in range(100):
        ready = IPS if churn % 2 == 0 else IPS[: 1 + churn % 3]
        flipped = IPS[5:8] if churn % 4 == 0 else []
        serving = [ip for ip in ready if ip not in flipped]
        store.upsert(web_slice(backends, serving, flipped))
        await controller.sync()
        if churn % 10 == 5:
            for obj in extra(churn // 10):
                store.upsert(obj)
            await controller.sync()
        await asyncio.sleep(0.03)
    while load.load.total < 20_000:
        await asyncio.sleep(0.1)
    result = load.stop()

    assert result.failed == 0, (result.statuses, result.errors[:5])
    assert result.total >= 20_000
    reloads = (await controller.process.status()).reloads - reloads_before
    kinds = Counter(controller.actions)
    # 10 new backends take spares; web grows 4 -> 8 -> 16 slots once (7, then 10 servers).
    assert (kinds["backends"], kinds["spares"], kinds["slots"]) == (0, 0, 2)
    assert reloads == kinds["slots"]
    assert kinds["runtime"] + kinds["none"] == 110 - 2

    await controller.syncer.sync_once(full=True)  # what run() does once changes pause
    assert controller.syncer.last_outcome is not None
    assert controller.syncer.last_outcome.action == "runtime"
    rendered = controller.applier.current
    assert rendered is not None
    state = await controller.runtime(f"show servers state {BACKEND}")
    desired = {(s.address, s.port) for s in rendered.layout.backends[BACKEND] if s is not None}
    assert running_servers(state, BACKEND) == desired
    for name, entries in rendered.maps.items():
        assert running_map(await controller.runtime(f"show map {name}")) == entries
    on_disk = (controller.process.admin_socket.parent / naming.CONFIG_FILE).read_text()
    assert on_disk == rendered.files[naming.CONFIG_FILE]
    assert configured_servers(on_disk, BACKEND) == desired


async def test_files_on_disk_catch_up_after_endpoint_only_passes(
    controller: Controller, backends: int
) -> None:
    site = _objects(
        ingress_class(),
        ingress("site", rule(HOST, path("/", "web"))),
        service("web", service_port(80, target=backends)),
    )
    controller.store.replace_all([*site, web_slice(backends, IPS[:1])], [])
    loop = asyncio.create_task(controller.syncer.run())
    config = controller.process.admin_socket.parent / naming.CONFIG_FILE
    try:
        await wait_until(lambda: controller.applier.current is not None)
        controller.store.upsert(web_slice(backends, IPS[:3]))
        await wait_until(lambda: _last_action(controller) == "runtime")
        state = await controller.runtime(f"show servers state {BACKEND}")
        assert running_servers(state, BACKEND) == {(ip, backends) for ip in IPS[:3]}
        assert configured_servers(config.read_text(), BACKEND) == {(IPS[0], backends)}

        await wait_until(
            lambda: configured_servers(config.read_text(), BACKEND) != {(IPS[0], backends)}
        )

        assert configured_servers(config.read_text(), BACKEND) == {(ip, backends) for ip in IPS[:3]}
    finally:
        loop.cancel()


async def test_fifty_new_services_under_load_reload_only_when_the_pool_runs_out(
    controller: Controller, backends: int
) -> None:
    """Services and their Ingresses added one by one: each new host answers 200 at once, no
    request fails, and HAProxy's master counts only the reloads of a pool of spares that ran
    out (16 spares, then 32: the 17th and the 50th Service)."""
    store = controller.store
    reloads_before, load = await _site_under_load(controller, backends, IPS[:2])
    port = controller.settings.http_port
    for index in range(50):
        for obj in new_service(index, backends):
            store.upsert(obj)
        await controller.sync()
        status = await asyncio.to_thread(get_status, port, f"new{index}.example.com")
        assert status == 200, f"new{index}: {status} after {controller.actions[-1]}"
    result = load.stop()

    assert result.failed == 0, (result.statuses, result.errors[:5])
    assert result.total > 0
    reloads = (await controller.process.status()).reloads - reloads_before
    kinds = Counter(controller.actions[1:])
    assert kinds == Counter(runtime=48, spares=2)
    assert reloads == 2
    rendered = controller.applier.current
    assert rendered is not None
    for name, entries in rendered.maps.items():
        assert running_map(await controller.runtime(f"show map {name}")) == entries
    await _counted_under_its_spare(controller, "new48")


async def _counted_under_its_spare(controller: Controller, service: str) -> None:
    """A request to a Service that took a spare is counted by HAProxy under the spare's name
    (the last reload reset the counters): /status names that section with its counters, and
    /metrics labels them with the Service."""
    port = controller.settings.http_port
    assert await asyncio.to_thread(get_status, port, f"{service}.example.com") == 200
    backend = f"be_default_{service}_80"
    observer = Observer(status=controller.status, admin_socket=controller.process.admin_socket)
    overview = await observer.overview(controller.status.report(), backends={backend})
    [view] = overview.backends
    assert view.section.startswith(naming.SPARE_PREFIX), view
    assert (view.state, view.traffic.requests) == ("UP", 1)
    metrics = (await observer.exposition()).decode()
    labels = f'namespace="default",port="80",proxy="{view.section}",service="{service}"'
    assert f"haproxy_backend_http_requests_total{{{labels}}} 1.0" in metrics


def new_service(index: int, port: int) -> list[KubeObject]:
    """Service `new<index>` (one echo backend) and an Ingress for host `new<index>.example.com`."""
    name = f"new{index}"
    return [
        *_objects(
            ingress(name, rule(f"{name}.example.com", path("/", name))),
            service(name, service_port(80, target=port)),
            endpoint_slice(
                f"{name}-1", name, endpoint(IPS[index % len(IPS)]), ports=((None, port),)
            ),
        )
    ]


def get_status(port: int, host: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/", headers={"Host": host})
        return connection.getresponse().status
    finally:
        connection.close()


def _last_action(controller: Controller) -> str | None:
    outcome = controller.syncer.last_outcome
    return outcome.action if outcome is not None else None


async def wait_until(ready: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not ready():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)
