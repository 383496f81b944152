"""Gathering and reading annotations: scopes, refusals, fail-closed security features, merging."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from ingress_ctl.annotations import reading
from ingress_ctl.annotations.registry import PREFIX, Found, Kind, Reader
from ingress_ctl.model.policies import Balance, Protocol

P = PREFIX


def issues(annotations: dict[str, str], kind: Kind = "Ingress") -> list[tuple[str, str, str]]:
    found, gathered = reading.gather(annotations, kind)
    every = gathered + reading.check(found, kind)
    return [(issue.key, issue.severity, issue.reason) for issue in every]


@pytest.mark.parametrize(
    "key", [P + "server-snippet", P + "configuration-snippet", P + "anything-snippet"]
)
def test_our_snippet_keys_are_refused(key: str) -> None:
    [(found, severity, reason)] = issues({key: "http-request deny"})
    assert (found, severity) == (key, "error")
    assert reason.startswith("snippets are refused")


@pytest.mark.parametrize(
    "name", ["timeout-client", "timeout-http-request", "timeout-http-keep-alive"]
)
def test_frontend_timeouts_are_refused_with_a_pointer_to_the_configmap(name: str) -> None:
    [(_, severity, reason)] = issues({P + name: "5s"})
    assert severity == "error"
    assert f"set {name} in the global ConfigMap" in reason


def test_unknown_keys_are_warnings_with_a_suggestion() -> None:
    assert issues({P + "load-balancing": "leastconn", P + "zzz": "1"}) == [
        (P + "load-balancing", "warning", f"unknown annotation; did you mean {P}load-balance?"),
        (P + "zzz", "warning", "unknown annotation; see docs/annotations.md"),
    ]


def test_other_prefixes_are_not_ours() -> None:
    assert issues({"example.com/x": "1", "nginx.ingress.kubernetes.io/server-snippet": "x"}) == []


def test_scopes() -> None:
    assert issues({P + "cors-enable": "true"}, "Service") == [
        (P + "cors-enable", "warning", "ignored on a Service: it is read on Ingresses only")
    ]
    assert issues({P + "send-proxy-protocol": "v1"}, "Ingress") == [
        (P + "send-proxy-protocol", "warning", "ignored on a Ingress: it is read on Services only")
    ]
    assert issues({P + "load-balance": "leastconn"}, "Service") == []


def test_an_ingress_overrides_its_service_for_the_backend() -> None:
    service, _ = reading.gather(
        {P + "load-balance": "leastconn", P + "backend-protocol": "h2c"}, "Service"
    )
    ingress, _ = reading.gather({P + "load-balance": "source"}, "Ingress")
    policy = reading.backend_request(Reader(reading.merged(service, ingress))).policy
    assert (policy.balance, policy.upstream.protocol) == (Balance.SOURCE, Protocol.H2C)


def test_an_issue_names_the_object_that_holds_the_key() -> None:
    service = {P + "timeout-server": Found(raw="x", key=P + "timeout-server", owner="Service")}
    reader = Reader(reading.merged(service, {}))
    reading.backend_request(reader)
    assert [(issue.key, issue.owner) for issue in reader.issues] == [
        (P + "timeout-server", "Service")
    ]


def route(annotations: dict[str, str]) -> reading.RouteRequest:
    found, _ = reading.gather(annotations, "Ingress")
    return reading.route_request(Reader(found))


def test_access_lists_fail_closed() -> None:
    assert route({}).policy.allow is None
    assert route({P + "allow-list": "10.0.0.0/8"}).policy.allow == (ip_network("10.0.0.0/8"),)
    assert route({P + "allow-list": "10.0.0.0/88"}).policy.allow == ()
    assert route({P + "deny-list": "bad"}).policy.allow == ()


def test_basic_auth_fails_closed() -> None:
    assert route({}).auth is None
    assert route({P + "auth-secret": "users"}).auth is None
    assert route({P + "auth-type": "basic", P + "auth-secret": "users"}).auth is not None
    for broken in (
        {P + "auth-type": "basic"},
        {P + "auth-type": "digest", P + "auth-secret": "users"},
        {P + "auth-type": "basic", P + "auth-secret": "Bad_Name"},
    ):
        found = route(broken).auth
        assert found is not None and found.secret is None, broken


def test_settings_without_their_switch_are_warned_about() -> None:
    found = issues(
        {
            P + "session-cookie-name": "s",
            P + "cors-max-age": "5",
            P + "auth-realm": "r",
            P + "rate-limit-period": "5s",
            P + "redirect-code": "301",
            P + "canary-weight": "5",
        }
    )
    assert sorted((key.removeprefix(P), severity) for key, severity, _ in found) == [
        ("auth-realm", "warning"),
        ("canary-weight", "warning"),
        ("cors-max-age", "warning"),
        ("rate-limit-period", "warning"),
        ("redirect-code", "warning"),
        ("session-cookie-name", "warning"),
    ]


def test_backend_ca_needs_a_tls_protocol() -> None:
    assert issues({P + "backend-ca-secret": "ca"}) == [
        (P + "backend-ca-secret", "warning", "ignored: backend-protocol http is not TLS")
    ]
    found, _ = reading.gather(
        {P + "backend-ca-secret": "ca", P + "backend-protocol": "https"}, "Ingress"
    )
    assert reading.backend_request(Reader(found)).ca_secret == (None, "ca")
