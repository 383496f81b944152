"""An HTTP/2-capable test backend (hypercorn): h2c with prior knowledge, or h2 over TLS.

It answers every request with JSON naming the HTTP version it was spoken to in;
`/slow` waits one second first (to test server timeouts).
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """The ASGI application hypercorn serves."""
    if scope["type"] != "http":
        return
    if scope["path"] == "/slow":
        await asyncio.sleep(1.0)
    body = json.dumps({"backend": "h2", "http_version": scope["http_version"]}).encode()
    headers = [(b"content-type", b"application/json"), (b"x-backend", b"h2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def serving(host: str, port: int, *, tls: tuple[Path, Path] | None = None) -> Iterator[None]:
    """Run hypercorn on host:port (with TLS and ALPN h2 when `tls` is (cert, key))."""
    command = [
        sys.executable,
        "-m",
        "hypercorn",
        "tests.h2_backend:app",
        "--bind",
        f"{host}:{port}",
    ]
    if tls is not None:
        command += ["--certfile", str(tls[0]), "--keyfile", str(tls[1])]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_listening(host, port, process)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_listening(host: str, port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        assert process.poll() is None, "hypercorn exited"
        with socket.socket() as sock:
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"hypercorn did not listen on {host}:{port}")
