"""`ingress-ctl run --manifests` as a real subprocess, for tests: start, reach, stop, restart.

The controller and its HAProxy listen on 127.0.0.1 on free ports; its output goes
to a log file that failed assertions show.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ingress_ctl.haproxy.process import ProcStatus, parse_show_proc
from ingress_ctl.haproxy.sockets import send_commands
from tests.conftest import ROOT, free_port, short_tmp_dir
from tests.http import Response, get, get_or_none, metric_samples, wait_for
from tests.manifests import Manifest, ingress_class

START_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Controller:
    """A running `ingress-ctl run --manifests` and where to reach it."""

    process: subprocess.Popen[bytes]
    manifests: Path
    state_dir: Path
    http_port: int
    status_port: int
    log: Path
    https_port: int
    haproxy_bin: str

    def write(self, *manifests: Manifest) -> None:
        write_manifests(self.manifests, *manifests)

    def get(self, host: str, request_path: str = "/") -> Response:
        return get(self.http_port, request_path, host=host)

    def status(self) -> Any:
        return get(self.status_port, "/status").json()

    def metrics(self) -> dict[str, float]:
        """Every sample of /metrics, by name with labels."""
        return metric_samples(self.status_port)

    def haproxy(self) -> ProcStatus:
        """The HAProxy master's `show proc`, over the master socket in the state directory."""
        reply = asyncio.run(
            send_commands(path=self.state_dir / "master.sock", commands=["show proc"])
        )
        return parse_show_proc(reply[0])

    def wait_until(self, probe: str, timeout: float = START_TIMEOUT_S) -> Response:
        """Poll a status-server path until it answers 200."""

        def answered() -> Response | None:
            self.check_running()
            found = get_or_none(self.status_port, probe)
            return found if found is not None and found.status == 200 else None

        return wait_for(answered, timeout=timeout)

    def check_running(self) -> None:
        code = self.process.poll()
        assert code is None, f"ingress-ctl exited with {code}:\n{self.log.read_text()}"

    def restarted(self) -> Controller:
        """Another controller on the same manifests, state directory, ports and log."""
        return start_controller(
            self.haproxy_bin,
            manifests=self.manifests,
            state_dir=self.state_dir,
            log=self.log,
            ports=(self.http_port, self.https_port, self.status_port),
        )


def write_manifests(folder: Path, *manifests: Manifest) -> None:
    """Replace the manifests (our IngressClass included) in one atomic rename."""
    temporary = folder / "objects.yaml.tmp"  # not a manifest suffix: never read
    temporary.write_text(yaml.safe_dump_all([ingress_class(), *manifests]))
    os.replace(temporary, folder / "objects.yaml")


def start_controller(
    haproxy_bin: str,
    *,
    manifests: Path,
    state_dir: Path,
    log: Path,
    ports: tuple[int, int, int],
) -> Controller:
    """Start `ingress-ctl run` on a folder of manifests; ports are (HTTP, HTTPS, status)."""
    http_port, https_port, status_port = ports
    flags = {
        "--manifests": manifests,
        "--state-dir": state_dir,
        "--bind-address": "127.0.0.1",
        "--http-port": http_port,
        "--https-port": https_port,
        "--status-port": status_port,
        "--haproxy-bin": haproxy_bin,
    }
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "ingress_ctl", "run", *_words(flags)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return Controller(
        process, manifests, state_dir, http_port, status_port, log, https_port, haproxy_bin
    )


@contextmanager
def running_controller(
    haproxy_bin: str,
    *manifests: Manifest,
    http_port: int | None = None,
    state_dir: Path | None = None,
) -> Iterator[Controller]:
    """Start `ingress-ctl run` on these manifests; SIGTERM it (and any HAProxy left) after."""
    with short_tmp_dir() as root:
        folder, log = root / "manifests", root / "controller.log"
        folder.mkdir()
        write_manifests(folder, *manifests)
        controller = start_controller(
            haproxy_bin,
            manifests=folder,
            state_dir=state_dir or root / "state",
            log=log,
            ports=(http_port or free_port(), free_port(), free_port()),
        )
        try:
            yield controller
        finally:
            stop(controller)


def _words(flags: dict[str, object]) -> list[str]:
    return [str(word) for flag in flags.items() for word in flag]


def stop(controller: Controller) -> None:
    """SIGTERM the controller, then SIGKILL whatever of its HAProxy survived."""
    masters = []
    if controller.process.poll() is None:
        with suppress(OSError, ValueError, TimeoutError):
            masters.append(controller.haproxy().master_pid)
        controller.process.terminate()
    try:
        controller.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        controller.process.kill()
        controller.process.wait()
    for master in masters:
        if running(master):
            os.killpg(master, signal.SIGKILL)  # HAProxy runs in a session of its own


def running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"
