"""Publishing: which addresses go into Ingress status, and which Ingresses need a patch."""

from __future__ import annotations

from typing import Any

import pytest

from ingress_ctl.kube.publishing import (
    AddressSource,
    StatusUpdate,
    publish_addresses,
    status_patch,
    status_updates,
)
from ingress_ctl.model.objects import Ingress, LoadBalancerIngress, Service, parse_object
from ingress_ctl.model.routing import ObjectRef
from ingress_ctl.model.verdicts import IngressReport
from ingress_ctl.store import Store
from tests.manifests import Manifest, ingress, service

IP = LoadBalancerIngress(ip="192.0.2.10")
HOST = LoadBalancerIngress(hostname="lb.example.com")


def publish_service(
    *,
    lb: list[dict[str, str]] | None = None,
    external: list[str] | None = None,
    cluster_ip: str = "10.0.0.7",
) -> Service:
    manifest = service("ingress-ctl", namespace="ingress-ctl")
    manifest["spec"]["clusterIP"] = cluster_ip
    if external:
        manifest["spec"]["externalIPs"] = external
    if lb:
        manifest["status"] = {"loadBalancer": {"ingress": lb}}
    parsed = parse_object(manifest)
    assert isinstance(parsed, Service)
    return parsed


@pytest.mark.parametrize(
    ("addresses", "svc", "expected"),
    [
        (["192.0.2.10", "lb.example.com"], None, (IP, HOST)),
        (["192.0.2.10", "192.0.2.10"], None, (IP,)),
        (["2001:db8::1"], None, (LoadBalancerIngress(ip="2001:db8::1"),)),
        (["192.0.2.10"], publish_service(cluster_ip="10.0.0.9"), (IP,)),
        ([], None, None),
        (
            [],
            publish_service(lb=[{"hostname": "lb.example.com"}], external=["192.0.2.99"]),
            (HOST,),
        ),
        ([], publish_service(external=["192.0.2.10"]), (IP,)),
        ([], publish_service(), (LoadBalancerIngress(ip="10.0.0.7"),)),
        ([], publish_service(cluster_ip="None"), None),
    ],
    ids=[
        "flags: ip and hostname",
        "flags: deduplicated",
        "flags: ipv6",
        "flags win over the service",
        "nothing to publish",
        "service: load balancer first",
        "service: external IPs next",
        "service: cluster IP last",
        "service: headless has none",
    ],
)
def test_publish_addresses(
    addresses: list[str], svc: Service | None, expected: tuple[LoadBalancerIngress, ...] | None
) -> None:
    assert publish_addresses(addresses=addresses, service=svc) == expected


def with_status(manifest: Manifest, *entries: dict[str, str]) -> Ingress:
    manifest["status"] = {"loadBalancer": {"ingress": list(entries)}} if entries else {}
    parsed = parse_object(manifest)
    assert isinstance(parsed, Ingress)
    return parsed


def report(name: str, state: Any = "serving") -> IngressReport:
    return IngressReport(
        source=ObjectRef(kind="Ingress", namespace="default", name=name), state=state
    )


def test_only_served_ingresses_whose_status_differs_are_updated() -> None:
    ingresses = {
        ("default", "fresh"): with_status(ingress("fresh")),
        ("default", "stale"): with_status(ingress("stale"), {"ip": "192.0.2.99"}),
        ("default", "done"): with_status(ingress("done"), {"ip": "192.0.2.10"}),
        ("default", "foreign"): with_status(ingress("foreign", class_name="other")),
    }
    reports = [
        report("fresh"),
        report("stale"),
        report("done"),
        report("foreign", "ignored"),
        report("deleted"),
    ]

    updates = status_updates(reports, ingresses, (IP,))

    assert updates == [
        StatusUpdate(namespace="default", name="fresh", addresses=(IP,)),
        StatusUpdate(namespace="default", name="stale", addresses=(IP,)),
    ]


def test_the_order_of_addresses_counts_as_a_difference() -> None:
    ingresses = {
        ("default", "web"): with_status(
            ingress("web"), {"hostname": "lb.example.com"}, {"ip": "192.0.2.10"}
        )
    }

    assert status_updates([report("web")], ingresses, (HOST, IP)) == []
    assert len(status_updates([report("web")], ingresses, (IP, HOST))) == 1


def test_status_patch_spells_ip_and_hostname_only() -> None:
    assert status_patch((IP, HOST)) == {
        "status": {
            "loadBalancer": {"ingress": [{"ip": "192.0.2.10"}, {"hostname": "lb.example.com"}]}
        }
    }
    assert status_patch(()) == {"status": {"loadBalancer": {"ingress": []}}}


def test_address_source_follows_the_publish_service_store() -> None:
    store = Store()
    source = AddressSource(addresses=(), service="ingress-ctl/ingress-ctl", store=store)
    before = source.revision

    assert source.current() is None
    store.upsert(publish_service(external=["192.0.2.10"]))

    assert source.current() == (IP,)
    assert source.revision > before


def test_address_source_prefers_the_flags() -> None:
    store = Store()
    store.upsert(publish_service(external=["192.0.2.99"]))
    source = AddressSource(
        addresses=("lb.example.com",), service="ingress-ctl/ingress-ctl", store=store
    )

    assert source.current() == (HOST,)
