"""HTTP for tests: one plain HTTP/1.1 request per connection, any Host header, and polling."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Response:
    """Status, headers (names in lowercase) and body of one answer."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def backend(self) -> str | None:
        """The echo backend that answered (e2e/echo_server.py names itself), else None."""
        if self.status != 200 or "x-backend" not in self.headers:
            return None
        return str(self.json()["backend"])


def get(
    port: int,
    path: str = "/",
    *,
    host: str | None = None,
    address: str = "127.0.0.1",
    timeout: float = 5.0,
) -> Response:
    """GET path from address:port, sending `Host: host` exactly as given (else address:port)."""
    return request(port, path, host=host, address=address, timeout=timeout)


def request(
    port: int,
    path: str = "/",
    *,
    method: str = "GET",
    host: str | None = None,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    address: str = "127.0.0.1",
    timeout: float = 5.0,
) -> Response:
    """One request to address:port with `Host: host` exactly as given (else address:port),
    these headers, and a body (with its Content-Length)."""
    connection = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", f"{address}:{port}" if host is None else host)
        connection.putheader("Connection", "close")
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        received = {name.lower(): value for name, value in response.getheaders()}
        return Response(status=response.status, headers=received, body=response.read())
    finally:
        connection.close()


def get_or_none(port: int, path: str = "/", **options: Any) -> Response | None:
    """Like get(), but None while nothing listens or the connection breaks."""
    try:
        return get(port, path, **options)
    except (OSError, http.client.HTTPException):
        return None


def wait_for(probe: Callable[[], T | None], *, timeout: float, interval: float = 0.02) -> T:
    """Call probe until it returns something other than None; AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    while (found := probe()) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"still nothing after {timeout} s")
        time.sleep(interval)
    return found


def metric_samples(port: int) -> dict[str, float]:
    """Every sample of the controller's /metrics on port, by name with labels."""
    text = get(port, "/metrics").text
    lines = (line for line in text.splitlines() if line and not line.startswith("#"))
    return {name: float(value) for name, value in (line.rsplit(" ", 1) for line in lines)}
