"""The supervised HAProxy master-worker process: check, start, reload, restart, stop.

HAProxy runs as `haproxy -W -db -S unix@master.sock,level,admin,mode,600 -C <state_dir> -f
<config>`. That is a foreground master: our child, which forks the worker and re-executes
itself on `reload`. It runs in a session of its own, so a terminal's Ctrl-C reaches only the
controller, which then stops it in order. On Linux it gets SIGTERM when the controller dies
(`PR_SET_PDEATHSIG`), so a killed controller leaves no HAProxy serving an old configuration;
where that cannot hold, the next start finds the previous master (master socket, else the
pid file) and stops it before binding. `-C` makes the state directory HAProxy's working
directory, so the configuration, the maps and the sockets are named relative to it. HAProxy
reads a socket address as a path only when it starts with `/` or `unix@`. Hence
`unix@master.sock` here, and `stats socket unix@admin.sock` in the configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import re
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from time import monotonic

from pydantic import BaseModel, ConfigDict

from ingress_ctl.haproxy.naming import ADMIN_SOCKET, CONFIG_FILE, MASTER_SOCKET, PID_FILE
from ingress_ctl.haproxy.sockets import send_commands
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.state import HAProxyReport

logger = logging.getLogger(__name__)
output_logger = logging.getLogger("haproxy")
"""HAProxy's own stderr lines (startup notices, alerts, its `log stderr` lines) when forwarded."""
_OUTPUT_LEVELS = {
    "[ALERT]": logging.ERROR,
    "[WARNING]": logging.WARNING,
    "[NOTICE]": logging.INFO,
}

_SUN_PATH_MAX = 107
_CLI_TIMEOUT_S = 2.0
_POLL_S = 0.01
_START_TIMEOUT_S = 10.0
_RELOAD_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 5.0
_SOFT_STOP_TIMEOUT_S = 20.0
"""Inside a pod's default 30 s grace period (the template's hard-stop-after is 60 s)."""
_CHECK_TIMEOUT_S = 60.0
_RESTART_DELAYS_S = (0.0, 0.1, 0.25, 0.5)
"""Wait before each restart in a row: the first at once, then at most half a second."""
_STABLE_S = 10.0
"""A master that ran this long starts the delays over."""
_PR_SET_PDEATHSIG = 1

_MASTER_LINE = re.compile(
    r"^(?P<pid>\d+)\s+master\s+(?P<reloads>\d+)\s+\[failed:\s*(?P<failed>\d+)\]"
)
_WORKER_LINE = re.compile(r"^(?P<pid>\d+)\s+worker\s")
_SECTIONS = {"# workers": "workers", "# old workers": "old_workers", "# programs": "programs"}
_VERSION_LINE = re.compile(r"^HA-?Proxy version (?P<version>\S+)", re.MULTILINE)


class HAProxyError(RuntimeError):
    """HAProxy could not be started or is used before it was."""


class CheckResult(BaseModel):
    """Outcome of `haproxy -c`: whether the configuration is valid, and what HAProxy said."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    output: str


class ReloadResult(BaseModel):
    """Outcome of a reload, as verified on the master CLI."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    detail: str
    duration_s: float


class ProcStatus(BaseModel):
    """The master CLI's `show proc`.

    `failed_reloads` counts failed reloads since the last successful one. `workers` serve the
    current configuration, and `old_workers` are draining an older one.
    """

    model_config = ConfigDict(frozen=True)

    master_pid: int
    reloads: int
    failed_reloads: int
    workers: tuple[int, ...]
    old_workers: tuple[int, ...]


def parse_show_proc(text: str) -> ProcStatus:
    """Parse the master CLI's `show proc` reply; ValueError when it is not one."""
    master: re.Match[str] | None = None
    pids: dict[str, list[int]] = {"workers": [], "old_workers": [], "programs": []}
    section = ""
    for line in text.splitlines():
        if line.strip() in _SECTIONS:
            section = _SECTIONS[line.strip()]
        elif found := _MASTER_LINE.match(line):
            master = found
        elif (found := _WORKER_LINE.match(line)) and section:
            pids[section].append(int(found["pid"]))
    if master is None:
        raise ValueError(f"not a `show proc` reply: {text[:200]!r}")
    return ProcStatus(
        master_pid=int(master["pid"]),
        reloads=int(master["reloads"]),
        failed_reloads=int(master["failed"]),
        workers=tuple(pids["workers"]),
        old_workers=tuple(pids["old_workers"]),
    )


def output_level(line: str) -> int:
    """The logging level of one line HAProxy printed (by its `[ALERT]`-style tag)."""
    return _OUTPUT_LEVELS.get(line.split(" ", 1)[0], logging.INFO)


async def forward_output(stream: asyncio.StreamReader) -> None:
    """Log each line of ``stream`` through :data:`output_logger` until it ends."""
    while line := await stream.readline():
        text = line.decode(errors="replace").rstrip("\n")
        output_logger.log(output_level(text), "%s", text)


def parse_version(text: str) -> str:
    """The version `haproxy -v` printed (e.g. `3.0.11-1+deb13u4`); HAProxyError if none."""
    found = _VERSION_LINE.search(text)
    if found is None:
        raise HAProxyError(f"no version in `haproxy -v` output: {text[:200]!r}")
    return found["version"]


class HAProxyProcess:
    """One HAProxy master-worker rooted in `state_dir`, and the only code that signals it."""

    def __init__(
        self,
        *,
        binary: str = "haproxy",
        state_dir: Path,
        config_name: str = CONFIG_FILE,
        metrics: Metrics | None = None,
        forward_output: bool = False,
    ) -> None:
        """`forward_output`: HAProxy's stdout and stderr go through our logging (so JSON logs
        stay JSON) instead of straight to our stderr."""
        self._binary = binary
        self._metrics = metrics or Metrics()
        self._forward_output = forward_output
        self._forwarders: set[asyncio.Task[None]] = set()
        self._state_dir = state_dir.absolute()
        self._config_name = config_name
        for name in (MASTER_SOCKET, ADMIN_SOCKET):
            if len(os.fsencode(self._state_dir / name)) > _SUN_PATH_MAX:
                raise ValueError(f"{self._state_dir / name} is too long for a UNIX socket")
        self._master: asyncio.subprocess.Process | None = None
        self._started_at = 0.0
        self._ready = False
        self._stopping = False
        self._lock = asyncio.Lock()
        self._started = asyncio.Event()
        self._restarts = 0
        self._last_exit: str | None = None
        self._down_since: float | None = None

    @property
    def master_socket(self) -> Path:
        """The master CLI socket."""
        return self._state_dir / MASTER_SOCKET

    @property
    def admin_socket(self) -> Path:
        """The worker's admin stats socket, which the configuration must declare."""
        return self._state_dir / ADMIN_SOCKET

    @property
    def alive(self) -> bool:
        """The master runs and has had an answering worker since it last started.

        HAProxy 2.6's master exits when its current worker dies.
        """
        return self._ready and self._master is not None and self._master.returncode is None

    def down_for(self) -> float:
        """Seconds since a started HAProxy exited unasked without a restart serving yet."""
        return 0.0 if self._down_since is None else monotonic() - self._down_since

    def report(self) -> HAProxyReport:
        """What /status says about HAProxy."""
        master = self._master
        return HAProxyReport(
            running=self.alive,
            master_pid=master.pid if master is not None and self.alive else None,
            restarts=self._restarts,
            last_exit=self._last_exit,
            down_s=round(self.down_for(), 1),
        )

    @property
    def started(self) -> bool:
        """Whether start() has succeeded once (supervise() keeps it running from then on)."""
        return self._started.is_set()

    async def version(self) -> str:
        """The binary's version (`haproxy -v`); HAProxyError when it does not run."""
        try:
            probe = await asyncio.create_subprocess_exec(
                self._binary, "-v",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        except OSError as error:
            raise HAProxyError(f"cannot run {self._binary}: {error}") from error
        output, _ = await probe.communicate()
        return parse_version(output.decode(errors="replace"))

    async def check(self, *, config: Path, directory: Path | None = None) -> CheckResult:
        """Run `haproxy -c` on `config`, resolving relative paths from `directory`.

        `directory` defaults to the state directory; a staging folder checks files
        before they are installed.
        """
        root = self._state_dir if directory is None else directory.absolute()
        checker = await asyncio.create_subprocess_exec(
            self._binary, "-c", "-C", str(root), "-f", str(config),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        try:
            async with asyncio.timeout(_CHECK_TIMEOUT_S):
                output, _ = await checker.communicate()
        except TimeoutError:
            return CheckResult(ok=False, output=f"haproxy -c ran over {_CHECK_TIMEOUT_S} s")
        finally:
            if checker.returncode is None:
                checker.kill()
                await checker.wait()
        return CheckResult(ok=checker.returncode == 0, output=output.decode(errors="replace"))

    async def start(self) -> None:
        """Start HAProxy on the configuration, returning once its worker answers.

        Raises HAProxyError when no worker answers. HAProxy's own explanation goes to its
        stderr, which is ours.
        """
        async with self._lock:
            self._stopping = False
            if not self.started:
                await self._stop_previous()
            await self._start()
            self._started.set()

    async def status(self) -> ProcStatus:
        """The master's current `show proc`."""
        [reply] = await send_commands(
            path=self.master_socket, commands=["show proc"], timeout=_CLI_TIMEOUT_S
        )
        return parse_show_proc(reply)

    async def reload(self) -> ReloadResult:
        """Reload the configuration from disk and verify that a new worker answers.

        A rejected configuration leaves the previous worker serving, and the result says so.
        """
        async with self._lock:
            started = monotonic()
            ok, detail = await self._reload()
            return ReloadResult(ok=ok, detail=detail, duration_s=monotonic() - started)

    async def runtime(self, commands: Sequence[str]) -> list[str]:
        """Send runtime API commands, already escaped, in one batch. Returns one reply each."""
        return await send_commands(path=self.admin_socket, commands=commands)

    async def supervise(self) -> None:
        """Restart HAProxy whenever its master exits unless stop() asked: the first time at
        once, then after a short delay (at most half a second) while it keeps failing.

        Waits for the first start(); returns once stop() has been called.
        """
        await self._started.wait()
        in_a_row = 0
        while not self._stopping:
            master = self._master
            assert master is not None, "start() succeeded, so a master exists"
            await master.wait()
            if self._stopping:
                return
            _kill_group(master.pid)
            if self._down_since is None:  # it served; else a restart failed, and said why
                self._down_since = monotonic()
                self._last_exit = f"master {master.pid} {_exit_reason(master.returncode)}"
            if monotonic() - self._started_at >= _STABLE_S:
                in_a_row = 0
            delay = _RESTART_DELAYS_S[min(in_a_row, len(_RESTART_DELAYS_S) - 1)]
            in_a_row += 1
            logger.error("HAProxy %s; restarting in %.2f s", self._last_exit, delay)
            await asyncio.sleep(delay)
            await self._restart()

    async def stop(self) -> None:
        """Stop HAProxy gracefully: SIGUSR1 to the master (soft stop: the listeners close at
        once, requests in flight finish, idle keep-alive connections get their next answer
        with `Connection: close`), then SIGTERM, then SIGKILL to its process group."""
        self._stopping = True
        async with self._lock:
            self._ready = False
            master = self._master
            if master is None or master.returncode is not None:
                return
            for sig, timeout in (
                (signal.SIGUSR1, _SOFT_STOP_TIMEOUT_S),
                (signal.SIGTERM, _STOP_TIMEOUT_S),
            ):
                master.send_signal(sig)
                try:
                    async with asyncio.timeout(timeout):
                        await master.wait()
                    return
                except TimeoutError:
                    logger.warning("HAProxy master %d still runs after %s", master.pid, sig.name)
            _kill_group(master.pid)
            await master.wait()

    def _command(self) -> list[str]:
        return [
            self._binary, "-W", "-db",
            "-S", f"unix@{MASTER_SOCKET},level,admin,mode,600",
            "-C", str(self._state_dir),
            "-f", self._config_name,
        ]  # fmt: skip

    async def _start(self) -> None:
        if self.alive:
            raise HAProxyError("HAProxy is already running")
        self._ready = False
        output = asyncio.subprocess.PIPE if self._forward_output else None
        self._master = await asyncio.create_subprocess_exec(
            *self._command(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT if output else None,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        if self._master.stdout is not None:
            forwarder = asyncio.create_task(forward_output(self._master.stdout))
            self._forwarders.add(forwarder)
            forwarder.add_done_callback(self._forwarders.discard)
        self._started_at = monotonic()
        try:
            await self._wait_ready(self._master)
        except BaseException:
            _kill_group(self._master.pid)
            await self._master.wait()
            raise
        self._ready, self._down_since = True, None
        self._write_pid_file(self._master.pid)
        logger.info("HAProxy master %d started", self._master.pid)

    def _write_pid_file(self, pid: int) -> None:
        """Note the master's pid, for a controller that starts after this one was killed."""
        path = self._state_dir / PID_FILE
        temporary = path.with_name(f".{PID_FILE}.tmp")
        try:
            temporary.write_text(f"{pid}\n")
            temporary.replace(path)
        except OSError as error:
            temporary.unlink(missing_ok=True)
            logger.warning("cannot write %s: %s", path, error)

    async def _stop_previous(self) -> None:
        """Stop an HAProxy master that an earlier controller of this state directory left."""
        pid = await self._previous_master()
        if pid is None:
            return
        logger.warning("stopping HAProxy master %d left running in %s", pid, self._state_dir)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)  # its session: the master and its workers
        try:
            async with asyncio.timeout(_STOP_TIMEOUT_S):
                while _group_runs(pid):
                    await asyncio.sleep(_POLL_S)
        except TimeoutError:
            logger.warning("HAProxy master %d ignored SIGTERM; killing it", pid)
            _kill_group(pid)

    async def _previous_master(self) -> int | None:
        """The pid of a master of this state directory that is not ours, if one runs."""
        status = await self._status_or_none()
        if status is not None:
            return status.master_pid
        try:
            pid = int((self._state_dir / PID_FILE).read_text())
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return None
        return pid if os.fsencode(self._state_dir) in command else None

    async def _wait_ready(self, master: asyncio.subprocess.Process) -> None:
        try:
            async with asyncio.timeout(_START_TIMEOUT_S):
                while not await self._has_answering_worker(master.pid):
                    if master.returncode is not None:
                        raise HAProxyError(
                            f"HAProxy exited with code {master.returncode} while starting"
                        )
                    await asyncio.sleep(_POLL_S)
        except TimeoutError:
            raise HAProxyError(f"no HAProxy worker answered within {_START_TIMEOUT_S} s") from None

    async def _has_answering_worker(self, master_pid: int) -> bool:
        status = await self._status_or_none()
        if status is None or status.master_pid != master_pid or not status.workers:
            return False
        return await self._worker_answers(status.workers[0])

    async def _status_or_none(self) -> ProcStatus | None:
        try:
            return await self.status()
        except (OSError, TimeoutError, ValueError):
            return None

    async def _worker_answers(self, pid: int) -> bool:
        try:
            [reply] = await send_commands(
                path=self.master_socket, commands=[f"@!{pid} show info"], timeout=_CLI_TIMEOUT_S
            )
        except (OSError, TimeoutError):
            return False
        return f"\nPid: {pid}\n" in f"\n{reply}\n"

    async def _reload(self) -> tuple[bool, str]:
        if not self.alive:
            return False, "HAProxy is not running"
        try:
            before = await self.status()
            await send_commands(path=self.master_socket, commands=["reload"])
        except (OSError, TimeoutError, ValueError) as error:
            return False, f"the master CLI failed: {error!r}"
        try:
            async with asyncio.timeout(_RELOAD_TIMEOUT_S):
                return await self._reload_outcome(before)
        except TimeoutError:
            return False, f"no new worker answered within {_RELOAD_TIMEOUT_S} s"

    async def _reload_outcome(self, before: ProcStatus) -> tuple[bool, str]:
        while self._master is not None and self._master.returncode is None:
            now = await self._status_or_none()
            if now is not None and now.reloads > before.reloads:
                if now.failed_reloads:
                    return False, (
                        "HAProxy rejected the configuration and kept its previous worker "
                        f"({now.failed_reloads} failed reload(s) in a row; its stderr says why)"
                    )
                new = [pid for pid in now.workers if pid not in before.workers]
                if new and await self._worker_answers(new[0]):
                    return True, f"worker {new[0]} answers"
            await asyncio.sleep(_POLL_S)
        return False, "the HAProxy master exited during the reload"

    async def _restart(self) -> None:
        async with self._lock:
            if self._stopping:
                return
            self._restarts += 1
            self._metrics.haproxy_restarts.inc()
            try:
                await self._start()
            except (HAProxyError, OSError) as error:
                self._last_exit = f"did not restart: {error}"
                logger.error("HAProxy %s", self._last_exit)


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def _group_runs(pgid: int) -> bool:
    """Whether a process of this process group runs (zombies do not count)."""
    for entry in Path("/proc").iterdir():
        try:
            state, _, group = entry.joinpath("stat").read_text().rpartition(")")[2].split()[:3]
        except (OSError, ValueError):
            continue
        if group == str(pgid) and state != "Z":
            return True
    return False


_prctl: Callable[..., int] | None = None
if sys.platform == "linux":
    _prctl = ctypes.CDLL(None, use_errno=True).prctl


def _die_with_parent() -> None:
    """In the forked child, before exec: SIGTERM when the controller dies (Linux only)."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _kill_group(pgid: int) -> None:
    """SIGKILL the master's process group: the master and any worker it left behind."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
