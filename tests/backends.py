"""Tiny in-process backends for TLS, TCP and PROXY-protocol tests (stdlib only).

A `Backend` listens on 127.0.0.x in a thread. Each connection may start with a
PROXY protocol header (v1 or v2), which is parsed and recorded. Then, with a
TLS context, the backend terminates TLS itself (a passthrough target). An
HTTP request is answered `200` with a JSON body naming the backend, the
request line, its headers and the PROXY header; any other bytes are echoed
back after `<name>:`.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import socketserver
import ssl
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
HTTP_METHODS = (b"GET ", b"HEAD ", b"POST ")


@dataclass(frozen=True)
class ProxyHeader:
    """What a PROXY protocol header said: version and the client's address."""

    version: int
    source: str
    source_port: int
    destination_port: int


def read_proxy_header(sock: socket.socket) -> ProxyHeader | None:
    """Consume a PROXY header at the start of `sock`, if there is one (nothing else)."""
    start = sock.recv(16, socket.MSG_PEEK)
    if start.startswith(b"PROXY "):
        line = b""
        while not line.endswith(b"\r\n") and len(line) < 108:
            line += sock.recv(1)
        _, _, source, _, source_port, destination_port = line.decode().split()
        return ProxyHeader(1, source, int(source_port), int(destination_port))
    if start.startswith(V2_SIGNATURE) and len(start) == 16:
        head = _exactly(sock, 16)
        body = _exactly(sock, struct.unpack("!H", head[14:16])[0])
        src: ipaddress.IPv4Address | ipaddress.IPv6Address
        if head[13] >> 4 == 2:  # AF_INET6
            src = ipaddress.IPv6Address(body[:16])
            ports = struct.unpack("!HH", body[32:36])
        else:
            src = ipaddress.IPv4Address(body[:4])
            ports = struct.unpack("!HH", body[8:12])
        return ProxyHeader(2, str(src), ports[0], ports[1])
    return None


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed inside a PROXY header")
        data += chunk
    return data


@dataclass
class Backend:
    """A listening backend and what it has seen."""

    name: str
    host: str
    port: int
    tls: ssl.SSLContext | None = None
    proxy_headers: list[ProxyHeader | None] = field(default_factory=list)

    def serve(self, sock: socket.socket) -> None:
        self.proxy_headers.append(read_proxy_header(sock))
        stream = self.tls.wrap_socket(sock, server_side=True) if self.tls else sock
        data = stream.recv(65536)
        if data.startswith(HTTP_METHODS):
            stream.sendall(self._http(data))
        elif data:
            stream.sendall(f"{self.name}:".encode() + data)
        if stream is not sock:
            stream.close()

    def _http(self, request: bytes) -> bytes:
        head = request.split(b"\r\n\r\n", 1)[0].decode(errors="replace").split("\r\n")
        headers: dict[str, Any] = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        proxy = self.proxy_headers[-1]
        body = json.dumps(
            {
                "backend": self.name,
                "request": head[0],
                "headers": headers,
                "proxy": proxy.__dict__ if proxy else None,
            }
        ).encode()
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"X-Backend: {self.name}\r\nContent-Length: {len(body)}\r\n".encode()
            + b"Connection: close\r\n\r\n"
            + body
        )


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up are not worth a traceback."""


@contextmanager
def running(backend: Backend) -> Iterator[Backend]:
    """Serve `backend` on its address until the block ends."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            backend.serve(self.request)

    server = _Server((backend.host, backend.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield backend
    finally:
        server.shutdown()
        server.server_close()
