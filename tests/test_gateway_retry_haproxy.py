"""HTTPRoute retries through the real HAProxy, to a real backend that fails first.

The backend on 127.0.0.x answers the first `fail` requests of each `key` with the status
`code`, then 200, and counts every request it saw: the retry policy (what
translation/gateway/filters.py makes of `rules[].retry`) retries the statuses it names,
`attempts` times at most, and no other status.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from ingress_ctl.model.policies import BackendPolicy, Policy, Retry
from tests.conftest import free_port
from tests.gateway_models import gateway_routing, http_port, match, service_backend
from tests.http import request
from tests.test_gateway_haproxy import GatewayProxy, echoes, proxy

pytestmark = pytest.mark.haproxy
__all__ = ("echoes", "proxy")
ADDRESS = "127.0.0.91"


class FailingFirst(BaseHTTPRequestHandler):
    """`?key=k&code=500&fail=2`: the first two requests of k answer 500, the next 200."""

    seen: ClassVar[Counter[str]] = Counter()
    lock: ClassVar[threading.Lock] = threading.Lock()

    def do_GET(self) -> None:
        query = {name: values[0] for name, values in parse_qs(urlsplit(self.path).query).items()}
        with self.lock:
            self.seen[query["key"]] += 1
            count = self.seen[query["key"]]
        status = int(query["code"]) if count <= int(query["fail"]) else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def failing() -> Iterator[tuple[str, int]]:
    server = ThreadingHTTPServer((ADDRESS, free_port(ADDRESS)), FailingFirst)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ADDRESS, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


CASES = [
    # (path, code, fail, status answered, requests the backend saw)
    ("/three-500", 500, 2, 200, 3),
    ("/three-500", 500, 4, 500, 4),  # 1 try + 3 retries
    ("/three-500", 503, 2, 503, 1),  # not a status of this rule
    ("/two-all", 502, 1, 200, 2),
    ("/two-all", 504, 3, 504, 3),
    ("/none", 500, 1, 500, 1),
]


async def test_retries_on_the_statuses_asked_as_many_times_as_asked(
    proxy: GatewayProxy, failing: tuple[str, int]
) -> None:
    three = service_backend(
        "flaky",
        failing,
        policy=Policy(backend=BackendPolicy(retry=Retry(codes=(500,), attempts=3))),
    )
    two = service_backend(
        "flaky",
        failing,
        policy=Policy(backend=BackendPolicy(retry=Retry(codes=(500, 502, 503, 504), attempts=2))),
    )
    plain = service_backend("flaky", failing)
    port = free_port()
    await proxy.apply(
        gateway_routing(
            http_port(
                port,
                match("", "/three-500", three.name),
                match("", "/two-all", two.name),
                match("", "/none", plain.name),
            ),
            backends=(three, two, plain),
        )
    )
    for i, (path, code, fail, status, tries) in enumerate(CASES):
        key = f"k{i}"
        answer = request(port, f"{path}?key={key}&code={code}&fail={fail}", host="a.example.com")
        assert (answer.status, FailingFirst.seen[key]) == (status, tries), (path, code, fail)
