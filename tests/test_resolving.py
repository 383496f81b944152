"""Resolving ExternalNames: which addresses are refused, this host's own addresses, and the
background resolver's cache and refresh."""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path

import pytest

from ingress_ctl.resolving import (
    IPAddress,
    external_names,
    own_addresses,
    refusal,
    resolve,
)
from tests.manifests import (
    service,
    snapshot,
)

OWN: frozenset[IPAddress] = frozenset({IPv4Address("10.244.0.7"), IPv6Address("fd00::7")})


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.8.9.10", "a loopback address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("10.244.0.7", "an address of the controller's own host"),
        ("fd00::7", "an address of the controller's own host"),
        ("::ffff:10.244.0.7", "an address of the controller's own host"),
        ("10.244.0.8", None),
        ("93.184.215.14", None),
        ("2001:db8::1", None),
    ],
)
def test_refused_addresses(address: str, reason: str | None) -> None:
    assert refusal(ip_address(address), OWN) == reason


def test_own_addresses_come_from_the_interfaces_and_the_hostname(tmp_path: Path) -> None:
    (tmp_path / "fib_trie").write_text(
        "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 10.244.0.7\n        /32 host LOCAL\n"
        "     |-- 10.244.0.255\n        /32 link BROADCAST\n"
    )
    (tmp_path / "if_inet6").write_text("fd000000000000000000000000000007 02 40 00 80     eth0\n")
    environ = {"HOST_IP": "192.168.1.20", "POD_IPS": "10.244.0.7,fd00::8", "POD_IP": "junk"}
    found = own_addresses(tmp_path, hostname="localhost", environ=environ)
    assert {"10.244.0.7", "fd00::7", "127.0.0.1", "192.168.1.20", "fd00::8"} <= {
        str(a) for a in found
    }
    assert IPv4Address("10.244.0.255") not in found


def test_this_machine_is_its_own_host() -> None:
    own = own_addresses()
    assert IPv4Address("127.0.0.1") in own
    assert {
        ip_address(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None)
    } <= own


def test_external_names_of_a_snapshot() -> None:
    found = snapshot(
        [
            service("a", external_name="DB.example.com"),
            service("b", external_name="*.example.com"),
            service("c", external_name="bad name"),
            service("d"),
        ]
    )
    assert external_names(found) == {"db.example.com"}


def test_a_name_found_only_through_the_search_domains_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`db.other` in a pod is `db.other.svc.cluster.local` (a Service of another namespace)
    through the search domains; as the absolute name a CNAME is, it does not exist."""
    answers = {"db.other": "10.96.0.20", "example.org": "192.0.2.80", "example.org.": "192.0.2.80"}

    def getaddrinfo(name: str, *_: object, **__: object) -> list[tuple[object, ...]]:
        if name not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[name], 0))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    assert resolve("db.other", OWN) == (
        "resolves only through the search domains or the hosts file; refused"
    )
    assert resolve("example.org", OWN) == ("192.0.2.80",)
    assert resolve("missing.example", OWN) == "does not resolve (Name or service not known)"
