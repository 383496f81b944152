"""TLS, passthrough and PROXY-protocol translation: SNI names, certificates, policies, problems."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from ingress_ctl.annotations import https
from ingress_ctl.model.routing import Mode, ProxyProtocol, Routing, TLSName
from ingress_ctl.model.settings import Settings
from ingress_ctl.translation import Translation
from ingress_ctl.translation import translate as translate_snapshot
from ingress_ctl.translation.certificates import parse_pem, self_signed
from tests.certs import Issued, TestCA
from tests.manifests import (
    Manifest,
    configmap,
    ingress,
    ingress_class,
    path,
    problems,
    rule,
    run,
    service,
    service_port,
    snapshot,
    tls,
    tls_secret,
)

CA = TestCA()
A = CA.issue("a.example.com")
WILDCARD = CA.issue("*.example.com")
EXPIRED = CA.issue("old.example.com", expired=True)
FALLBACK = self_signed()
SERVICES = [service("web"), service("api")]


def secret(name: str, issued: Issued, namespace: str = "default") -> Manifest:
    return tls_secret(name, issued.chain_pem, issued.key_pem, namespace=namespace)


def file_of(issued: Issued) -> str:
    return parse_pem(issued.chain_pem, issued.key_pem).file


def translate(*manifests: Manifest, settings: Settings | None = None) -> Translation:
    return run(*manifests, *SERVICES, settings=settings, fallback_certificate=FALLBACK)


def names(routing: Routing) -> dict[str, str | None]:
    return {name.name: name.certificate for name in routing.tls_names}


def test_each_sni_name_gets_its_secrets_certificate() -> None:
    translation = translate(
        secret("a", A),
        secret("wild", WILDCARD),
        ingress(
            "site",
            rule("a.example.com", path("/", "web")),
            tls=[tls("a", "a.example.com"), tls("wild", "*.example.com")],
        ),
    )
    assert translation.problems == ()
    routing = translation.routing
    assert names(routing) == {"*.example.com": file_of(WILDCARD), "a.example.com": file_of(A)}
    assert routing.default_certificate == FALLBACK
    assert [c.file for c in routing.certificates] == sorted(
        [FALLBACK.file, file_of(A), file_of(WILDCARD)]
    )
    (report,) = translation.ingresses
    assert f"tls a.example.com -> {file_of(A)}" in report.routes


def test_tls_without_hosts_covers_the_rule_hosts() -> None:
    translation = translate(
        secret("a", A),
        ingress(
            "site",
            rule("a.example.com", path("/", "web")),
            rule(None, path("/", "web")),
            rule("B.example.com", path("/", "web")),
            tls=[tls("a")],
        ),
    )
    assert names(translation.routing) == {"a.example.com": file_of(A), "b.example.com": file_of(A)}


def test_a_bad_secret_leaves_only_its_hosts_on_the_default_certificate() -> None:
    translation = translate(
        secret("a", A),
        tls_secret("broken", b"not a certificate", A.key_pem),
        ingress(
            "site",
            rule("a.example.com", path("/", "web")),
            rule("b.example.com", path("/", "web")),
            tls=[tls("a", "a.example.com"), tls("broken", "b.example.com"), tls("gone", "c.x.io")],
        ),
    )
    assert names(translation.routing) == {
        "a.example.com": file_of(A),
        "b.example.com": None,
        "c.x.io": None,
    }
    assert [(p.field, p.severity, p.reason) for p in translation.problems] == [
        (
            "spec.tls[1].secretName",
            "error",
            "Secret default/broken: tls.crt holds no PEM certificate; "
            "the default certificate is served",
        ),
        (
            "spec.tls[2].secretName",
            "error",
            "Secret default/gone: not found; the default certificate is served",
        ),
    ]
    assert {route.split(" -> ")[0] for route in translation.ingresses[0].routes} >= {
        "tls a.example.com",
        "tls b.example.com",
    }


def test_an_expired_certificate_is_served_with_a_warning() -> None:
    translation = translate(
        secret("old", EXPIRED),
        ingress("site", rule("old.example.com", path("/", "web")), tls=[tls("old")]),
    )
    assert names(translation.routing) == {"old.example.com": file_of(EXPIRED)}
    ((where, severity, reason),) = [(p.field, p.severity, p.reason) for p in translation.problems]
    assert (where, severity) == ("spec.tls[0].secretName", "warning")
    assert reason.startswith("Secret default/old: the certificate expired on ")


def test_a_secret_of_another_namespace_is_not_found() -> None:
    translation = translate(
        secret("a", A, namespace="other"),
        ingress("site", rule("a.example.com", path("/", "web")), tls=[tls("a")]),
    )
    assert names(translation.routing) == {"a.example.com": None}
    assert problems(translation) == [("default/site", "spec.tls[0].secretName", "error")]


def test_the_oldest_ingress_owns_a_tls_name_and_its_policy() -> None:
    translation = translate(
        secret("a", A),
        secret("wild", WILDCARD),
        ingress("new", tls=[tls("wild", "a.example.com")], minute=2),
        ingress("old", tls=[tls("a", "a.example.com")], minute=1),
        ingress(
            "same",
            tls=[tls("a", "a.example.com")],
            minute=3,
        ),
    )
    (name,) = translation.routing.tls_names
    assert (name.certificate, name.source.name) == (file_of(A), "old")
    assert problems(translation) == [("default/new", "spec.tls[0].hosts", "warning")]


def test_invalid_tls_hosts_are_reported_and_others_kept() -> None:
    translation = translate(
        secret("a", A),
        ingress("site", tls=[tls("a", "a.example.com", "bad host", "*")]),
    )
    assert names(translation.routing) == {"a.example.com": file_of(A)}
    assert problems(translation) == [
        ("default/site", "spec.tls[0].hosts[1]", "error"),
        ("default/site", "spec.tls[0].hosts[2]", "error"),
    ]


def policy(translation: Translation, host: str) -> tuple[bool, str | None]:
    found: TLSName = next(n for n in translation.routing.tls_names if n.name == host)
    return found.redirect, found.hsts


def test_redirect_and_hsts_come_from_the_configmap_and_the_ingress_annotations() -> None:
    settings = Settings(configmap="ingress/config")
    config = configmap(
        "config",
        {"ssl-redirect": "false", "hsts-max-age": "600", "hsts-preload": "true"},
        namespace="ingress",
    )
    overrides = {
        "ingress-ctl.io/ssl-redirect": "true",
        "ingress-ctl.io/hsts-include-subdomains": "false",
    }
    translation = translate(
        config,
        ingress("plain", tls=[tls(None, "a.example.com")]),
        ingress("custom", tls=[tls(None, "b.example.com")], annotations=overrides),
        ingress(
            "off", tls=[tls(None, "c.example.com")], annotations={"ingress-ctl.io/hsts": "false"}
        ),
        settings=settings,
    )
    assert translation.problems == ()
    assert policy(translation, "a.example.com") == (False, "max-age=600;includeSubDomains;preload")
    assert policy(translation, "b.example.com") == (True, "max-age=600;preload")
    assert policy(translation, "c.example.com") == (False, None)


def test_a_bad_annotation_value_is_reported_and_the_global_value_applies() -> None:
    translation = translate(
        ingress(
            "site",
            tls=[tls(None, "a.example.com")],
            annotations={"ingress-ctl.io/ssl-redirect": "yes", "ingress-ctl.io/hsts-max-age": "-1"},
        )
    )
    assert policy(translation, "a.example.com") == (True, "max-age=31536000;includeSubDomains")
    assert [(p.field, p.reason) for p in translation.problems] == [
        (
            "metadata.annotations[ingress-ctl.io/hsts-max-age]",
            "'-1' is not a whole number; the default applies "
            "(the ConfigMap's hsts-max-age (31536000))",
        ),
        (
            "metadata.annotations[ingress-ctl.io/ssl-redirect]",
            "'yes' is not true or false; the default applies (the ConfigMap's ssl-redirect (true))",
        ),
    ]


def test_the_default_certificate_flag_wins_over_the_fallback() -> None:
    settings = Settings(default_ssl_certificate="certs/wild")
    translation = translate(secret("wild", WILDCARD, namespace="certs"), settings=settings)
    assert translation.problems == ()
    routing = translation.routing
    assert routing.default_certificate is not None
    assert routing.default_certificate.file == file_of(WILDCARD)
    assert [c.file for c in routing.certificates] == [file_of(WILDCARD)]


def test_an_unusable_default_certificate_falls_back_to_the_self_signed_one() -> None:
    translation = translate(settings=Settings(default_ssl_certificate="certs/missing"))
    assert translation.routing.default_certificate == FALLBACK
    assert [(str(p.source), p.field, p.reason) for p in translation.problems] == [
        (
            "Flag --default-ssl-certificate",
            "certs/missing",
            "Secret certs/missing: not found; the default certificate is served",
        )
    ]


def test_without_a_default_certificate_nothing_is_served_over_https() -> None:
    translation = run(
        *SERVICES,
        secret("a", A),
        ingress("site", tls=[tls("a", "a.example.com")]),
        ingress(
            "pt",
            rule("p.example.com", path("/", "web")),
            annotations={"ingress-ctl.io/ssl-passthrough": "true"},
        ),
    )
    routing = translation.routing
    assert (routing.default_certificate, routing.tls_names, routing.passthrough) == (None, (), ())
    assert routing.certificates == ()
    assert problems(translation) == [
        ("default/site", "spec.tls", "warning"),
        ("default/pt", "metadata.annotations", "warning"),
    ]


PASSTHROUGH = {"ingress-ctl.io/ssl-passthrough": "true"}


def test_passthrough_routes_sni_names_to_tcp_backends() -> None:
    translation = translate(
        service("vault", service_port(8200)),
        ingress(
            "vault",
            rule("vault.example.com", path("/", "vault", 8200), path("/ui", "web")),
            rule("*.apps.example.com"),
            rule(None, path("/", "web")),
            default={"service": {"name": "vault", "port": {"number": 8200}}},
            tls=[tls("ignored", "vault.example.com")],
            annotations=PASSTHROUGH,
        ),
    )
    routing = translation.routing
    assert [(r.name, r.backend) for r in routing.passthrough] == [
        ("*.apps.example.com", "pt_default_vault_8200"),
        ("vault.example.com", "pt_default_vault_8200"),
    ]
    backend = routing.backend("pt_default_vault_8200")
    assert backend.mode is Mode.TCP
    assert routing.hosts == ()  # no HTTP routes, and no TLS names: the backend holds the key
    assert routing.tls_names == ()
    assert problems(translation) == [
        ("default/vault", "spec.tls", "warning"),
        ("default/vault", "spec.rules[0].http.paths", "warning"),
        ("default/vault", "spec.rules[2].host", "error"),
    ]
    (report,) = translation.ingresses
    assert report.routes == (
        "passthrough vault.example.com -> pt_default_vault_8200",
        "passthrough *.apps.example.com -> pt_default_vault_8200",
    )


def test_passthrough_wins_a_name_that_is_also_terminated() -> None:
    translation = translate(
        secret("a", A),
        ingress("site", tls=[tls("a", "a.example.com", "b.example.com")], minute=1),
        ingress("pt", rule("a.example.com", path("/", "web")), annotations=PASSTHROUGH, minute=2),
        ingress("late", rule("a.example.com", path("/", "api")), annotations=PASSTHROUGH, minute=3),
    )
    routing = translation.routing
    assert [(r.name, r.source.name) for r in routing.passthrough] == [("a.example.com", "pt")]
    assert names(routing) == {"b.example.com": file_of(A)}
    assert problems(translation) == [
        ("default/late", "spec.rules[0].host", "warning"),
        ("default/site", "spec.tls", "warning"),
    ]


def test_a_service_annotation_sends_the_proxy_protocol_from_every_backend_of_it() -> None:
    translation = run(
        service("web", annotations={"ingress-ctl.io/send-proxy-protocol": "v2"}),
        service("odd", annotations={"ingress-ctl.io/send-proxy-protocol": "v3"}),
        ingress("site", rule("a.example.com", path("/", "web"), path("/odd", "odd"))),
        ingress("pt", rule("p.example.com", path("/", "web")), annotations=PASSTHROUGH),
        fallback_certificate=FALLBACK,
    )
    routing = translation.routing
    assert routing.backend("be_default_web_80").send_proxy is ProxyProtocol.V2
    assert routing.backend("pt_default_web_80").send_proxy is ProxyProtocol.V2
    assert routing.backend("be_default_odd_80").send_proxy is None
    assert [(str(p.source), p.field, p.reason) for p in translation.problems] == [
        (
            "Service default/odd",
            "metadata.annotations[ingress-ctl.io/send-proxy-protocol]",
            "'v3' is not one of v1, v2; no PROXY protocol is sent",
        )
    ]


@pytest.mark.parametrize(
    ("key", "raw", "reason"),
    [
        ("ssl-redirect", "false\x07", "holds the control character '\\x07'"),
        ("hsts", "true\n", None),  # surrounding whitespace is trimmed, as for every key
        ("hsts-max-age", "1" * 5000, "is longer than 4096 characters"),
        ("ssl-passthrough", "true\x00", "holds the control character '\\x00'"),
    ],
)
def test_tls_keys_pass_the_same_checks_as_every_key(key: str, raw: str, reason: str | None) -> None:
    annotations = {f"ingress-ctl.io/{key}": raw}
    translation = translate(
        ingress("site", tls=[tls(None, "a.example.com")], annotations=annotations)
    )
    found = [(p.field, p.reason) for p in translation.problems]
    if reason is None:
        assert found == []
    else:
        [(field, why)] = found
        assert field == f"metadata.annotations[ingress-ctl.io/{key}]"
        assert why.startswith(f"{reason}; the default applies (")


def test_each_value_is_parsed_once_per_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: Counter[str] = Counter()
    for name in ("SEND_PROXY_PROTOCOL", "SSL_PASSTHROUGH", "HSTS_MAX_AGE"):
        annotation = getattr(https, name)

        def counting(
            raw: str,
            *,
            key: str = annotation.key,
            parse: Callable[[str], object] = annotation.parse,
        ) -> object:
            parsed[key] += 1
            return parse(raw)

        monkeypatch.setattr(https, name, dataclasses.replace(annotation, parse=counting))
    run(
        service(
            "web",
            service_port(80),
            service_port(81),
            annotations={"ingress-ctl.io/send-proxy-protocol": "v2"},
        ),
        ingress(
            "site",
            rule("a.example.com", path("/", "web"), path("/b", "web", 81)),
            annotations={"ingress-ctl.io/hsts-max-age": "60"},
        ),
        ingress("pt", rule("p.example.com", path("/", "web")), annotations=PASSTHROUGH),
        fallback_certificate=FALLBACK,
    )
    assert parsed == {
        "ingress-ctl.io/send-proxy-protocol": 1,
        "ingress-ctl.io/ssl-passthrough": 1,
        "ingress-ctl.io/hsts-max-age": 1,
    }


def test_now_decides_expiry() -> None:
    manifests = (
        secret("a", A),
        ingress("site", rule("a.example.com", path("/", "web")), tls=[tls("a")]),
    )
    later = datetime(2999, 1, 1, tzinfo=UTC)
    found = translate_snapshot(
        snapshot([ingress_class(), *manifests, *SERVICES]),
        settings=Settings(),
        fallback_certificate=FALLBACK,
        now=later,
    )
    assert [p.severity for p in found.problems] == ["warning"]
