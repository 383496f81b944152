"""Routing through the real HAProxy: manifests -> translate -> render -> Applier -> HTTP.

One HAProxy serves the whole module. Each test serves its own complete set of
manifests (the Applier reloads only when the files change) and then sends real
requests to echo backends on 127.0.0.21 and up; the echo body names the backend
that answered.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingress_ctl.haproxy.applying import Outcome
from ingress_ctl.model.settings import parse_service_port
from tests.conftest import EchoProxy, echo_proxy, echo_service
from tests.http import Response
from tests.manifests import (
    Manifest,
    backend,
    ingress,
    ingress_class,
    path,
    rule,
    service,
)
from tests.model.test_matching import DOCS_EXAMPLES

pytestmark = pytest.mark.haproxy

ECHOES = (
    "exact",
    "wild",
    "any",
    "p0",
    "p1",
    "p2",
    "host-default",
    "older-default",
    "newer-default",
    "flag-default",
    "late",
)
"""Echo backends, each on its own address 127.0.0.21, .22, ..."""

TEXT = "text/plain; charset=utf-8"


class Proxy(EchoProxy):
    """The module's HAProxy and echo backends, driven synchronously."""

    def service(self, name: str) -> Manifest:
        """Service `name` (port 80), targeting the port of the echo backend `name`."""
        return echo_service(name, *self.echoes[name])[0]

    def endpoints(self, name: str) -> Manifest:
        """An EndpointSlice of Service `name` holding the echo backend `name`."""
        return echo_service(name, *self.echoes[name])[1]

    def serve(self, *manifests: Manifest, default_backend_service: str | None = None) -> Outcome:
        """Make HAProxy serve exactly these manifests (plus our IngressClass)."""
        flag = parse_service_port(default_backend_service) if default_backend_service else None
        rendered = self.pipeline.render(*manifests, default_backend_service=flag)
        outcome = self.runner.run(self.pipeline.apply(rendered))
        assert outcome.action in {"start", "reload", "runtime", "none"}, outcome
        return outcome

    def get(self, host: str, request_path: str = "/") -> Response:
        return self.pipeline.get(host, request_path)

    def answer(self, host: str, request_path: str = "/") -> str:
        """The echo backend that answered, else the status code as a string."""
        response = self.get(host, request_path)
        return response.backend or str(response.status)


@pytest.fixture(scope="module")
def proxy(haproxy_bin: str) -> Iterator[Proxy]:
    with echo_proxy(haproxy_bin, ECHOES, first=21) as made:
        yield Proxy(made.pipeline, made.runner, made.echoes)


# --- Hosts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_host", "expected"),
    [
        ("foo.com", "exact"),
        ("FOO.Com", "exact"),
        ("foo.com:8080", "exact"),
        ("Foo.COM:80", "exact"),
        ("bar.foo.com", "wild"),
        ("BAR.Foo.Com:443", "wild"),
        ("x-1.foo.com", "wild"),
        ("mixed.case.test", "p0"),
        ("MIXED.case.Test:1", "p0"),
        ("a.b.foo.com", "any"),
        ("xfoo.com", "any"),
        ("foo.com.", "any"),
        ("foo.com.evil.test", "any"),
        ("other.test", "any"),
        ("127.0.0.1", "any"),
    ],
)
def test_exact_wildcard_and_hostless_rules(proxy: Proxy, request_host: str, expected: str) -> None:
    proxy.serve(
        ingress(
            "hosts",
            rule("foo.com", path("/", "exact")),
            rule("*.foo.com", path("/", "wild")),
            rule("Mixed.Case.TEST", path("/", "p0")),
            rule(None, path("/", "any")),
        ),
        *proxy.services("exact", "wild", "any", "p0"),
    )

    assert proxy.answer(request_host, "/x") == expected


@pytest.mark.parametrize(
    ("request_host", "expected"),
    [
        ("bar.foo.com", "wild"),
        ("Bar.Foo.Com:8080", "wild"),
        ("foo.com", "404"),
        ("a.b.foo.com", "404"),
        ("bar.foo.org", "404"),
        ("barfoo.com", "404"),
    ],
)
def test_wildcard_matches_exactly_one_label(proxy: Proxy, request_host: str, expected: str) -> None:
    proxy.serve(ingress("w", rule("*.foo.com", path("/", "wild"))), *proxy.services("wild"))

    assert proxy.answer(request_host) == expected


@pytest.mark.parametrize(
    ("request_host", "request_path", "expected"),
    [
        ("elsewhere.test", "/api", "any"),
        ("elsewhere.test", "/api/x", "any"),
        ("elsewhere.test", "/other", "404"),
        # A host with rules of its own owns its requests: hostless rules do not apply.
        ("site.test", "/api", "exact"),
        ("site.test", "/anything", "exact"),
    ],
)
def test_rules_without_host_serve_every_other_host(
    proxy: Proxy, request_host: str, request_path: str, expected: str
) -> None:
    proxy.serve(
        ingress("hostless", rule(None, path("/api", "any"))),
        ingress("site", rule("site.test", path("/", "exact"))),
        *proxy.services("any", "exact"),
    )

    assert proxy.answer(request_host, request_path) == expected


# --- Paths ------------------------------------------------------------------------


def _docs_hosts() -> dict[tuple[str, tuple[tuple[str, str], ...]], str]:
    """One host per distinct (case, rule paths) of DOCS_EXAMPLES: one config holds them all."""
    hosts: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
    for case, paths, _, _ in DOCS_EXAMPLES:
        hosts.setdefault((case, tuple(paths)), f"t{len(hosts)}.docs.test")
    return hosts


DOCS_HOSTS = _docs_hosts()

DOCS_INGRESS = ingress(
    "docs",
    *(
        rule(host, *(path(p, f"p{i}", 80, kind) for i, (kind, p) in enumerate(paths)))
        for (_, paths), host in DOCS_HOSTS.items()
    ),
)


@pytest.mark.parametrize(
    ("case", "paths", "request_path", "expected"),
    DOCS_EXAMPLES,
    ids=[f"{case}:{request}" for case, _, request, _ in DOCS_EXAMPLES],
)
def test_kubernetes_path_examples(
    proxy: Proxy,
    case: str,
    paths: list[tuple[str, str]],
    request_path: str,
    expected: int | None,
) -> None:
    proxy.serve(DOCS_INGRESS, *proxy.services("p0", "p1", "p2"))

    answer = proxy.answer(DOCS_HOSTS[(case, tuple(paths))], request_path)

    assert answer == ("404" if expected is None else f"p{expected}")


@pytest.mark.parametrize(
    ("request_path", "expected"),
    [
        ("/foo", "p1"),  # Exact wins over the Prefix of the same path
        ("/foo/", "p0"),
        ("/foo/x", "p0"),
        ("/foobar", "404"),  # a Prefix matches whole path segments only
        ("/foo/bar", "p2"),
        ("/foo/bar/x", "p2"),
        ("/foo/barx", "p0"),
        ("/foo?x=1", "p1"),
        ("/foo/bar?q=/x", "p2"),
        ("/foobar?/foo", "404"),  # the query string never takes part
        ("/x?/foo", "404"),
    ],
)
def test_exact_and_prefix_precedence(proxy: Proxy, request_path: str, expected: str) -> None:
    proxy.serve(
        ingress(
            "paths",
            rule(
                "paths.test",
                path("/foo", "p0"),
                path("/foo", "p1", kind="Exact"),
                path("/foo/bar/", "p2"),
            ),
        ),
        *proxy.services("p0", "p1", "p2"),
    )

    assert proxy.answer("paths.test", request_path) == expected


# --- Default backends ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_host", "request_path", "expected"),
    [
        ("shop.test", "/api", "p0"),
        ("shop.test", "/new", "p1"),
        ("shop.test", "/other", "host-default"),  # the oldest Ingress's default owns the host
        ("later.test", "/only", "p2"),
        ("later.test", "/else", "newer-default"),
        ("unknown.test", "/", "404"),  # a defaultBackend next to rules is not controller-wide
    ],
)
def test_ingress_default_backend_serves_its_hosts(
    proxy: Proxy, request_host: str, request_path: str, expected: str
) -> None:
    proxy.serve(
        ingress(
            "later",
            rule("shop.test", path("/new", "p1")),
            rule("later.test", path("/only", "p2")),
            default=backend("newer-default", 80),
            minute=2,
        ),
        ingress(
            "shop",
            rule("shop.test", path("/api", "p0")),
            default=backend("host-default", 80),
            minute=1,
        ),
        *proxy.services("p0", "p1", "p2", "host-default", "newer-default"),
    )

    assert proxy.answer(request_host, request_path) == expected


SITE = ingress("site", rule("site.test", path("/app", "p0")), minute=0)


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        (None, "older-default"),
        ("default/flag-default:80", "older-default"),  # the Ingress beats the flag
    ],
)
@pytest.mark.parametrize(
    ("request_host", "request_path"), [("nowhere.test", "/"), ("site.test", "/x")]
)
def test_oldest_ingress_without_rules_is_the_controller_default(
    proxy: Proxy, flag: str | None, expected: str, request_host: str, request_path: str
) -> None:
    proxy.serve(
        SITE,
        ingress("catch-new", default=backend("newer-default", 80), minute=2),
        ingress("catch-old", default=backend("older-default", 80), minute=1),
        *proxy.services("p0", "older-default", "newer-default", "flag-default"),
        default_backend_service=flag,
    )

    assert proxy.answer(request_host, request_path) == expected
    assert proxy.answer("site.test", "/app") == "p0"


@pytest.mark.parametrize(
    ("request_host", "request_path"), [("nowhere.test", "/"), ("site.test", "/x")]
)
def test_default_backend_service_flag_serves_unmatched_requests(
    proxy: Proxy, request_host: str, request_path: str
) -> None:
    proxy.serve(
        SITE,
        *proxy.services("p0", "flag-default"),
        default_backend_service="default/flag-default:80",
    )

    assert proxy.answer(request_host, request_path) == "flag-default"
    assert proxy.answer("site.test", "/app") == "p0"


def test_unmatched_requests_get_the_builtin_404(proxy: Proxy) -> None:
    proxy.serve(SITE, *proxy.services("p0"))

    for request_host, request_path in [("nowhere.test", "/"), ("site.test", "/x")]:
        response = proxy.get(request_host, request_path)
        assert (response.status, response.headers["content-type"], response.body) == (
            404,
            TEXT,
            b"404 Not Found",
        )


# --- Backends without servers -------------------------------------------------------

UNAVAILABLE = (503, TEXT, b"503 Service Unavailable")


@pytest.mark.parametrize("request_path", ["/empty", "/ghost"])
def test_service_without_endpoints_or_missing_answers_503(proxy: Proxy, request_path: str) -> None:
    proxy.serve(
        ingress("gaps", rule("gaps.test", path("/empty", "empty"), path("/ghost", "ghost"))),
        service("empty"),
    )

    response = proxy.get("gaps.test", request_path)

    assert (response.status, response.headers["content-type"], response.body) == UNAVAILABLE


def test_default_backend_service_flag_naming_a_missing_service_answers_503(proxy: Proxy) -> None:
    proxy.serve(SITE, *proxy.services("p0"), default_backend_service="default/ghost:80")

    response = proxy.get("nowhere.test")

    assert (response.status, response.headers["content-type"], response.body) == UNAVAILABLE


def test_a_service_answers_once_it_has_endpoints(proxy: Proxy) -> None:
    gate = ingress("late", rule("late.test", path("/", "late")))
    proxy.serve(gate, proxy.service("late"))
    assert proxy.answer("late.test") == "503"

    proxy.serve(gate, proxy.service("late"), proxy.endpoints("late"))

    assert proxy.answer("late.test") == "late"


# --- Ownership ----------------------------------------------------------------------

LEGACY_CLASS = "kubernetes.io/ingress.class"


@pytest.mark.parametrize(
    ("request_host", "expected"),
    [
        ("mine.test", "p0"),  # ours, and an older foreign Ingress for the same host loses
        ("foreign.test", "404"),
        ("no-such-class.test", "404"),
        ("legacy.test", "p2"),
        ("legacy-foreign.test", "404"),
        ("classless.test", "404"),
    ],
)
def test_only_ingresses_of_our_class_are_routed(
    proxy: Proxy, request_host: str, expected: str
) -> None:
    proxy.serve(
        ingress_class("other", "example.com/other"),
        ingress("mine", rule("mine.test", path("/", "p0")), minute=5),
        ingress("thief", rule("mine.test", path("/", "p1")), class_name="other", minute=1),
        ingress("foreign", rule("foreign.test", path("/", "p1")), class_name="other"),
        ingress("missing", rule("no-such-class.test", path("/", "p1")), class_name="nope"),
        ingress(
            "legacy",
            rule("legacy.test", path("/", "p2")),
            class_name=None,
            annotations={LEGACY_CLASS: "haproxy"},
        ),
        ingress(
            "legacy-foreign",
            rule("legacy-foreign.test", path("/", "p1")),
            class_name=None,
            annotations={LEGACY_CLASS: "nginx"},
        ),
        ingress("classless", rule("classless.test", path("/", "p1")), class_name=None),
        *proxy.services("p0", "p1", "p2"),
    )

    assert proxy.answer(request_host) == expected


def test_a_longer_prefix_added_at_runtime_wins(proxy: Proxy) -> None:
    elsewhere = rule("elsewhere.test", path("/", "p1"))  # backend p1 exists before and after
    proxy.serve(
        ingress("grow", rule("grow.test", path("/", "p0")), elsewhere), *proxy.services("p0", "p1")
    )

    outcome = proxy.serve(
        ingress("grow", rule("grow.test", path("/", "p0"), path("/api", "p1")), elsewhere),
        *proxy.services("p0", "p1"),
    )

    assert outcome.action == "runtime"  # map entries added through the runtime API, no reload
    assert [proxy.answer("grow.test", p) for p in ("/api/x", "/api", "/apix", "/")] == [
        "p1",
        "p1",
        "p0",
        "p0",
    ]
