"""Fixtures for the HAProxy edge tests: short state directories, real configs, a live HAProxy."""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from ingress_ctl.haproxy.process import HAProxyProcess

CONFIG = """\
global
    stats socket unix@admin.sock mode 600 level admin expose-fd listeners

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend fe
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain string {body}

backend be
    server s1 127.0.0.1:9
{extra}"""


def _write_config(
    state_dir: Path, *, port: int, body: str, extra: str = "", name: str = "haproxy.cfg"
) -> Path:
    path = state_dir / name
    path.write_text(CONFIG.format(port=port, body=body, extra=extra))
    return path


async def _http_get(*, port: int) -> tuple[int, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.0\r\nHost: test\r\n\r\n")
    response = (await reader.read()).decode()
    writer.close()
    await writer.wait_closed()
    head, _, body = response.partition("\r\n\r\n")
    return int(head.split()[1]), body


@pytest.fixture
def port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A directory with a short path: UNIX socket paths are limited to 107 bytes."""
    path = Path(tempfile.mkdtemp(prefix="ictl-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def state_dir(short_dir: Path, port: int) -> Path:
    """HAProxy's state directory, holding a config that answers `ok` on `port`."""
    if shutil.which("haproxy") is None:
        pytest.skip("no haproxy binary")
    _write_config(short_dir, port=port, body="ok")
    return short_dir


@pytest.fixture
def write_config(state_dir: Path, port: int) -> Callable[..., Path]:
    """`write_config(body=..., extra="", name="haproxy.cfg")`: a config in `state_dir`.

    It answers every request on `port` with `body`; `extra` is appended verbatim.
    """

    def write(*, body: str, extra: str = "", name: str = "haproxy.cfg") -> Path:
        return _write_config(state_dir, port=port, body=body, extra=extra, name=name)

    return write


@pytest.fixture
def http_get(port: int) -> Callable[[], Awaitable[tuple[int, str]]]:
    """`await http_get()`: GET / on the test port, as (status code, body)."""
    return lambda: _http_get(port=port)


@pytest.fixture
async def haproxy(state_dir: Path) -> AsyncIterator[HAProxyProcess]:
    """A started HAProxy on the `state_dir` config, stopped afterwards."""
    process = HAProxyProcess(state_dir=state_dir)
    await process.start()
    yield process
    await process.stop()
