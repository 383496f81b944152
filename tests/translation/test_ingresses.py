"""Folding Ingresses into routes: merging, duplicates, default backends, hostile input, reports."""

from __future__ import annotations

import pytest

from ingress_ctl.model.objects import parse_object
from ingress_ctl.model.routing import ServiceRef
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import Snapshot
from ingress_ctl.translation import Translation, translate
from tests.manifests import (
    Manifest,
    backend,
    ingress,
    ingress_class,
    path,
    problems,
    routes,
    rule,
    run,
    service,
    snapshot,
    states,
    where,
)

SERVICES = [service(name) for name in ("web", "api", "old", "new", "a", "b", "fallback", "x")]


def _run(*manifests: Manifest, settings: Settings | None = None) -> Translation:
    """Translate with a Service for every name the tests use: problems are only the ones we cause."""
    return run(*manifests, *SERVICES, settings=settings)


def _reasons(translation: Translation) -> list[tuple[str, str, str, str]]:
    return [(p.source.name, p.field, p.severity, p.reason) for p in translation.problems]


# --- Merging -------------------------------------------------------------------------


def test_ingresses_sharing_a_host_merge_their_paths() -> None:
    translation = _run(
        ingress("a", rule("foo.com", path("/a", "a")), minute=0),
        ingress("b", rule("foo.com", path("/b", "b"), path("/", "web")), minute=1),
        ingress("c", rule("bar.com", path("/a", "b")), rule("foo.com", path("/c", "x")), minute=2),
    )
    assert translation.problems == ()
    assert routes(translation) == [
        "bar.com /a Prefix -> be_default_b_80 [default/c]",
        "foo.com / Prefix -> be_default_web_80 [default/b]",
        "foo.com /a Prefix -> be_default_a_80 [default/a]",
        "foo.com /b Prefix -> be_default_b_80 [default/b]",
        "foo.com /c Prefix -> be_default_x_80 [default/c]",
    ]
    assert [where(translation, "foo.com", p) for p in ("/a/1", "/b", "/c", "/d")] == [
        "be_default_a_80",
        "be_default_b_80",
        "be_default_x_80",
        "be_default_web_80",
    ]
    assert where(translation, "bar.com", "/a") == "be_default_b_80"
    assert where(translation, "bar.com", "/b") == "builtin_404"


def test_rules_of_one_ingress_for_the_same_host_merge() -> None:
    translation = _run(
        ingress("a", rule("foo.com", path("/a", "a")), rule("FOO.com", path("/b", "b")))
    )
    assert translation.problems == ()
    assert [r.rule for vhost in translation.routing.hosts for r in vhost.routes] == [
        "spec.rules[0].http.paths[0]",
        "spec.rules[1].http.paths[0]",
    ]
    assert [vhost.host for vhost in translation.routing.hosts] == ["foo.com"]


def test_the_same_path_on_different_hosts_is_no_conflict() -> None:
    translation = _run(
        ingress("a", rule("foo.com", path("/", "a")), minute=0),
        ingress("b", rule("bar.com", path("/", "b")), rule(None, path("/", "web")), minute=1),
        ingress("c", rule("*.foo.com", path("/", "x")), minute=2),
    )
    assert translation.problems == ()
    assert len(routes(translation)) == 4


# --- Duplicates: the oldest Ingress wins -----------------------------------------------------

DUPLICATES: list[tuple[str, Manifest, Manifest, list[str], str | None]] = [
    (
        "same Prefix",
        path("/foo", "old"),
        path("/foo", "new"),
        ["foo.com /foo Prefix -> be_default_old_80 [default/old]"],
        "foo.com /foo (Prefix)",
    ),
    (
        "Prefix with and without trailing slash",
        path("/foo", "old"),
        path("/foo/", "new"),
        ["foo.com /foo Prefix -> be_default_old_80 [default/old]"],
        "foo.com /foo/ (Prefix)",
    ),
    (
        "ImplementationSpecific is Prefix",
        path("/foo/", "old", kind="ImplementationSpecific"),
        path("/foo", "new"),
        ["foo.com /foo/ Prefix -> be_default_old_80 [default/old]"],
        "foo.com /foo (Prefix)",
    ),
    (
        "root Prefix and no path",
        path("/", "old"),
        path(None, "new"),
        ["foo.com / Prefix -> be_default_old_80 [default/old]"],
        "foo.com / (Prefix)",
    ),
    (
        "same Exact",
        path("/foo", "old", kind="Exact"),
        path("/foo", "new", kind="Exact"),
        ["foo.com /foo Exact -> be_default_old_80 [default/old]"],
        "foo.com /foo (Exact)",
    ),
    (
        "same backend is still a duplicate",
        path("/foo", "web"),
        path("/foo", "web"),
        ["foo.com /foo Prefix -> be_default_web_80 [default/old]"],
        "foo.com /foo (Prefix)",
    ),
    (
        "Exact with and without trailing slash: both",
        path("/foo", "old", kind="Exact"),
        path("/foo/", "new", kind="Exact"),
        [
            "foo.com /foo Exact -> be_default_old_80 [default/old]",
            "foo.com /foo/ Exact -> be_default_new_80 [default/new]",
        ],
        None,
    ),
    (
        "Exact and Prefix of one path: both",
        path("/foo", "old", kind="Exact"),
        path("/foo", "new"),
        [
            "foo.com /foo Exact -> be_default_old_80 [default/old]",
            "foo.com /foo Prefix -> be_default_new_80 [default/new]",
        ],
        None,
    ),
    (
        "paths differ in case: both",
        path("/Foo", "old"),
        path("/foo", "new"),
        [
            "foo.com /Foo Prefix -> be_default_old_80 [default/old]",
            "foo.com /foo Prefix -> be_default_new_80 [default/new]",
        ],
        None,
    ),
]


@pytest.mark.parametrize(
    ("older", "newer", "expected", "lost"),
    [case[1:] for case in DUPLICATES],
    ids=[case[0] for case in DUPLICATES],
)
def test_duplicates_go_to_the_oldest_ingress(
    older: Manifest, newer: Manifest, expected: list[str], lost: str | None
) -> None:
    # `new` is listed first and sorts first by name: only age decides.
    translation = _run(
        ingress("new", rule("Foo.com", newer), minute=5),
        ingress("old", rule("foo.com", older), minute=1),
    )
    assert routes(translation) == expected
    if lost is None:
        assert translation.problems == ()
        return
    assert _reasons(translation) == [
        (
            "new",
            "spec.rules[0].http.paths[0].path",
            "error",
            f"{lost} is already routed by Ingress default/old (spec.rules[0].http.paths[0]); "
            "the oldest Ingress wins",
        )
    ]
    report = {r.source.name: r for r in translation.ingresses}
    assert (report["new"].state, report["new"].routes) == ("serving", ())
    assert [p.field for p in report["new"].problems] == ["spec.rules[0].http.paths[0].path"]
    assert report["old"].problems == ()


@pytest.mark.parametrize(
    ("first", "second", "winner"),
    [
        # (name, namespace, minute or None for no creationTimestamp)
        (("zzz", "default", 1), ("aaa", "default", 2), "zzz"),
        (("aaa", "default", 2), ("zzz", "default", 1), "zzz"),
        (("bbb", "default", 3), ("aaa", "default", 3), "aaa"),
        (("aaa", "team-b", 3), ("zzz", "team-a", 3), "zzz"),
        (("aaa", "default", 0), ("zzz", "default", None), "zzz"),
    ],
)
def test_age_then_namespace_then_name(
    first: tuple[str, str, int | None], second: tuple[str, str, int | None], winner: str
) -> None:
    manifests = [
        ingress(name, rule(None, path("/", "web")), namespace=ns, minute=minute)
        for name, ns, minute in (first, second)
    ]
    translation = run(
        *manifests,
        service("web", namespace="default"),
        *(service("web", namespace=t) for t in ("team-a", "team-b")),
    )
    [route] = [r for vhost in translation.routing.hosts for r in vhost.routes]
    assert route.source.name == winner
    [problem] = translation.problems
    assert problem.source.name != winner


def test_zoneless_and_zoned_timestamps_compare() -> None:
    """A timestamp without a zone is UTC; mixing both kinds never breaks the ordering."""
    naive = ingress("naive", rule(None, path("/", "a")))
    naive["metadata"]["creationTimestamp"] = "2024-01-01T00:30:00"
    translation = _run(
        ingress("later", rule(None, path("/", "b")), minute=31),
        naive,
        ingress("earlier", rule(None, path("/", "x")), minute=29),
    )
    assert routes(translation) == ["* / Prefix -> be_default_x_80 [default/earlier]"]
    assert [p.source.name for p in translation.problems] == ["naive", "later"]


def test_duplicates_within_one_ingress_keep_the_first() -> None:
    translation = _run(
        ingress(
            "a",
            rule("foo.com", path("/foo", "a"), path("/foo/", "b")),
            rule("foo.com", path("/foo", "x", kind="Exact"), path("/foo", "web", kind="Exact")),
        )
    )
    assert routes(translation) == [
        "foo.com /foo Exact -> be_default_x_80 [default/a]",
        "foo.com /foo Prefix -> be_default_a_80 [default/a]",
    ]
    assert [(p.field, p.severity) for p in translation.problems] == [
        ("spec.rules[0].http.paths[1].path", "error"),
        ("spec.rules[1].http.paths[1].path", "error"),
    ]


def test_a_losing_ingress_still_serves_its_other_paths() -> None:
    translation = _run(
        ingress("old", rule("foo.com", path("/api", "old")), minute=0),
        ingress("new", rule("foo.com", path("/api", "new"), path("/web", "web")), minute=1),
    )
    report = {r.source.name: r for r in translation.ingresses}
    assert report["new"].routes == ("foo.com/web (Prefix) -> be_default_web_80",)
    assert report["old"].routes == ("foo.com/api (Prefix) -> be_default_old_80",)
    assert where(translation, "foo.com", "/web/x") == "be_default_web_80"
    assert where(translation, "foo.com", "/api/x") == "be_default_old_80"


# --- Default backends ---------------------------------------------------------------------


def test_controller_default_from_an_ingress_without_rules() -> None:
    translation = _run(
        ingress("catch-all", default=backend("fallback", 80), minute=3),
        ingress("site", rule("foo.com", path("/app", "web")), minute=1),
    )
    assert translation.problems == ()
    assert (translation.routing.default_backend, translation.routing.default_source) == (
        "be_default_fallback_80",
        "Ingress default/catch-all",
    )
    assert where(translation, "unknown.org", "/") == "be_default_fallback_80"
    assert where(translation, "foo.com", "/other") == "be_default_fallback_80"
    assert where(translation, "foo.com", "/app") == "be_default_web_80"
    report = {r.source.name: r for r in translation.ingresses}
    assert (report["catch-all"].state, report["catch-all"].routes) == ("serving", ())


def test_oldest_ingress_without_rules_is_the_controller_default() -> None:
    translation = _run(
        ingress("b", default=backend("b", 80), minute=2),
        ingress("a", default=backend("a", 80), minute=4),
        ingress("x", default=backend("x", 80), minute=1),
    )
    assert translation.routing.default_source == "Ingress default/x"
    assert where(translation, "foo.com", "/") == "be_default_x_80"
    assert _reasons(translation) == [
        (
            name,
            "spec.defaultBackend",
            "warning",
            "the controller's default backend is already Ingress default/x's; the oldest wins",
        )
        for name in ("b", "a")
    ]


@pytest.mark.parametrize(
    ("manifests", "settings", "default", "source"),
    [
        ([], Settings(), "builtin_404", "built-in 404"),
        (
            [],
            Settings(default_backend_service=ServiceRef(namespace="default", name="web", port=80)),
            "be_default_web_80",
            "--default-backend-service",
        ),
        (
            [ingress("d", default=backend("fallback", 80))],
            Settings(default_backend_service=ServiceRef(namespace="default", name="web", port=80)),
            "be_default_fallback_80",
            "Ingress default/d",
        ),
        (
            # An Ingress with rules never provides the controller default.
            [ingress("d", rule("foo.com", path("/", "web")), default=backend("fallback", 80))],
            Settings(),
            "builtin_404",
            "built-in 404",
        ),
        (
            # Nor does a foreign one.
            [ingress("d", class_name="nginx", default=backend("fallback", 80))],
            Settings(),
            "builtin_404",
            "built-in 404",
        ),
    ],
)
def test_controller_default_choice(
    manifests: list[Manifest], settings: Settings, default: str, source: str
) -> None:
    translation = _run(ingress_class("nginx", "example.com/nginx"), *manifests, settings=settings)
    assert (translation.routing.default_backend, translation.routing.default_source) == (
        default,
        source,
    )
    assert where(translation, "elsewhere.org", "/nothing") == default


def test_host_default_from_an_ingress_with_rules() -> None:
    translation = _run(
        ingress(
            "site",
            rule("foo.com", path("/app", "web")),
            rule("bar.com"),
            default=backend("fallback", 80),
            minute=1,
        ),
        ingress("other", rule("baz.com", path("/app", "web")), minute=0),
    )
    assert translation.problems == ()
    assert [(v.host, v.default_backend) for v in translation.routing.hosts] == [
        ("bar.com", "be_default_fallback_80"),
        ("baz.com", None),
        ("foo.com", "be_default_fallback_80"),
    ]
    assert where(translation, "foo.com", "/other") == "be_default_fallback_80"
    assert where(translation, "foo.com", "/app/1") == "be_default_web_80"
    assert where(translation, "bar.com", "/anything") == "be_default_fallback_80"
    assert where(translation, "baz.com", "/other") == "builtin_404"
    assert where(translation, "unknown.org", "/") == "builtin_404"


def test_host_default_of_the_oldest_ingress_with_one() -> None:
    translation = _run(
        ingress("no-default", rule("foo.com", path("/a", "a")), minute=0),
        ingress("old", rule("foo.com", path("/b", "b")), default=backend("old", 80), minute=1),
        ingress("new", rule("foo.com", path("/c", "x")), default=backend("new", 80), minute=2),
        ingress("same", rule("foo.com", path("/d", "x")), default=backend("old", 80), minute=3),
    )
    (vhost,) = translation.routing.hosts
    assert (vhost.default_backend, str(vhost.default_source)) == (
        "be_default_old_80",
        "Ingress default/old",
    )
    assert where(translation, "foo.com", "/zzz") == "be_default_old_80"
    # A different default is a warning; the same one is not.
    assert _reasons(translation) == [
        (
            "new",
            "spec.defaultBackend",
            "warning",
            "host foo.com already has the default backend of Ingress default/old; "
            "the oldest Ingress wins",
        )
    ]


def test_host_default_for_rules_without_host() -> None:
    translation = _run(
        ingress("any", rule(None, path("/api", "api")), default=backend("fallback", 80)),
        ingress("site", rule("foo.com", path("/", "web")), minute=1),
    )
    assert where(translation, "anything.org", "/other") == "be_default_fallback_80"
    assert where(translation, "anything.org", "/api") == "be_default_api_80"
    # foo.com owns its requests: the any-host default is not its default.
    assert where(translation, "foo.com", "/other") == "be_default_web_80"
    assert translation.routing.default_backend == "builtin_404"


def test_a_host_without_paths_still_owns_its_requests() -> None:
    """A rule with a host and no `http` claims the host: its requests get the defaults."""
    translation = _run(
        ingress("tls-only", rule("foo.com"), minute=0),
        ingress("any", rule(None, path("/", "web")), minute=1),
    )
    assert where(translation, "foo.com", "/") == "builtin_404"
    assert where(translation, "bar.com", "/") == "be_default_web_80"


def test_broken_default_backend_is_a_problem_but_still_the_default() -> None:
    translation = run(ingress("d", default=backend("gone", 80)))
    assert _reasons(translation) == [
        (
            "d",
            "spec.defaultBackend.service",
            "error",
            "Service default/gone not found; requests answer 503",
        )
    ]
    assert translation.routing.default_backend == "be_default_gone_80"
    assert translation.routing.backend("be_default_gone_80").servers == ()


# --- Backends that are not Services ----------------------------------------------------------

RESOURCE = {"resource": {"apiGroup": "k8s.example.com", "kind": "Bucket", "name": "static"}}


def test_resource_backends_are_refused() -> None:
    translation = _run(
        ingress(
            "r",
            rule(
                "foo.com",
                {"path": "/static", "pathType": "Prefix", "backend": RESOURCE},
                path("/", "web"),
            ),
            default=RESOURCE,
        )
    )
    assert _reasons(translation) == [
        ("r", "spec.defaultBackend", "error", "only Service backends are supported"),
        (
            "r",
            "spec.rules[0].http.paths[0].backend",
            "error",
            "only Service backends are supported",
        ),
    ]
    assert routes(translation) == ["foo.com / Prefix -> be_default_web_80 [default/r]"]
    assert translation.routing.hosts[0].default_backend is None
    assert where(translation, "foo.com", "/static") == "be_default_web_80"


def test_a_backend_port_without_number_or_name() -> None:
    raw = ingress("p", rule("foo.com", path("/", "web")))
    raw["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"] = {}
    translation = _run(raw)
    assert _reasons(translation) == [
        (
            "p",
            "spec.rules[0].http.paths[0].backend.service.port",
            "error",
            "needs a number or a name",
        )
    ]
    assert routes(translation) == []


# --- Hostile hosts and paths --------------------------------------------------------------------

HOSTILE_HOSTS = [
    "foo com",
    'foo".com',
    "foo'.com",
    "foo.com;",
    "*",
    "*.",
    "*.*.foo.com",
    "foo.*.com",
    "1.2.3.4",
    "10.0.0.1",
    "[::1]",
    "foo.com\n",
    "foo.com\nbackend evil",
    "foo.com\r",
    "foo.com\x00",
    "föö.com",
    "foo.com:80",
    "foo.com/",
    "@",
    "#foo.com",
    "a" * 64 + ".com",
]


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
def test_hostile_hosts_are_rejected_while_other_rules_serve(host: str) -> None:
    translation = _run(
        ingress("evil", rule(host, path("/", "x")), rule("good.com", path("/", "web")))
    )
    [(name, field, severity, reason)] = _reasons(translation)
    assert (name, field, severity) == ("evil", "spec.rules[0].host", "error")
    assert reason.startswith(repr(host))
    assert reason.endswith("; rule ignored")
    assert routes(translation) == ["good.com / Prefix -> be_default_web_80 [default/evil]"]
    assert [v.host for v in translation.routing.hosts] == ["good.com"]
    assert where(translation, "good.com", "/") == "be_default_web_80"
    assert states(translation) == {"evil": "serving"}


HOSTILE_PATHS = [
    "/foo bar",
    "/foo\tbar",
    "/foo\n",
    "/foo\nuse_backend evil",
    "/foo\r\n",
    "/foo\x00",
    "//",
    "//evil.com",
    "/a//b",
    "/a/../b",
    "/../",
    "/a/./b",
    "/..",
    "/a%2fb",
    "/a%2F..%2Fb",
    "/é",
    "/\u202e",
    "foo",
    "*",
    "/a?b=c",
    "/a#b",
    '/a"b',
    "/a'b",
    "/a\\b",
    "/a`b",
    "/" + "a" * 2048,
]


@pytest.mark.parametrize("bad", HOSTILE_PATHS)
def test_hostile_paths_are_rejected_while_other_paths_serve(bad: str) -> None:
    translation = _run(
        ingress(
            "evil",
            rule("foo.com", path(bad, "x"), path("/ok", "web")),
            rule(None, path(bad, "x", kind="Exact")),
        )
    )
    assert [(n, f, s) for n, f, s, _ in _reasons(translation)] == [
        ("evil", "spec.rules[0].http.paths[0].path", "error"),
        ("evil", "spec.rules[1].http.paths[0].path", "error"),
    ]
    assert all(reason.endswith("; path ignored") for *_, reason in _reasons(translation))
    assert routes(translation) == ["foo.com /ok Prefix -> be_default_web_80 [default/evil]"]
    assert where(translation, "foo.com", "/ok/1") == "be_default_web_80"
    # The rule without host still claims nothing but its (rejected) path.
    assert where(translation, "other.org", "/") == "builtin_404"


# --- Reports ----------------------------------------------------------------------------------------


def test_reports_per_ingress() -> None:
    translation = _run(
        ingress_class("nginx", "example.com/nginx"),
        ingress(
            "shop",
            rule("shop.com", path("/api", "api", kind="Exact"), path("/", "web")),
            rule(None, path("/", "gone")),
            rule("bad host"),
            namespace="team",
            minute=0,
        ),
        ingress("foreign", rule("shop.com", path("/", "x")), class_name="nginx"),
        ingress("dup", rule("shop.com", path("/", "x")), namespace="team", minute=1),
        service("api", namespace="team"),
        service("web", namespace="team"),
        service("x", namespace="team"),
    )
    assert [(str(r.source), r.state) for r in translation.ingresses] == [
        ("Ingress default/foreign", "ignored"),
        ("Ingress team/dup", "serving"),
        ("Ingress team/shop", "serving"),
    ]
    report = {r.source.name: r for r in translation.ingresses}
    assert report["shop"].routes == (
        "shop.com/api (Exact) -> be_team_api_80",
        "shop.com/ (Prefix) -> be_team_web_80",
        "*/ (Prefix) -> be_team_gone_80",
    )
    assert [(p.field, p.severity) for p in report["shop"].problems] == [
        ("spec.rules[1].http.paths[0].backend.service", "error"),
        ("spec.rules[2].host", "error"),
    ]
    assert report["foreign"].reason == (
        "IngressClass 'nginx' belongs to controller 'example.com/nginx'"
    )
    assert report["dup"].routes == ()
    assert problems(translation) == [
        ("team/shop", "spec.rules[1].http.paths[0].backend.service", "error"),
        ("team/shop", "spec.rules[2].host", "error"),
        ("team/dup", "spec.rules[0].http.paths[0].path", "error"),
    ]
    # Every problem of the translation is in exactly one report.
    assert sorted(str(p) for p in translation.problems) == sorted(
        str(p) for r in translation.ingresses for p in r.problems
    )


def test_translation_is_deterministic_and_order_free() -> None:
    manifests = [
        ingress_class(),
        ingress("b", rule("foo.com", path("/b", "b"), path("/", "web")), minute=2),
        ingress("a", rule("foo.com", path("/", "a")), rule(None, path("/x", "x")), minute=1),
        ingress("c", default=backend("fallback", 80), minute=3),
        *SERVICES,
    ]
    forward = translate(snapshot(manifests), settings=Settings())
    backward = translate(snapshot(reversed(manifests)), settings=Settings())
    assert forward == backward
    assert forward == translate(snapshot(manifests), settings=Settings())


def test_a_later_duplicate_object_replaces_the_earlier() -> None:
    """Snapshot semantics: one object per (kind, namespace, name), the last one given."""
    first = parse_object(ingress("a", rule("foo.com", path("/", "a"))))
    second = parse_object(ingress("a", rule("foo.com", path("/", "b"))))
    klass = parse_object(ingress_class())
    assert first is not None and second is not None and klass is not None
    translation = translate(Snapshot.of([klass, first, second]), settings=Settings())
    assert [r.backend for v in translation.routing.hosts for r in v.routes] == ["be_default_b_80"]
