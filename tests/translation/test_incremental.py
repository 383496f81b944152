"""Incremental translation gives exactly what a full translation gives, after any sequence
of changes; and it patches (rather than translating everything again) when a change reaches
Ingresses that share nothing with the others."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ingress_ctl.model.objects import KubeObject, object_key, parse_object
from ingress_ctl.model.routing import Certificate, VirtualHost
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import Snapshot
from ingress_ctl.translation import translate
from ingress_ctl.translation.certificates import self_signed
from ingress_ctl.translation.incremental import Translator
from tests.certs import TestCA
from tests.manifests import (
    Manifest,
    backend,
    configmap,
    endpoint,
    endpoint_slice,
    from_yaml,
    ingress,
    ingress_class,
    path,
    rule,
    service,
    service_port,
    tls,
    tls_secret,
)

NOW = datetime.now(UTC)
HOSTS = ("a.example.com", "b.example.com", "www.b.example.com", "*.example.com", None, "Bad Host")
SERVICES = ("web", "api", "docs", "gone")
ANNOTATIONS: tuple[dict[str, str], ...] = (
    {},
    {},
    {"unrelated.io/note": "x"},
    {"ingress-ctl.io/load-balance": "leastconn"},
    {"ingress-ctl.io/canary": "true", "ingress-ctl.io/canary-weight": "30"},
    {"ingress-ctl.io/from-to-www-redirect": "true"},
    {"ingress-ctl.io/ssl-passthrough": "true"},
    {"ingress-ctl.io/load-balance": "no-such-algorithm"},
)
SETTINGS = Settings(tcp_services_configmap="default/tcp")
FALLBACK = self_signed()
"""The default certificate (HTTPS on); without one, TLS names are problems."""
ISSUED = TestCA().issue("a.example.com")

paths = st.lists(
    st.builds(
        path,
        st.sampled_from(["/", "/api", "/api/", "/x", "no-slash"]),
        st.sampled_from(SERVICES),
        st.sampled_from([80, 81, "http"]),
        st.sampled_from(["Prefix", "Exact"]),
    ),
    min_size=0,
    max_size=3,
)


@st.composite
def ingresses(draw: st.DrawFn) -> Manifest:
    rules = [
        rule(host, *draw(paths)) for host in draw(st.lists(st.sampled_from(HOSTS), max_size=2))
    ]
    extra: dict[str, Any] = {}
    if draw(st.integers(0, 9)) == 0:
        extra["default"] = backend(draw(st.sampled_from(SERVICES)), 80)
    if draw(st.integers(0, 9)) == 0:
        extra["tls"] = [tls(draw(st.sampled_from(["cert", None])), "a.example.com")]
    return ingress(
        draw(st.sampled_from(["i0", "i1", "i2", "i3", "i4"])),
        *rules,
        class_name=draw(st.sampled_from(["haproxy", "haproxy", "haproxy", "other"])),
        minute=draw(st.integers(0, 3)),
        annotations=draw(st.sampled_from(ANNOTATIONS)) or None,
        **extra,
    )


services = st.builds(
    service,
    st.sampled_from(SERVICES),
    st.sampled_from([service_port(80, "http", 8080), service_port(81, target=8080)]),
    annotations=st.sampled_from(
        [None, {"ingress-ctl.io/send-proxy-protocol": "v2"}, {"ingress-ctl.io/timeout-x": "1"}]
    ),
)
slices = st.builds(
    lambda name, ips: endpoint_slice(f"{name}-1", name, *(endpoint(ip) for ip in ips)),
    st.sampled_from(SERVICES),
    st.lists(st.sampled_from(["10.0.0.1", "10.0.0.2", "10.0.0.3"]), max_size=2),
)
rare = st.sampled_from(
    [
        tls_secret("cert", ISSUED.chain_pem, ISSUED.key_pem),
        configmap("tcp", {"9000": "default/web:80"}),
        configmap("tcp", {"9000": "default/api:81"}),
        ingress_class("other", "someone-else"),
    ]
)
upserts = st.one_of(ingresses(), ingresses(), services, slices, slices, rare)
deletes = st.sampled_from(
    [
        *(("Ingress", f"i{n}") for n in range(5)),
        *(("Service", name) for name in SERVICES),
        *(("EndpointSlice", f"{name}-1") for name in SERVICES),
        ("ConfigMap", "tcp"),
        ("Secret", "cert"),
    ]
)
changes = st.lists(st.one_of(upserts, deletes), min_size=1, max_size=12)


def parsed(raw: Manifest) -> KubeObject:
    found = parse_object(raw)
    assert found is not None, raw
    return found


class Cluster:
    """Objects kept across changes: an unchanged object stays the same object, as in the
    store."""

    def __init__(self, *manifests: Manifest) -> None:
        self.objects: dict[tuple[str, str, str], KubeObject] = {}
        for raw in (ingress_class(), *manifests):
            self.apply(raw)

    def apply(self, change: Manifest | tuple[str, str]) -> None:
        if isinstance(change, tuple):
            self.objects.pop((change[0], "default", change[1]), None)
            self.objects.pop((change[0], "", change[1]), None)
            return
        obj = parsed(change)
        key = object_key(obj)
        if self.objects.get(key) != obj:
            self.objects[key] = obj

    def snapshot(self) -> Snapshot:
        return Snapshot.of(self.objects.values())


def chain_secret() -> Manifest:
    return tls_secret("cert", ISSUED.chain_pem, ISSUED.key_pem)


@settings(max_examples=300, deadline=None)
@given(changes, st.sampled_from([None, FALLBACK]))
def test_every_pass_equals_a_full_translation(
    steps: list[Manifest | tuple[str, str]], fallback: Certificate | None
) -> None:
    cluster = Cluster(
        service("web", service_port(80, "http", 8080)),
        endpoint_slice("web-1", "web", endpoint("10.0.0.1")),
        ingress("i0", rule("a.example.com", path("/", "web")), minute=1),
    )
    translator = Translator(settings=SETTINGS, fallback_certificate=fallback)
    translator.translate(cluster.snapshot(), now=NOW)
    for step in steps:
        cluster.apply(step)
        snapshot = cluster.snapshot()
        assert translator.translate(snapshot, now=NOW) == translate(
            snapshot, settings=SETTINGS, fallback_certificate=fallback, now=NOW
        ), translator.why_full


def churn_cluster() -> Cluster:
    cluster = Cluster()
    for n in range(20):
        name = f"s{n}"
        cluster.apply(service(name))
        cluster.apply(endpoint_slice(f"{name}-1", name, endpoint(f"10.0.1.{n}")))
        cluster.apply(ingress(name, rule(f"{name}.example.com", path("/", name)), minute=n))
    return cluster


def test_new_services_and_hosts_are_patched_in() -> None:
    cluster = churn_cluster()
    translator = Translator(settings=Settings())
    translator.translate(cluster.snapshot(), now=NOW)
    steps: list[Manifest | tuple[str, str]] = [
        service("new"),
        endpoint_slice("new-1", "new", endpoint("10.0.2.1")),
        ingress("new", rule("new.example.com", path("/", "new"), path("/b", "s3"))),
        endpoint_slice("s3-1", "s3", endpoint("10.0.2.2")),
        service("s3", service_port(80, target=9090)),
        ("Ingress", "s1"),
        ("Service", "s1"),
        ("EndpointSlice", "s1-1"),
        ingress("s2", rule("s2.example.com", path("/", "s2")), minute=99),
    ]
    for step in steps:
        cluster.apply(step)
        snapshot = cluster.snapshot()
        assert translator.translate(snapshot, now=NOW) == translate(
            snapshot, settings=Settings(), now=NOW
        )
        assert translator.patched, (step, translator.why_full)


def test_a_shared_host_or_another_kind_makes_a_full_pass() -> None:
    cluster = churn_cluster()
    translator = Translator(settings=Settings())
    translator.translate(cluster.snapshot(), now=NOW)
    cases: list[tuple[Manifest, str]] = [
        (ingress("dup", rule("s1.example.com", path("/x", "s1"))), "shares a host"),
        (configmap("unrelated", {"a": "b"}), "ConfigMap changed"),
        (chain_secret(), "Secret changed"),
        (ingress("tls", rule("t.example.com", path("/", "s1")), tls=[tls(None)]), "HTTPS is off"),
    ]
    for manifest, why in cases:
        cluster.apply(manifest)
        snapshot = cluster.snapshot()
        assert translator.translate(snapshot, now=NOW) == translate(
            snapshot, settings=Settings(), now=NOW
        )
        assert not translator.patched
        assert why in translator.why_full


def test_a_certificate_that_expires_between_passes_makes_a_full_pass() -> None:
    cluster = churn_cluster()
    cluster.apply(chain_secret())
    cluster.apply(ingress("tls", rule("a.example.com", path("/", "s1")), tls=[tls("cert")]))
    translator = Translator(settings=Settings())
    translator.translate(cluster.snapshot(), now=NOW)
    later = datetime(2200, 1, 1, tzinfo=UTC)
    cluster.apply(service("s2", service_port(80, target=9999)))
    snapshot = cluster.snapshot()

    assert translator.translate(snapshot, now=later) == translate(
        snapshot, settings=Settings(), now=later
    )
    assert "expired" in translator.why_full


def test_a_canary_anywhere_makes_a_full_pass() -> None:
    """A canary moves its main route to a backend of its own, and drops the former backend
    when no other Ingress reaches it: deleting an unrelated Ingress that did changes it."""
    cluster = churn_cluster()
    cluster.apply(ingress("main", rule("m.example.com", path("/", "s1")), minute=50))
    canary = {"ingress-ctl.io/canary": "true", "ingress-ctl.io/canary-weight": "30"}
    cluster.apply(
        ingress("c", rule("m.example.com", path("/", "s2")), minute=51, annotations=canary)
    )
    translator = Translator(settings=Settings())
    translator.translate(cluster.snapshot(), now=NOW)
    cluster.apply(("Ingress", "s1"))
    snapshot = cluster.snapshot()

    assert translator.translate(snapshot, now=NOW) == translate(
        snapshot, settings=Settings(), now=NOW
    )
    assert "canary" in translator.why_full


def test_a_new_host_with_tls_is_patched_in_when_https_is_on() -> None:
    cluster = churn_cluster()
    cluster.apply(chain_secret())
    translator = Translator(settings=Settings(), fallback_certificate=FALLBACK)
    translator.translate(cluster.snapshot(), now=NOW)
    steps: list[Manifest | tuple[str, str]] = [
        ingress("a", rule("a.example.com", path("/", "s1")), tls=[tls("cert")]),
        ingress("b", rule("b.example.com", path("/", "s2")), tls=[tls("missing", "b.example.com")]),
        ("Ingress", "a"),
    ]
    for step in steps:
        cluster.apply(step)
        snapshot = cluster.snapshot()
        full = translate(snapshot, settings=Settings(), fallback_certificate=FALLBACK, now=NOW)
        assert translator.translate(snapshot, now=NOW) == full
        assert translator.patched, (step, translator.why_full)
    assert [name.name for name in full.routing.tls_names] == ["b.example.com"]


def test_a_host_no_ingress_claims_stops_the_patches() -> None:
    """Routing that something other than our Ingresses made (a future kind of route) escapes
    the checks that a patch is exact: the translator makes full passes instead."""
    cluster = churn_cluster()
    translator = Translator(settings=Settings())
    first = translator.translate(cluster.snapshot(), now=NOW)
    foreign = VirtualHost(host="other.example.com", routes=())
    routing = first.routing.model_copy(update={"hosts": (*first.routing.hosts, foreign)})
    assert translator._last is not None
    translator._last.translation = first.model_copy(update={"routing": routing})
    cluster.apply(ingress("new", rule("new.example.com", path("/", "s1"))))

    translator.translate(cluster.snapshot(), now=NOW)

    assert not translator.patched
    assert "does not come apart" in translator.why_full


def test_a_service_change_with_gateways_served_makes_a_full_pass() -> None:
    """The endpoints of a Service an HTTPRoute sends to reach the Gateway's backend."""
    cluster = churn_cluster()
    for manifest in from_yaml(
        """
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: ours}
spec: {controllerName: ingress-ctl.io/haproxy}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: ours
  listeners: [{name: http, port: 8090, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: s1, port: 80}]}]
"""
    ):
        cluster.apply(manifest)
    translator = Translator(settings=Settings())
    translator.translate(cluster.snapshot(), now=NOW)
    cluster.apply(endpoint_slice("s1-2", "s1", endpoint("10.0.9.9")))
    snapshot = cluster.snapshot()
    assert translator.translate(snapshot, now=NOW) == translate(
        snapshot, settings=Settings(), now=NOW
    )
    assert not translator.patched
    assert "Gateway API" in translator.why_full
