"""Every HAProxy identifier and every file name the controller writes.

Names are built only from values that were already validated (DNS labels,
port numbers and names, indexes, hashes), so they never need quoting and two
different inputs never give the same name.
"""

from __future__ import annotations

import hashlib

from ingress_ctl.model.policies import Policy
from ingress_ctl.model.routing import ServiceRef

CONFIG_FILE = "haproxy.cfg"
MASTER_SOCKET = "master.sock"
ADMIN_SOCKET = "admin.sock"
PID_FILE = "haproxy.pid"
"""The master's pid, written by the controller (not by HAProxy, so a full disk cannot stop it)."""
LOCK_FILE = "ingress-ctl.lock"
"""Held (flock) by the one controller that owns the state directory."""
SERVER_STATE_FILE = "server-state"
ROUTES_MAP = "maps/routes.map"
"""Route keys -> backend, read with `map_beg`: see matching.route_entries."""
HOSTS_MAP = "maps/hosts.map"
TLS_MAP = "maps/tls.map"
"""SNI name -> `<redirect>|<hsts>` policy of terminated hosts (see rendering.tls_policy)."""
PASSTHROUGH_MAP = "maps/passthrough.map"
TRUSTED_PROXIES_MAP = "maps/trusted-proxies.map"
GATEWAY_ROUTES_MAP = "maps/gw-routes.map"
"""`<frontend>|<route key>` -> backend, split or chain of a Gateway HTTP(S) port (`map_beg`)."""
GATEWAY_HOSTS_MAP = "maps/gw-hosts.map"
"""`.<suffix>|<frontend>` -> `*.<suffix>`: Gateway wildcard hosts, longest first (`map_end`)."""
GATEWAY_PARENTS_MAP = "maps/gw-parents.map"
"""`*.<suffix>|<frontend>` -> the next shorter wildcard host of that port."""
GATEWAY_STREAMS_MAP = "maps/gw-streams.map"
"""`<SNI name>|<frontend>` (TLS ports) or `<frontend>` (TCP ports) -> backend or split."""
GATEWAY_SPLITS_MAP = "maps/gw-splits.map"
"""Split -> `<total>|<backend>|<threshold>|...` (see gateway_tables)."""
FALLBACK_CERTIFICATE = "fallback-certificate.pem"
PLACEHOLDER_CERTIFICATE = "certs/self-signed.pem"
"""Where `render` puts the self-signed default certificate that `run` would make: a fixed
name, so that the same manifests always print the same configuration."""
"""The self-signed default certificate, kept across restarts (not a rendered file)."""
CRT_LIST = "certs/https.crt-list"
"""The crt-list of the HTTPS bind: the default certificate first, then one line per file."""
HTTPS_SOCKET = "unix@https.sock"
"""Where the TLS-terminating bind listens when a TCP frontend splits the HTTPS port by SNI."""

HTTP_FRONTEND = "http"
HTTPS_FRONTEND = "https"
HTTPS_BACKEND = "builtin_https"
"""The TCP backend that hands non-passthrough TLS connections to the terminating bind."""
EMPTY_SLOT_HOST, EMPTY_SLOT_PORT = "127.0.0.1", 1
EMPTY_SLOT = f"{EMPTY_SLOT_HOST}:{EMPTY_SLOT_PORT}"
"""Address of a disabled server slot; nothing listens there and it takes no traffic."""
NOT_FOUND_BACKEND = "builtin_404"
"""Built-in backends start with `builtin_`, HTTP Service backends with `be_`, spare ones with
`sp_`, passthrough ones with `pt_`, TCP services' with `tcp_`: they never clash (nor with the
`gwc_` chains that Gateway route map values may name instead of a backend)."""
SPARE_PREFIX = "sp_"
CHAIN_PREFIX = "gwc_"
"""Chains of conditional Gateway matches (a map value that is no backend) start so."""
DEFAULT_POOL = "default"


def backend_name(service: ServiceRef) -> str:
    """`be_<namespace>_<service>_<port>`: `_` never appears in DNS labels or port names."""
    return f"be_{service.namespace}_{service.name}_{service.port}"


def policy_id(policy: Policy) -> str:
    """12 hex digits of the policy's hash: equal policies share it, different ones never do."""
    return hashlib.sha256(policy.model_dump_json().encode()).hexdigest()[:12]


def policy_backend_name(service: ServiceRef, policy: Policy) -> str:
    """`be_<namespace>_<service>_<port>_<policy id>`: a Service's backend with a policy of
    its own (equal policies share a backend, different ones never do)."""
    return f"{backend_name(service)}_{policy_id(policy)}"


def pool_id(policy: Policy) -> str:
    """`default` for the default policy's pool of spare backends, else the policy's id."""
    return DEFAULT_POOL if policy == Policy() else policy_id(policy)


def spare_backend_name(pool: str, index: int) -> str:
    """`sp_<pool>_<index>`: a spare backend of a pool (see spares.py), numbered from 1."""
    return f"{SPARE_PREFIX}{pool}_{index}"


def is_spare(backend: str) -> bool:
    """Whether a backend name is a spare's (whoever it serves now)."""
    return backend.startswith(SPARE_PREFIX)


def redirect_backend_name(host: str) -> str:
    """`builtin_redirect_<host>`: the backend redirecting requests to `host` (a DNS name)."""
    return f"builtin_redirect_{host}"


def userlist_name(policy: str) -> str:
    """`ul_<policy id>`: the users of a basic-auth policy (one list for every backend with it)."""
    return f"ul_{policy}"


def passthrough_backend_name(service: ServiceRef) -> str:
    """`pt_<namespace>_<service>_<port>`: the TCP backend of a passthrough Service port."""
    return f"pt_{service.namespace}_{service.name}_{service.port}"


def tcp_backend_name(port: int) -> str:
    """`tcp_<port>`: the backend of the TCP service listening on `port`."""
    return f"tcp_{port}"


def tcp_frontend_name(port: int) -> str:
    """`fe_tcp_<port>`: the listener of a TCP service."""
    return f"fe_tcp_{port}"


def gateway_frontend_name(address: str | None, port: int) -> str:
    """`gw_<port>` (the controller's bind address) or `gw_<address>_<port>`: a Gateway port's
    frontend (an IPv6 address keeps its colons: proxy names allow them)."""
    return f"gw_{port}" if address is None else f"gw_{address}_{port}"


def gateway_terminating_frontend(frontend: str) -> str:
    """`<frontend>_tls`: where a TLS Gateway port's terminated streams are decrypted."""
    return f"{frontend}_tls"


def gateway_terminating_backend(frontend: str) -> str:
    """`<frontend>_to_tls`: how a TLS Gateway port hands a stream to its terminating frontend."""
    return f"{frontend}_to_tls"


def gateway_terminating_socket(frontend: str) -> str:
    """`gw-tls-<hash>.sock` (in the state directory): the UNIX socket between a TLS Gateway
    port and its terminating frontend (named by hash: short, and no `:` of an IPv6 address)."""
    return f"gw-tls-{hashlib.sha256(frontend.encode()).hexdigest()[:16]}.sock"


def gateway_crt_list(frontend: str) -> str:
    """`certs/<frontend>.crt-list`: the certificates of an HTTPS Gateway port."""
    return f"certs/{frontend}.crt-list"


def chain_name(digest: str) -> str:
    """`gwc_<digest>`: a chain of conditional Gateway matches, named by its content."""
    return f"{CHAIN_PREFIX}{digest}"


def is_chain(value: str) -> bool:
    """Whether a Gateway route map value names a chain (not a backend or split)."""
    return value.startswith(CHAIN_PREFIX)


def server_name(index: int) -> str:
    """Server slots are numbered from 1 within their backend."""
    return f"s{index}"


def server_address(address: str, port: int) -> str:
    """`address:port`, IPv6 addresses (the only ones with a colon) in brackets."""
    return f"[{address}]{server_port(port)}" if ":" in address else f"{address}{server_port(port)}"


def server_port(port: int) -> str:
    """`:port`, what follows a server's address (in brackets if IPv6) in `server_address`."""
    return f":{port}"


def certificate_file(pem: bytes) -> str:
    """A certificate's file name derives from its content, never from user strings."""
    return f"certs/{hashlib.sha256(pem).hexdigest()[:32]}.pem"


GATEWAY_ERROR_BACKEND = "builtin_500"
"""Answers 500: the share of a Gateway API rule whose backend cannot be used (the spec's
answer for a missing or refused backendRef)."""


def filter_backend_name(policy: Policy) -> str:
    """`builtin_filter_<policy id>`: a Gateway API rule that answers by itself (a redirect)."""
    return f"builtin_filter_{policy_id(policy)}"


def split_name(shares: tuple[tuple[str, int], ...]) -> str:
    """`split_<hash>`: requests shared between backends by weight (equal shares share it)."""
    text = ";".join(f"{backend}={weight}" for backend, weight in shares)
    return f"split_{hashlib.sha256(text.encode()).hexdigest()[:12]}"
