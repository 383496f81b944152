"""Every HAProxy identifier and every file name the controller writes.

Names are built only from values that were already validated (DNS labels,
port numbers and names, indexes, hashes), so they never need quoting and two
different inputs never give the same name.
"""

from __future__ import annotations

import hashlib

from ingress_ctl.routing import ServiceRef

CONFIG_FILE = "haproxy.cfg"
MASTER_SOCKET = "master.sock"
ADMIN_SOCKET = "admin.sock"
SERVER_STATE_FILE = "server-state"
EXACT_MAP = "maps/exact.map"
PREFIX_MAP = "maps/prefix.map"
HOSTS_MAP = "maps/hosts.map"

HTTP_FRONTEND = "http"
EMPTY_SLOT_HOST, EMPTY_SLOT_PORT = "127.0.0.1", 1
EMPTY_SLOT = f"{EMPTY_SLOT_HOST}:{EMPTY_SLOT_PORT}"
"""Address of a disabled server slot; nothing listens there and it takes no traffic."""
NOT_FOUND_BACKEND = "builtin_404"
"""Built-in backends start with `builtin_`; Service backends with `be_`: they never clash."""


def backend_name(service: ServiceRef) -> str:
    """`be_<namespace>_<service>_<port>`: `_` never appears in DNS labels or port names."""
    return f"be_{service.namespace}_{service.name}_{service.port}"


def server_name(index: int) -> str:
    """Server slots are numbered from 1 within their backend."""
    return f"s{index}"


def server_address(address: str, port: int) -> str:
    """`address:port`, IPv6 addresses (the only ones with a colon) in brackets."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def certificate_file(pem: bytes) -> str:
    """A certificate's file name derives from its content, never from user strings."""
    return f"certs/{hashlib.sha256(pem).hexdigest()[:32]}.pem"
