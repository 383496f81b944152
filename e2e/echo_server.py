"""A tiny HTTP/1.1 echo backend for e2e tests (standalone, stdlib only).

Every request, whatever its method or path, gets ``200`` with a JSON body naming the
backend, the method, the request path (with query string), the Host header and every
request header (names in lowercase, repeated ones joined with ``, ``), plus an
``X-Backend: <name>`` header. Keep-alive is supported. Prints one line to stdout once
it listens (callers wait for it).

    python3 e2e/echo_server.py --name web-1 --bind 10.244.0.10 --port 8080
"""

from __future__ import annotations

import argparse
import json
import socketserver
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class EchoHandler(BaseHTTPRequestHandler):
    """Answers every request with a description of the request."""

    protocol_version = "HTTP/1.1"
    backend_name = "echo"

    def _reply(self, *, with_body: bool = True) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = (
            json.dumps(
                {
                    "backend": self.backend_name,
                    "method": self.command,
                    "path": self.path,
                    "host": self.headers.get("Host"),
                    "headers": {
                        name.lower(): ", ".join(self.headers.get_all(name) or ())
                        for name in self.headers
                    },
                }
            ).encode()
            + b"\n"
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Backend", self.backend_name)
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._reply()

    def do_HEAD(self) -> None:
        self._reply(with_body=False)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: tests may send thousands of requests."""


class EchoServer(ThreadingHTTPServer):
    """ThreadingHTTPServer without the reverse-DNS lookup of the bind address."""

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up (load tests, reloads) are not errors worth a traceback."""

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])


def main(argv: Sequence[str] | None = None) -> None:
    """Parse --name/--bind/--port and serve forever."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True, help="backend name echoed in responses")
    parser.add_argument("--bind", required=True, help="IP address to listen on")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    handler = type("Handler", (EchoHandler,), {"backend_name": args.name})
    with EchoServer((args.bind, args.port), handler) as server:
        print(f"listening {args.bind}:{args.port}", flush=True)  # readiness signal
        server.serve_forever()


if __name__ == "__main__":
    main()
