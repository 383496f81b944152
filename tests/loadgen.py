"""A bounded HTTP load generator: N threads, keep-alive or `Connection: close`.

Counts every answer by status and every failure (connection errors count as
failures); stops after a total number of requests or when told to.
"""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Load:
    """Requests sent so far and what came back."""

    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def total(self) -> int:
        return sum(self.statuses.values()) + len(self.errors)

    @property
    def failed(self) -> int:
        return len(self.errors) + sum(n for status, n in self.statuses.items() if status != 200)


class LoadGenerator:
    """`clients` threads sending GETs to 127.0.0.1:port until `requests` are sent or stop()."""

    def __init__(self, *, port: int, host: str, path: str, clients: int, requests: int) -> None:
        self.load = Load()
        self._target = (port, host, path)
        self._budget = requests
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._client, args=(i % 2 == 0,), daemon=True)
            for i in range(clients)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> Load:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        return self.load

    def wait(self, timeout: float) -> Load:
        for thread in self._threads:
            thread.join(timeout=timeout)
        return self.load

    def _take(self) -> bool:
        with self.load.lock:
            if self._stop.is_set() or self._budget <= 0:
                return False
            self._budget -= 1
            return True

    def _client(self, keep_alive: bool) -> None:
        port, host, path = self._target
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Host": host} if keep_alive else {"Host": host, "Connection": "close"}
        while self._take():
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                with self.load.lock:
                    self.load.statuses[response.status] += 1
                if not keep_alive or response.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                with self.load.lock:
                    self.load.errors.append(f"{type(error).__name__}: {error}")
        connection.close()
