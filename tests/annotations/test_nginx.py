"""ingress-nginx compatibility: nginx keys read as ours, and the migration report."""

from __future__ import annotations

import pytest

from ingress_ctl.annotations import nginx, reading
from ingress_ctl.annotations.migrating import migrate, report
from ingress_ctl.annotations.registry import PREFIX, REGISTRY, Reader
from ingress_ctl.policies import PathRewrite, Protocol, RateLimit, Redirect

N = nginx.PREFIX
P = PREFIX


def read(
    annotations: dict[str, str],
) -> tuple[reading.BackendRequest, reading.IngressRequest, list[tuple[str, str]]]:
    found, gathered = reading.gather(annotations, "Ingress", nginx_compat=True)
    reader = Reader(found)
    backend, ingress = reading.backend_request(reader), reading.ingress_request(reader)
    return backend, ingress, [(issue.key, issue.severity) for issue in gathered + reader.issues]


def test_every_mapped_key_reaches_a_registered_annotation() -> None:
    for name, rule in nginx.MAPPING.items():
        if isinstance(rule, nginx.Mapped):
            assert rule.ours is None or rule.ours.key in REGISTRY, name
            assert all(key in REGISTRY for key in rule.implies), name
            assert rule.requires is None or rule.requires in nginx.MAPPING, name


def test_nginx_keys_are_ignored_without_compat_mode() -> None:
    found, issues = reading.gather(
        {N + "proxy-body-size": "1m", N + "server-snippet": "x"}, "Ingress"
    )
    assert (found, issues) == ({}, [])


def test_values_are_converted_to_our_syntax() -> None:
    backend, ingress, problems = read(
        {
            N + "proxy-connect-timeout": "5",
            N + "proxy-read-timeout": "120",
            N + "backend-protocol": "GRPC",
            N + "limit-rps": "10",
            N + "permanent-redirect": "https://example.com/new",
            N + "proxy-body-size": "8m",
            N + "affinity": "cookie",
            N + "session-cookie-max-age": "3600",
        }
    )
    assert problems == []
    policy = backend.policy
    assert (policy.timeouts.connect, policy.timeouts.server) == (5000, 120_000)
    assert policy.upstream.protocol is Protocol.H2C
    assert policy.affinity is not None and (policy.affinity.name, policy.affinity.max_age) == (
        "INGRESSCOOKIE",
        3600,
    )
    route = ingress.route.policy
    assert route.rate_limit == RateLimit(requests=10, period=1000, status=503)
    assert route.redirect == Redirect(location="https://example.com/new", code=301)
    assert route.body_size == 8 * 2**20


def test_proxy_body_size_zero_is_no_limit() -> None:
    _, ingress, problems = read({N + "proxy-body-size": "0"})
    assert (ingress.route.policy.body_size, problems) == (None, [])


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        (
            {N + "temporal-redirect": "https://a.com", N + "permanent-redirect": "https://b.com"},
            ("https://a.com", 302),
        ),
        (
            {N + "temporal-redirect": "https://a.com", N + "temporal-redirect-code": "307"},
            ("https://a.com", 307),
        ),
        (
            {N + "permanent-redirect": "https://b.com", N + "permanent-redirect-code": "308"},
            ("https://b.com", 308),
        ),
        (
            {N + "permanent-redirect": "https://b.com", N + "temporal-redirect-code": "307"},
            ("https://b.com", 301),
        ),
        (
            {N + "permanent-redirect": "https://b.com", P + "redirect-code": "303"},
            ("https://b.com", 303),
        ),
    ],
)
def test_redirect_precedence(annotations: dict[str, str], expected: tuple[str, int]) -> None:
    _, ingress, _ = read(annotations)
    found = ingress.route.policy.redirect
    assert found is not None and (found.location, found.code) == expected


def test_our_key_wins_over_nginx() -> None:
    backend, _, problems = read({N + "proxy-read-timeout": "60", P + "timeout-server": "5s"})
    assert backend.policy.timeouts.server == 5000
    assert problems == [(N + "proxy-read-timeout", "warning")]


def test_refused_unsupported_and_invalid_nginx_keys() -> None:
    _, ingress, problems = read(
        {
            N + "configuration-snippet": "more_set_headers 'x: y';",
            N + "server-snippet": "x",
            N + "use-regex": "true",
            N + "backend-protocol": "FCGI",
            N + "rewrite-target": "/$2",
            N + "limit-rps": "lots",
            N + "x-forwarded-prefix": "/p",
        }
    )
    assert sorted(problems) == [
        (N + "backend-protocol", "error"),
        (N + "configuration-snippet", "error"),
        (N + "limit-rps", "error"),
        (N + "rewrite-target", "error"),
        (N + "server-snippet", "error"),
        (N + "use-regex", "error"),
        (N + "x-forwarded-prefix", "warning"),
    ]
    assert ingress.route.policy.rate_limit is None


def test_rewrite_target_keeps_our_prefix_semantics() -> None:
    _, ingress, _ = read({N + "rewrite-target": "/"})
    assert ingress.route.rewrite_target == "/"
    assert ingress.route.policy.rewrite is None


def test_migration_report() -> None:
    migration = migrate(
        "shop/web",
        {
            N + "rewrite-target": "/",
            N + "proxy-body-size": "8m",
            N + "configuration-snippet": "x",
            N + "limit-rps": "ten",
            N + "proxy-read-timeout": "60",
            N + "proxy-send-timeout": "60",
            N + "auth-type": "digest",
            "other.io/key": "x",
        },
    )
    assert [(entry.key.removeprefix(N), entry.verdict) for entry in migration.entries] == [
        ("rewrite-target", "differs"),
        ("proxy-body-size", "translated"),
        ("proxy-read-timeout", "differs"),
        ("proxy-send-timeout", "overridden"),
        ("auth-type", "unsupported"),
        ("limit-rps", "invalid"),
        ("configuration-snippet", "refused"),
    ]
    assert migration.blocked
    lines = report([migration, migrate("shop/plain", {})])
    assert lines[0] == "Ingress shop/web:"
    assert lines[1].startswith(
        f"  differs     {N}rewrite-target -> {P}rewrite-target: nginx replaces"
    )
    assert lines[-1] == "1 Ingresses with nginx annotations, 1 that would behave differently"


def test_migration_of_a_clean_ingress_is_not_blocked() -> None:
    migration = migrate("a/b", {N + "ssl-redirect": "false", N + "canary": "false"})
    assert not migration.blocked
    assert [entry.verdict for entry in migration.entries] == ["translated", "translated"]


def test_path_rewrite_is_ours_only() -> None:
    _, ingress, _ = read({P + "path-rewrite": r"^/a/(.*) /\1"})
    assert ingress.route.policy.rewrite == PathRewrite(regex="^/a/(.*)", replacement=r"/\1")
