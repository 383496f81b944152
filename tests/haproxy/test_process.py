"""HAProxyProcess on the real binary: check, start, reload, supervise, stop and the runtime API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from ingress_ctl.haproxy.process import (
    HAProxyError,
    HAProxyProcess,
    ProcStatus,
    output_level,
    parse_show_proc,
)
from ingress_ctl.metrics import Metrics

pytestmark = pytest.mark.haproxy

HttpGet = Callable[[], Awaitable[tuple[int, str]]]
WriteConfig = Callable[..., Path]
BOGUS = "    bogus_keyword x\n"

# Captured from HAProxy 2.6.12: a reload while the previous worker still had a request.
SHOW_PROC_DRAINING = """\
#<PID>          <type>          <reloads>       <uptime>        <version>
8542            master          7 [failed: 0]   0d00h01m15s     2.6.12-1+deb12u4
# workers
13047           worker          0               0d00h00m00s     2.6.12-1+deb12u4
# old workers
13035           worker          1               0d00h00m00s     2.6.12-1+deb12u4
# programs

"""

# Captured from HAProxy 2.6.12: right after a reload onto a config that does not parse.
SHOW_PROC_FAILED = """\
#<PID>          <type>          <reloads>       <uptime>        <version>
8542            master          4 [failed: 1]   0d00h01m09s     2.6.12-1+deb12u4
# workers
12449           worker          1               0d00h00m07s     2.6.12-1+deb12u4
# programs

"""


def _running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


async def _new_master(process: HAProxyProcess, *, old_pid: int) -> ProcStatus:
    async with asyncio.timeout(5):
        while True:
            await asyncio.sleep(0.05)
            if not process.alive:
                continue
            try:
                status = await process.status()
            except OSError:  # the old master's socket, closing under us
                continue
            if status.master_pid != old_pid:
                return status


def test_show_proc_lists_current_and_draining_workers() -> None:
    assert parse_show_proc(SHOW_PROC_DRAINING) == ProcStatus(
        master_pid=8542, reloads=7, failed_reloads=0, workers=(13047,), old_workers=(13035,)
    )


def test_show_proc_counts_failed_reloads() -> None:
    status = parse_show_proc(SHOW_PROC_FAILED)

    assert (status.reloads, status.failed_reloads, status.workers) == (4, 1, (12449,))


def test_other_text_is_not_show_proc() -> None:
    with pytest.raises(ValueError):
        parse_show_proc("Unknown command. Please enter one of the following commands only:")


def test_a_state_dir_too_long_for_a_socket_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        HAProxyProcess(state_dir=Path("/tmp") / ("x" * 100))


async def test_check_accepts_a_valid_config(state_dir: Path) -> None:
    result = await HAProxyProcess(state_dir=state_dir).check(config=Path("haproxy.cfg"))

    assert result.ok, result.output


async def test_check_reports_the_error_of_an_invalid_config(
    state_dir: Path, write_config: WriteConfig
) -> None:
    candidate = write_config(body="v2", extra=BOGUS, name="candidate.cfg")

    result = await HAProxyProcess(state_dir=state_dir).check(config=candidate)

    assert not result.ok
    assert "unknown keyword 'bogus_keyword'" in result.output


async def test_start_serves_the_config(haproxy: HAProxyProcess, http_get: HttpGet) -> None:
    status = await haproxy.status()

    assert haproxy.alive
    assert await http_get() == (200, "ok")
    assert (status.reloads, len(status.workers)) == (0, 1)
    assert haproxy.master_socket.is_socket()
    assert haproxy.master_socket.stat().st_mode & 0o777 == 0o600


async def test_start_fails_on_a_config_that_does_not_load(
    state_dir: Path, write_config: WriteConfig
) -> None:
    write_config(body="ok", extra=BOGUS)
    process = HAProxyProcess(state_dir=state_dir)

    with pytest.raises(HAProxyError, match="exited with code 1"):
        await process.start()
    assert not process.alive


async def test_reload_serves_the_new_config_from_a_new_worker(
    haproxy: HAProxyProcess, write_config: WriteConfig, http_get: HttpGet
) -> None:
    before = await haproxy.status()
    write_config(body="v2")

    result = await haproxy.reload()

    assert result.ok, result.detail
    assert await http_get() == (200, "v2")
    after = await haproxy.status()
    assert after.reloads == before.reloads + 1
    assert len(after.workers) == 1
    assert after.workers[0] not in before.workers
    assert f"worker {after.workers[0]} answers" == result.detail


async def test_a_rejected_reload_keeps_the_old_worker_serving(
    haproxy: HAProxyProcess, write_config: WriteConfig, http_get: HttpGet
) -> None:
    before = await haproxy.status()
    write_config(body="v2", extra=BOGUS)

    result = await haproxy.reload()

    assert not result.ok
    assert "rejected" in result.detail
    assert await http_get() == (200, "ok")
    after = await haproxy.status()
    assert (after.workers, after.failed_reloads) == (before.workers, 1)
    write_config(body="v3")
    assert (await haproxy.reload()).ok
    assert await http_get() == (200, "v3")


async def test_reload_without_haproxy_fails(state_dir: Path) -> None:
    result = await HAProxyProcess(state_dir=state_dir).reload()

    assert (result.ok, result.detail) == (False, "HAProxy is not running")


async def test_supervise_restarts_a_killed_master(
    haproxy: HAProxyProcess, http_get: HttpGet
) -> None:
    supervisor = asyncio.create_task(haproxy.supervise())
    old = await haproxy.status()

    os.kill(old.master_pid, signal.SIGKILL)
    new = await _new_master(haproxy, old_pid=old.master_pid)

    assert await http_get() == (200, "ok")
    assert not _running(old.workers[0])
    assert new.workers
    await haproxy.stop()
    await asyncio.wait_for(supervisor, 5)


async def test_supervise_waits_for_the_first_start(state_dir: Path) -> None:
    supervisor = asyncio.create_task(HAProxyProcess(state_dir=state_dir).supervise())
    await asyncio.sleep(0.1)

    assert not supervisor.done()
    supervisor.cancel()


async def test_stop_leaves_no_haproxy_process(haproxy: HAProxyProcess, http_get: HttpGet) -> None:
    status = await haproxy.status()

    await haproxy.stop()

    assert not haproxy.alive
    assert not [pid for pid in (status.master_pid, *status.workers) if _running(pid)]
    with pytest.raises(ProcessLookupError):
        os.killpg(status.master_pid, 0)
    with pytest.raises(ConnectionRefusedError):
        await http_get()


async def test_runtime_show_info_comes_from_the_worker(haproxy: HAProxyProcess) -> None:
    [info] = await haproxy.runtime(["show info"])

    assert info.startswith("Name: HAProxy\n")
    assert f"\nPid: {(await haproxy.status()).workers[0]}\n" in info


async def test_runtime_set_server_addr_shows_in_servers_state(haproxy: HAProxyProcess) -> None:
    changed, state = await haproxy.runtime(
        ["set server be/s1 addr 127.0.0.2 port 8080", "show servers state be"]
    )

    assert changed.startswith("IP changed from '127.0.0.1' to '127.0.0.2'")
    row = state.splitlines()[-1].split()
    assert (row[3], row[4], row[18]) == ("s1", "127.0.0.2", "8080")


async def test_runtime_refuses_a_command_with_a_newline(haproxy: HAProxyProcess) -> None:
    with pytest.raises(ValueError, match="line break"):
        await haproxy.runtime(["show info\nshow env"])


async def _until(probe: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not probe():
            await asyncio.sleep(0.02)


async def test_killed_workers_are_restarted_counted_and_reported(
    state_dir: Path, http_get: HttpGet
) -> None:
    metrics = Metrics()
    haproxy = HAProxyProcess(state_dir=state_dir, metrics=metrics)
    await haproxy.start()
    supervisor = asyncio.create_task(haproxy.supervise())
    try:
        for kill in range(1, 4):
            old = await haproxy.status()
            os.kill(old.workers[0], signal.SIGKILL)
            await _new_master(haproxy, old_pid=old.master_pid)

            report = haproxy.report()
            assert (report.running, report.restarts, report.down_s) == (True, kill, 0.0)
            assert report.last_exit is not None
            assert report.last_exit.startswith(f"master {old.master_pid} exited with code ")
            assert metrics.registry.get_sample_value("ingress_ctl_haproxy_restarts_total") == kill
            assert await http_get() == (200, "ok")
    finally:
        await haproxy.stop()
        await asyncio.wait_for(supervisor, 5)


async def test_a_restart_that_fails_is_reported_until_one_serves(
    haproxy: HAProxyProcess, write_config: WriteConfig, http_get: HttpGet
) -> None:
    supervisor = asyncio.create_task(haproxy.supervise())
    write_config(body="v2", extra=BOGUS)
    os.kill((await haproxy.status()).master_pid, signal.SIGKILL)

    await _until(lambda: (haproxy.report().last_exit or "").startswith("did not restart"))

    report = haproxy.report()
    assert not report.running and report.master_pid is None
    assert "exited with code 1 while starting" in (report.last_exit or "")
    assert haproxy.down_for() > 0
    write_config(body="v2")
    await _until(lambda: haproxy.alive)
    assert haproxy.down_for() == 0.0
    assert await http_get() == (200, "v2")
    await haproxy.stop()
    await asyncio.wait_for(supervisor, 5)


@pytest.mark.parametrize("found_by", ["master socket", "pid file"])
async def test_start_stops_a_master_left_by_an_earlier_controller(
    state_dir: Path, write_config: WriteConfig, http_get: HttpGet, found_by: str
) -> None:
    earlier = HAProxyProcess(state_dir=state_dir)
    await earlier.start()
    left = await earlier.status()
    if found_by == "pid file":
        earlier.master_socket.unlink()
    write_config(body="v2")
    later = HAProxyProcess(state_dir=state_dir)
    try:
        await later.start()

        assert not [pid for pid in (left.master_pid, *left.workers) if _running(pid)]
        assert (await later.status()).master_pid != left.master_pid
        assert {await http_get() for _ in range(5)} == {(200, "v2")}
    finally:
        await later.stop()
        with contextlib.suppress(ProcessLookupError):
            await earlier.stop()


async def test_haproxy_dies_with_the_process_that_started_it(state_dir: Path) -> None:
    starter = await asyncio.create_subprocess_exec(
        sys.executable, "-c", STARTER, str(state_dir),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert starter.stdout is not None
    master = int(await asyncio.wait_for(starter.stdout.readline(), 10))
    try:
        assert _running(master)

        starter.kill()
        await starter.wait()

        await _until(lambda: not _running(master))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(master, signal.SIGKILL)


STARTER = """
import asyncio, sys
from pathlib import Path
from ingress_ctl.haproxy.process import HAProxyProcess

async def main():
    haproxy = HAProxyProcess(state_dir=Path(sys.argv[1]))
    await haproxy.start()
    print((await haproxy.status()).master_pid, flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_forwarded_output_goes_through_logging_by_level(
    state_dir: Path, write_config: WriteConfig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="haproxy")
    process = HAProxyProcess(state_dir=state_dir, forward_output=True)
    await process.start()
    await process.stop()
    write_config(body="ok", extra=BOGUS)
    with pytest.raises(HAProxyError):
        await HAProxyProcess(state_dir=state_dir, forward_output=True).start()

    lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "haproxy"]
    assert (logging.INFO, "haproxy version is") in {
        (lv, m.split(" : ")[-1][:18]) for lv, m in lines
    }
    assert any(lv == logging.ERROR and "bogus_keyword" in m for lv, m in lines)
    assert all(not m.endswith("\n") for _, m in lines)


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("[ALERT]    (28) : Binding [haproxy.cfg:30] cannot bind socket", logging.ERROR),
        ("[WARNING]  (1) : config : resolvers 'dns'", logging.WARNING),
        ("[NOTICE]   (32) : haproxy version is 3.0.11-1+deb13u4", logging.INFO),
        ("<134>Nov 30 03:14:28 haproxy[17]: 127.0.0.1:4242 [30/Nov/2026] fe be/s1", logging.INFO),
    ],
)
def test_output_levels_follow_haproxys_tags(line: str, level: int) -> None:
    assert output_level(line) == level


async def test_stop_answers_the_next_request_of_an_idle_keep_alive_connection(
    haproxy: HAProxyProcess, write_config: WriteConfig
) -> None:
    """A stopping replica must not close idle keep-alive connections under their clients:
    with `option idle-close-on-response` (as the template sets) a soft stop answers their
    next request (with `Connection: close`); a hard stop would reset them."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        keep_alive_port = int(probe.getsockname()[1])
    write_config(
        body="ok",
        extra=(
            "frontend keep_alive\n"
            f"    bind 127.0.0.1:{keep_alive_port}\n"
            "    option idle-close-on-response\n"
            "    http-request return status 200 content-type text/plain string ok\n"
        ),
    )
    assert (await haproxy.reload()).ok
    reader, writer = await asyncio.open_connection("127.0.0.1", keep_alive_port)
    request = b"GET / HTTP/1.1\r\nHost: test\r\n\r\n"
    writer.write(request)
    first = await reader.readuntil(b"ok")
    stopping = asyncio.create_task(haproxy.stop())
    await asyncio.sleep(0.5)

    writer.write(request)
    second = await reader.read()
    writer.close()
    await asyncio.wait_for(stopping, 10)

    assert first.startswith(b"HTTP/1.1 200")
    assert second.startswith(b"HTTP/1.1 200")
    assert b"connection: close" in second.lower()
    assert not haproxy.alive
