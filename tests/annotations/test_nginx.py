"""ingress-nginx compatibility: nginx keys read as ours, and the migration report."""

from __future__ import annotations

import pytest

from ingress_ctl.annotations import nginx, reading
from ingress_ctl.annotations.migrating import migrate, report
from ingress_ctl.annotations.registry import PREFIX, REGISTRY, Reader, snippet_refusal
from ingress_ctl.model.policies import PathRewrite, Protocol, RateLimit, Redirect

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
            N + "use-regex": "maybe",
            N + "backend-protocol": "FCGI",
            N + "rewrite-target": "/$1",
            N + "limit-rps": "lots",
            N + "upstream-hash-by": "$host",
            N + "x-unknown-key": "/p",
        }
    )
    assert sorted(problems) == [
        (N + "backend-protocol", "error"),
        (N + "configuration-snippet", "error"),
        (N + "limit-rps", "error"),
        (N + "rewrite-target", "error"),
        (N + "server-snippet", "error"),
        (N + "upstream-hash-by", "error"),
        (N + "use-regex", "error"),
        (N + "x-unknown-key", "warning"),
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
    lines = report([migrate("shop/plain", {N + "ssl-redirect": "true"}), migration])
    assert lines[:3] == [
        "Ingress shop/web:",
        f"  refused     {N}configuration-snippet: " + (snippet_refusal("x-snippet") or ""),
        f"  unsupported {N}auth-type -> {P}auth-type: 'digest': only basic authentication is "
        "supported",
    ]
    assert lines[lines.index("Ingress shop/plain:") :] == [
        "Ingress shop/plain:",
        f"  translated  {N}ssl-redirect -> {P}ssl-redirect",
        "",
        "Summary: 2 Ingresses with nginx annotations, 1 that would behave differently, "
        "0 with warnings.",
        "Act first on the refused, unsupported and invalid keys and on the warnings (the "
        "Ingress would not behave as it does under ingress-nginx), then read each differs "
        "note; docs/nginx-compat.md has the whole table. Uses per verdict:",
        "  refused        1 (1 keys)",
        f"       1 x {N}configuration-snippet",
        "  unsupported    1 (1 keys)",
        f"       1 x {N}auth-type",
        "  invalid        1 (1 keys)",
        f"       1 x {N}limit-rps",
        "  differs        2 (2 keys)",
        f"       1 x {N}proxy-read-timeout",
        f"       1 x {N}rewrite-target",
        "  overridden     1 (1 keys)",
        f"       1 x {N}proxy-send-timeout",
        "  translated     2 (2 keys)",
    ]


@pytest.mark.parametrize(
    ("annotations", "path", "warning"),
    [
        ({N + "use-regex": "true"}, "/api/[0-9]+", "is a regular expression: it is rejected"),
        ({N + "rewrite-target": "/$1"}, "/api/[a-z]", "is a regular expression"),
        ({N + "use-regex": "true"}, "/api(/|$)(.*)", None),
        ({N + "rewrite-target": "/$2"}, "/api(/|$)(.*)", None),
        ({}, "/api(/|$)(.*)", "is a regular expression"),
        ({}, "/a|b", "is a regular expression"),
        ({N + "use-regex": "true"}, "/api/.*", "is matched literally"),
        ({}, "/api/.*", None),
        ({N + "use-regex": "true"}, "/api", None),
        ({}, "/a b", "is rejected: '/a b' must start with '/'"),
    ],
)
def test_migration_warns_about_paths_ingress_nginx_reads_as_regexes(
    annotations: dict[str, str], path: str, warning: str | None
) -> None:
    found = migrate("a/b", annotations, paths=[path]).warnings
    if warning is None:
        assert found == ()
    else:
        [text] = found
        assert warning in text, text


def test_migration_warns_about_a_class_that_is_not_ours() -> None:
    migration = migrate("a/b", {}, ignored="IngressClass 'nginx' does not exist")
    assert migration.warnings == (
        "not served: IngressClass 'nginx' does not exist; set spec.ingressClassName to an "
        "IngressClass of ingress-ctl",
    )
    assert report([migration])[:2] == ["Ingress a/b:", f"  warning     {migration.warnings[0]}"]


def test_migration_of_a_clean_ingress_is_not_blocked() -> None:
    migration = migrate("a/b", {N + "ssl-redirect": "false", N + "canary": "false"})
    assert not migration.blocked
    assert [entry.verdict for entry in migration.entries] == ["translated", "translated"]


def test_path_rewrite_is_ours_only() -> None:
    _, ingress, _ = read({P + "path-rewrite": r"^/a/(.*) /\1"})
    assert ingress.route.policy.rewrite == PathRewrite(regex="^/a/(.*)", replacement=r"/\1")
