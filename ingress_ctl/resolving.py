"""Resolving ExternalNames: the controller, not HAProxy, turns them into addresses.

HAProxy only ever connects to addresses this module resolved and checked, so a
tenant's ExternalName can never reach the controller's own ports: a name that
resolves (through DNS or /etc/hosts) to a loopback, link-local, unspecified,
multicast or reserved address, or to one of this host's own addresses, is
refused whole (one bad address refuses the name: no DNS-rebinding games). Names
are resolved again in the background (`refreshing`); a change triggers a sync. What a
name resolved to is handed to translation inside the Snapshot
(`Snapshot.resolved`): an address tuple, or the reason it is refused.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, IPv6Address, ip_address
from itertools import pairwise
from pathlib import Path

from ingress_ctl.model.matching import parse_host
from ingress_ctl.model.objects import Service
from ingress_ctl.model.snapshot import Resolved, Snapshot

log = logging.getLogger(__name__)


IPAddress = IPv4Address | IPv6Address
_SPECIAL = (
    ("loopback", "a loopback address"),
    ("link_local", "a link-local address"),
    ("unspecified", "an unspecified address"),
    ("multicast", "a multicast address"),
    ("reserved", "a reserved address"),
)
"""Address kinds (ipaddress's `is_<kind>`) a tenant's name may never resolve to."""


def refusal(address: IPAddress, own: frozenset[IPAddress]) -> str | None:
    """Why HAProxy must not connect to this address for a tenant; None when it may."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return refusal(address.ipv4_mapped, own)
    for kind, phrase in _SPECIAL:
        if getattr(address, f"is_{kind}"):
            return phrase
    if address in own:
        return "an address of the controller's own host"
    return None


NODE_ADDRESS_VARIABLES = ("HOST_IP", "HOST_IPS", "POD_IP", "POD_IPS")
"""Environment variables (the downward API's status.hostIP(s), status.podIP(s)) naming
addresses of the node and the pod, comma-separated."""


def own_addresses(
    proc: Path = Path("/proc/net"),
    hostname: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> frozenset[IPAddress]:
    """This host's (the pod's) addresses: its interfaces', what its hostname resolves to,
    and the node's and pod's addresses the environment names (NODE_ADDRESS_VARIABLES)."""
    found: set[IPAddress] = set()
    variables = os.environ if environ is None else environ
    for variable in NODE_ADDRESS_VARIABLES:
        for word in variables.get(variable, "").split(","):
            try:
                found.add(ip_address(word.strip()))
            except ValueError:
                continue
    try:
        lines = (proc / "fib_trie").read_text().splitlines()
    except OSError:
        lines = []
    for previous, line in pairwise(lines):
        if "/32 host LOCAL" in line and "|--" in previous:
            found.add(ip_address(previous.split("|--")[1].strip()))
    try:
        for line in (proc / "if_inet6").read_text().splitlines():
            raw = line.split()[0]
            found.add(ip_address(":".join(raw[i : i + 4] for i in range(0, 32, 4))))
    except (OSError, IndexError, ValueError):
        pass
    try:
        infos = socket.getaddrinfo(hostname or socket.gethostname(), None)
    except OSError:
        infos = []
    found.update(ip_address(info[4][0]) for info in infos)
    return frozenset(found)


def external_names(snapshot: Snapshot) -> frozenset[str]:
    """The DNS names of every ExternalName Service (unparseable ones are translation's to
    report)."""
    names = set()
    for service in snapshot.objects(Service).values():
        if service.spec.type == "ExternalName":
            try:
                names.add(parse_host(service.spec.external_name or ""))
            except ValueError:
                continue
    return frozenset(name for name in names if not name.startswith("*."))


def _lookup(name: str) -> list[IPAddress]:
    infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    return sorted({ip_address(info[4][0]) for info in infos}, key=lambda a: (a.version, a))


def resolve(name: str, own: frozenset[IPAddress]) -> tuple[str, ...] | str:
    """The addresses of `name` (sorted), or why it is refused.

    Resolved as libc would for HAProxy (the hosts file and the search domains count), and
    refused if any address is forbidden; then as an absolute name (Kubernetes serves an
    ExternalName as a CNAME, which is absolute): a name found only through the search
    domains (`db.other` is `db.other.svc.cluster.local` in a pod) or the hosts file is a
    local name, not an external one.
    """
    try:
        addresses = _lookup(name)
    except OSError as error:
        return f"does not resolve ({error.strerror or error})"
    for address in addresses:
        reason = refusal(address, own)
        if reason is not None:
            return f"resolves to {address}, {reason}; refused"
    try:
        _lookup(name + ".")
    except OSError:
        return "resolves only through the search domains or the hosts file; refused"
    return tuple(str(address) for address in addresses) or "resolves to no address"


def resolve_all(names: Iterable[str], own: frozenset[IPAddress]) -> Resolved:
    """Every name resolved (blocking): for `render`, which runs once."""
    return {name: resolve(name, own) for name in sorted(names)}
