"""Faults under load: the real controller keeps serving what it can, and says what happened.

`ingress-ctl run --manifests` runs as a subprocess with its state directory on a
small tmpfs of its own (so the disk can really fill), in front of real echo
backends, while a bounded load of keep-alive and `Connection: close` clients
runs. Each test drives one fault (a typo, a half-written file, a same-content
rewrite, a full disk, killed workers, a killed master, an HAProxy that cannot
restart, a killed controller) and checks the failed requests, then what
/readyz, /healthz, /status and /metrics said.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    EchoBackends,
    TinyFilesystem,
    echo_service,
    free_port,
    short_tmp_dir,
    tiny_filesystem,
)
from tests.controller import Controller, running, running_controller, stop
from tests.http import Response, get, get_or_none, wait_for
from tests.loadgen import Load, LoadGenerator
from tests.manifests import Manifest, ingress, path, rule

pytestmark = pytest.mark.haproxy

HOST = "app.test"
ADDRESSES = {"web": "127.0.0.61", "new": "127.0.0.62"}
WORKER_KILLS = 6
MAX_OUTAGE_S = 2.0
SETTLED_S = 2.0
"""Longer than the file source waits for a writer to settle (1 s), with a poll to spare."""


@dataclass(frozen=True)
class Site:
    """The controller under test, its full-able disk and its manifests."""

    controller: Controller
    disk: TinyFilesystem
    echoes: dict[str, tuple[Manifest, Manifest]]

    def manifests(
        self, *extra_paths: tuple[str, str], annotations: dict[str, str] | None = None
    ) -> list[Manifest]:
        """app.test/ -> web, plus `(path, service)` routes, the Ingress annotated so."""
        routes = [path("/", "web"), *(path(p, service) for p, service in extra_paths)]
        services = {"web", *(service for _, service in extra_paths)}
        echo = [made for name in sorted(services) for made in self.echoes[name]]
        return [ingress("app", rule(HOST, *routes), annotations=annotations), *echo]

    @property
    def file(self) -> Path:
        return self.controller.manifests / "objects.yaml"


@pytest.fixture(scope="module")
def echoes() -> Iterator[dict[str, tuple[Manifest, Manifest]]]:
    backends = EchoBackends()
    try:
        found = {}
        for name, address in ADDRESSES.items():
            port = free_port(address)
            backends.start(name=name, host=address, port=port)
            found[name] = echo_service(name, address, port)
        yield found
    finally:
        backends.stop()


@pytest.fixture(scope="module")
def site(haproxy_bin: str, echoes: dict[str, tuple[Manifest, Manifest]]) -> Iterator[Site]:
    with tiny_filesystem() as disk:
        manifests = [ingress("app", rule(HOST, path("/", "web"))), *echoes["web"]]
        with running_controller(haproxy_bin, *manifests, state_dir=disk.path / "state") as ctl:
            ctl.wait_until("/readyz")
            yield Site(ctl, disk, echoes)


@contextmanager
def load(controller: Controller, clients: int = 4) -> Iterator[Load]:
    """Requests to app.test/ for the duration of the block; the counts once it ended."""
    generator = LoadGenerator(
        port=controller.http_port, host=HOST, path="/", clients=clients, requests=10**9
    )
    generator.start()
    try:
        yield generator.load
    finally:
        generator.stop()


def samples(controller: Controller, prefix: str) -> float:
    """The sum of every sample of a metric (over all its labels)."""
    found = controller.metrics()
    return sum(value for name, value in found.items() if name.split("{")[0] == prefix)


def reloads_and_commands(controller: Controller) -> tuple[float, float]:
    return (
        samples(controller, "ingress_ctl_reloads_total"),
        samples(controller, "ingress_ctl_runtime_commands_total"),
    )


def served(controller: Controller, request_path: str = "/") -> str | None:
    found = get_or_none(controller.http_port, request_path, host=HOST)
    return found.backend if found is not None and found.status == 200 else None


def readyz(controller: Controller) -> Response:
    return get(controller.status_port, "/readyz")


# File faults: no failed request, no reload, no runtime command.


def test_a_typo_keeps_the_files_objects_and_says_so(site: Site) -> None:
    ctl = site.controller
    good = site.file.read_text()
    before = reloads_and_commands(ctl)

    with load(ctl) as during:
        site.file.write_text(good + "---\nmetadata: {name: [unclosed\n")
        problem = wait_for(lambda: _file_problem(ctl), timeout=5)
        assert problem["reason"].endswith("its last good 4 object(s) are kept")
        assert readyz(ctl).status == 200
        assert served(ctl) == "web"
        site.file.write_text(good)
        wait_for(lambda: _file_problem(ctl) is None or None, timeout=5)

    assert (during.failed, during.total > 100) == (0, True), during.errors[:3]
    assert reloads_and_commands(ctl) == before
    assert samples(ctl, "ingress_ctl_problems") == 0


def _file_problem(controller: Controller) -> dict[str, str] | None:
    found = [p for p in controller.status()["problems"] if p["source"]["kind"] == "File"]
    return found[0] if found else None


def test_a_half_written_file_is_read_again_once_its_writer_settled(site: Site) -> None:
    ctl = site.controller
    good = site.file.read_bytes()
    before = reloads_and_commands(ctl)

    with load(ctl) as during:
        for cut in (0, len(good) // 3, len(good) // 2):
            with site.file.open("wb") as file:  # a shell's `>`: truncate, then write
                file.write(good[:cut])
                file.flush()
                time.sleep(0.3)  # the source polls every 0.2 s: it sees the half file
                file.write(good[cut:])
        time.sleep(SETTLED_S)

    assert (during.failed, during.total > 100) == (0, True), during.errors[:3]
    assert reloads_and_commands(ctl) == before
    assert ctl.status()["problems"] == []


def test_a_rewrite_with_the_same_content_changes_nothing(site: Site) -> None:
    ctl = site.controller
    good = site.file.read_bytes()
    before = reloads_and_commands(ctl)
    syncs = samples(ctl, "ingress_ctl_syncs_total")

    with load(ctl) as during:
        for _ in range(5):
            site.file.write_bytes(good)
            time.sleep(0.25)
        time.sleep(SETTLED_S)

    assert (during.failed, during.total > 100) == (0, True), during.errors[:3]
    assert reloads_and_commands(ctl) == before
    assert samples(ctl, "ingress_ctl_syncs_total") == syncs


# A full disk: the last good configuration serves, the change waits for space.


LEASTCONN = {"ingress-ctl.io/load-balance": "leastconn"}


def test_a_full_disk_keeps_serving_and_applies_the_change_once_freed(site: Site) -> None:
    ctl = site.controller
    failures = samples(ctl, "ingress_ctl_apply_failures_total")

    with load(ctl) as during:
        site.disk.fill()
        # backends of a policy no pool of spares holds yet: files and a reload
        ctl.write(*site.manifests(("/new", "new"), annotations=LEASTCONN))
        status = wait_for(lambda: _last_error(ctl), timeout=5)
        assert "No space left on device" in status["last_error"]
        assert status["ready"] is True
        ready = readyz(ctl)
        assert ready.status == 200
        assert ready.text.startswith("ready: serving the last good configuration; cannot write")
        assert samples(ctl, "ingress_ctl_apply_failures_total") > failures
        assert served(ctl, "/new") == "web"
        site.disk.free()
        wait_for(lambda: served(ctl, "/new") == "new" or None, timeout=10)

    assert (during.failed, during.total > 100) == (0, True), during.errors[:3]
    wait_for(lambda: ctl.status()["last_error"] is None or None, timeout=2)  # once recorded
    assert readyz(ctl).text == "ready\n"


def test_a_controller_started_on_a_full_disk_waits_for_space(
    haproxy_bin: str, echoes: dict[str, tuple[Manifest, Manifest]]
) -> None:
    with tiny_filesystem() as disk:
        manifests = [ingress("app", rule(HOST, path("/", "web"))), *echoes["web"]]
        with running_controller(haproxy_bin, *manifests, state_dir=disk.path / "state") as ctl:
            ctl.wait_until("/readyz")
            stop(ctl)
            disk.fill()
            again = ctl.restarted()
            try:
                again.wait_until("/healthz")
                status = wait_for(lambda: _last_error(again), timeout=10)
                assert "No space left on device" in status["last_error"]
                assert readyz(again).text == "not ready: no configuration serves yet\n"
                assert get(again.status_port, "/healthz").status == 200
                disk.free()
                again.wait_until("/readyz")
                assert served(again) == "web"
            finally:
                stop(again)


def _last_error(controller: Controller) -> Any:
    status = controller.status()
    return status if status["last_error"] else None


# A dead HAProxy: restarted at once, counted, and /readyz tells while none serves.


def test_killed_workers_are_replaced_within_two_seconds(site: Site) -> None:
    ctl = site.controller
    restarts = ctl.status()["haproxy"]["restarts"]
    outages = []

    with load(ctl):
        for _ in range(WORKER_KILLS):
            before = ctl.haproxy()
            kill = partial(os.kill, before.workers[0], signal.SIGKILL)
            outages.append(_outage(ctl, kill, before.master_pid))
            wait_for(lambda: _status_of(ctl, "/readyz", 200), timeout=5)  # the controller saw it

    assert max(outages) <= MAX_OUTAGE_S, outages
    haproxy = ctl.status()["haproxy"]
    assert haproxy["restarts"] == restarts + WORKER_KILLS
    assert haproxy["running"] is True
    assert haproxy["last_exit"].startswith("master ")
    assert samples(ctl, "ingress_ctl_haproxy_restarts_total") == restarts + WORKER_KILLS
    assert samples(ctl, "ingress_ctl_haproxy_up") == 1


def test_a_killed_master_is_replaced_within_two_seconds(site: Site) -> None:
    ctl = site.controller
    before = ctl.haproxy()

    outage = _outage(ctl, partial(os.killpg, before.master_pid, signal.SIGKILL), before.master_pid)

    assert outage <= MAX_OUTAGE_S
    assert f"master {before.master_pid} killed by SIGKILL" == ctl.status()["haproxy"]["last_exit"]


def _replaced(controller: Controller, master: int) -> bool | None:
    """Whether another master than `master` answers on the master socket (None if not yet)."""
    try:
        return controller.haproxy().master_pid != master or None
    except (OSError, ValueError, TimeoutError):
        return None


def _outage(controller: Controller, fault: Callable[[], None], master: int) -> float:
    """Seconds from the fault until a new HAProxy master serves app.test."""
    started = time.monotonic()
    fault()
    wait_for(partial(_replaced, controller, master), timeout=10, interval=0.01)
    wait_for(lambda: served(controller) == "web" or None, timeout=10, interval=0.01)
    return time.monotonic() - started


def test_an_haproxy_that_cannot_restart_fails_readiness_then_liveness(site: Site) -> None:
    ctl = site.controller
    config = ctl.state_dir / "haproxy.cfg"
    good = config.read_text()
    config.write_text(good + "    bogus_keyword x\n")  # what the next restart will read
    os.killpg(ctl.haproxy().master_pid, signal.SIGKILL)

    not_ready = wait_for(lambda: _status_of(ctl, "/readyz", 503), timeout=5)
    assert not_ready.text.startswith("not ready: no HAProxy worker serves (")
    wait_for(lambda: "did not restart: " in readyz(ctl).text or None, timeout=5)
    status = ctl.status()
    assert (status["ready"], status["haproxy"]["running"]) == (False, False)
    assert samples(ctl, "ingress_ctl_haproxy_up") == 0
    unhealthy = wait_for(lambda: _status_of(ctl, "/healthz", 503), timeout=15)
    assert unhealthy.text.startswith("unhealthy: haproxy has not served for ")
    config.write_text(good)
    wait_for(lambda: _status_of(ctl, "/readyz", 200), timeout=5)
    assert served(ctl) == "web"
    assert get(ctl.status_port, "/healthz").status == 200


def _status_of(controller: Controller, probe: str, code: int) -> Response | None:
    found = get(controller.status_port, probe)
    return found if found.status == code else None


# A killed controller: its HAProxy goes with it; the next one owns the state directory.


def test_a_killed_controller_takes_its_haproxy_along_and_a_restart_serves_alone(
    haproxy_bin: str, echoes: dict[str, tuple[Manifest, Manifest]]
) -> None:
    app = ingress("app", rule(HOST, path("/", "web"), path("/new", "new")))
    with short_tmp_dir() as root:
        state_dir = root / "state"
        with running_controller(haproxy_bin, app, *echoes["web"], state_dir=state_dir) as ctl:
            try:
                _kill_and_restart(ctl, app, echoes)
            finally:
                for left in _masters_of(state_dir):  # none unless the test failed
                    os.killpg(left, signal.SIGKILL)


def _kill_and_restart(
    ctl: Controller, app: Manifest, echoes: dict[str, tuple[Manifest, Manifest]]
) -> None:
    ctl.wait_until("/readyz")
    master = ctl.haproxy().master_pid
    ctl.process.kill()
    ctl.process.wait()
    wait_for(lambda: not running(master) or None, timeout=5)

    ctl.write(app, *echoes["web"], *echoes["new"])
    again = ctl.restarted()
    try:
        again.wait_until("/readyz")
        assert served(again, "/new") == "new"
        assert _masters_of(ctl.state_dir) == [again.haproxy().master_pid]
        second = ctl.restarted()
        assert second.process.wait(timeout=15) == 1
        assert "is in use by another ingress-ctl" in ctl.log.read_text()
        again.check_running()
    finally:
        stop(again)


def _masters_of(state_dir: Path) -> list[int]:
    """The HAProxy masters (session leaders) running on this state directory."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            leader = os.getsid(int(entry.name)) == int(entry.name)
        except (OSError, ValueError):
            continue
        if os.fsencode(state_dir) in command and leader and running(int(entry.name)):
            found.append(int(entry.name))
    return found
