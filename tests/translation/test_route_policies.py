"""Annotations in translation: backends per policy, Service and Ingress merged, problems,
auth and CA Secrets, canaries and from-to-www redirects."""

from __future__ import annotations

from typing import Any

import pytest

from ingress_ctl.haproxy import naming
from ingress_ctl.model.objects import Ingress, parse_object
from ingress_ctl.model.policies import Balance, BasicAuth, Policy
from ingress_ctl.model.routing import ObjectRef, ServiceRef
from ingress_ctl.model.settings import Settings
from ingress_ctl.translation import Translation
from ingress_ctl.translation.route_policies import ingress_annotations
from tests.certs import TestCA
from tests.manifests import (
    Manifest,
    endpoint,
    endpoint_slice,
    ingress,
    path,
    problems,
    routes,
    rule,
    run,
    service,
    where,
)

P = "ingress-ctl.io/"
N = "nginx.ingress.kubernetes.io/"
WEB = ServiceRef(namespace="default", name="web", port=80)
BCRYPT = "$2y$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW"


def web(**annotations: str) -> list[Manifest]:
    return [
        service("web", annotations=annotations or None),
        endpoint_slice("web-1", "web", endpoint("10.0.0.1")),
    ]


def site(
    name: str, host: str, annotations: dict[str, str], *paths: Manifest, minute: int = 0
) -> Manifest:
    return ingress(
        name,
        rule(host, *(paths or (path("/", "web", 80),))),
        annotations=annotations,
        minute=minute,
    )


def secret(name: str, data: dict[str, str], namespace: str = "default") -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "stringData": data,
    }


def backend_of(translation: Translation, host: str, request: str = "/") -> Policy:
    return translation.routing.backend(where(translation, host, request)).policy


def test_routes_without_annotations_keep_the_plain_backend() -> None:
    found = run(*web(), site("a", "a.test", {}))
    assert where(found, "a.test", "/") == naming.backend_name(WEB)


def test_equal_policies_share_a_backend_and_different_ones_do_not() -> None:
    found = run(
        *web(),
        site("a", "a.test", {P + "load-balance": "leastconn"}),
        site("b", "b.test", {P + "load-balance": "leastconn"}),
        site("c", "c.test", {P + "load-balance": "first"}),
        site("d", "d.test", {}),
    )
    names = [where(found, f"{host}.test", "/") for host in "abcd"]
    assert names[0] == names[1] != names[2] != names[3] == "be_default_web_80"
    assert names[0].startswith("be_default_web_80_")
    assert backend_of(found, "c.test").backend.balance is Balance.FIRST


def test_service_annotations_apply_and_the_ingress_wins() -> None:
    found = run(
        *web(**{P + "load-balance": "leastconn", P + "timeout-server": "5s"}),
        site("a", "a.test", {}),
        site("b", "b.test", {P + "load-balance": "source"}),
    )
    a, b = backend_of(found, "a.test").backend, backend_of(found, "b.test").backend
    assert (a.balance, a.timeouts.server) == (Balance.LEASTCONN, 5000)
    assert (b.balance, b.timeouts.server) == (Balance.SOURCE, 5000)


def test_problems_name_the_object_and_key_and_the_rest_is_served() -> None:
    found = run(
        *web(**{P + "timeout-server": "never", P + "cors-enable": "true"}),
        site("a", "a.test", {P + "load-balance": "fastest", P + "proxy-body-size": "1k"}),
        site("b", "b.test", {}),
    )
    assert problems(found) == [
        ("default/web", f"metadata.annotations[{P}cors-enable]", "warning"),
        ("default/web", f"metadata.annotations[{P}timeout-server]", "error"),
        ("default/a", f"metadata.annotations[{P}load-balance]", "error"),
    ]
    policy = backend_of(found, "a.test")
    assert (policy.backend.balance, policy.route.body_size) == (Balance.ROUNDROBIN, 1024)


def test_the_default_backend_gets_the_ingress_policy() -> None:
    found = run(
        *web(),
        ingress(
            "a",
            rule("a.test", path("/x", "web", 80)),
            default={"service": {"name": "web", "port": {"number": 80}}},
            annotations={P + "allow-list": "10.0.0.0/8", P + "rewrite-target": "/y"},
        ),
    )
    default = backend_of(found, "a.test", "/other")
    assert default.route.allow is not None and default.route.rewrite is None
    assert backend_of(found, "a.test", "/x/1").route.rewrite is not None


def test_rewrite_target_makes_a_backend_per_path() -> None:
    found = run(
        *web(),
        site(
            "a",
            "a.test",
            {P + "rewrite-target": "/"},
            path("/one", "web", 80),
            path("/two", "web", 80),
        ),
    )
    one, two = backend_of(found, "a.test", "/one/x"), backend_of(found, "a.test", "/two/x")
    assert one.route.rewrite is not None and two.route.rewrite is not None
    assert (one.route.rewrite.regex, two.route.rewrite.regex) == (
        "^/one(?:/(.*))?$",
        "^/two(?:/(.*))?$",
    )


@pytest.mark.parametrize(
    ("secrets", "annotation", "users", "reason"),
    [
        ([secret("users", {"auth": f"alice:{BCRYPT}"})], "users", ["alice"], None),
        (
            [],
            "users",
            [],
            "Secret default/users: not found; every request answers 401 until it is fixed",
        ),
        (
            [secret("users", {"auth": f"alice:{BCRYPT}"}, "other")],
            "other/users",
            [],
            "Secret other/users: only Secrets of the Ingress's namespace; every request answers 401 "
            "until it is fixed",
        ),
        ([secret("users", {"other": "x"})], "users", [], "Secret default/users: has no 'auth' key"),
        (
            [secret("users", {"auth": "bob:{SHA}x"})],
            "users",
            [],
            "Secret default/users: line 1: user 'bob': Apache's {SHA} hashes",
        ),
    ],
)
def test_basic_auth_secrets(
    secrets: list[Manifest], annotation: str, users: list[str], reason: str | None
) -> None:
    found = run(
        *web(),
        *secrets,
        site("a", "a.test", {P + "auth-type": "basic", P + "auth-secret": annotation}),
    )
    auth = backend_of(found, "a.test").route.auth
    assert isinstance(auth, BasicAuth)
    assert [user.name for user in auth.users] == users
    reasons = [p.reason for p in found.problems]
    assert reasons == [] if reason is None else reasons[0].startswith(reason), reasons


def test_ca_secret_becomes_a_file_of_the_routing() -> None:
    pem = TestCA().pem.decode()
    found = run(
        *web(**{P + "backend-protocol": "https", P + "backend-ca-secret": "ca"}),
        secret("ca", {"ca.crt": pem}),
        site("a", "a.test", {}),
        site("b", "b.test", {P + "backend-ca-secret": "missing"}),
    )
    upstream = backend_of(found, "a.test").backend.upstream
    [bundle] = found.routing.ca_bundles
    assert upstream.ca_file == bundle.file == naming.certificate_file(bundle.pem.encode())
    assert bundle.pem == pem
    broken = backend_of(found, "b.test").backend.upstream
    assert broken.unverifiable and broken.ca_file is None
    assert problems(found) == [
        ("default/b", f"metadata.annotations[{P}backend-ca-secret]", "error")
    ]


CANARY = {P + "canary": "true", P + "canary-weight": "20"}


def test_a_canary_joins_the_main_route_only() -> None:
    found = run(
        *web(),
        service("next"),
        site("main", "a.test", {}, path("/", "web", 80), path("/keep", "web", 80), minute=1),
        site("beta", "a.test", CANARY, path("/", "next", 80), minute=0),
        site("other", "b.test", {}, minute=2),
    )
    split = backend_of(found, "a.test", "/").route.canary
    assert split is not None and split.backend == "be_default_next_80"
    assert split.canary.weight == 20
    assert backend_of(found, "a.test", "/keep").route.canary is None
    assert where(found, "b.test", "/") == "be_default_web_80"
    assert problems(found) == []
    assert [line.split(" [")[1] for line in routes(found)] == ["default/main]"] * 2 + [
        "default/other]"
    ]


def test_canary_problems() -> None:
    found = run(
        *web(),
        service("next"),
        site("main", "a.test", {}),
        site("beta", "a.test", CANARY, path("/", "next", 80), minute=1),
        site("gamma", "a.test", CANARY, path("/", "next", 80), minute=2),
        site("lost", "c.test", CANARY, path("/", "next", 80), minute=3),
    )
    assert problems(found) == [
        ("default/gamma", "spec.rules[0].http.paths[0].path", "error"),
        ("default/lost", "spec.rules[0].http.paths[0].path", "error"),
    ]
    assert "no Ingress serves c.test / (Prefix)" in found.problems[1].reason


def test_from_to_www_redirects_only_unserved_hosts() -> None:
    www = {P + "from-to-www-redirect": "true"}
    found = run(
        *web(),
        site("a", "a.test", www),
        site("b", "www.b.test", www),
        site("c", "c.test", www),
        site("c-www", "www.c.test", {}, minute=5),
    )
    assert where(found, "www.a.test", "/x") == "builtin_redirect_a.test"
    assert where(found, "b.test", "/") == "builtin_redirect_www.b.test"
    assert where(found, "www.c.test", "/") == "be_default_web_80"
    assert found.routing.backend("builtin_redirect_a.test").redirect_to == "a.test"


def test_nginx_keys_need_the_flag() -> None:
    manifests = [
        *web(),
        site("a", "a.test", {N + "ssl-redirect": "false", N + "load-balance": "x"}),
    ]
    assert backend_of(run(*manifests), "a.test") == Policy()
    compat = run(*manifests, settings=Settings(nginx_compat=True))
    assert problems(compat) == [("default/a", f"metadata.annotations[{N}load-balance]", "warning")]


def test_a_canary_of_the_same_service_keeps_its_backend() -> None:
    found = run(
        *web(),
        site("main", "a.test", {}),
        site("beta", "a.test", CANARY, minute=1),
    )
    split = backend_of(found, "a.test").route.canary
    assert split is not None and split.backend == "be_default_web_80"
    assert {backend.name for backend in found.routing.backends} >= {"be_default_web_80"}


def test_the_former_main_backend_goes_when_nothing_reaches_it() -> None:
    found = run(
        *web(),
        service("next"),
        site("main", "a.test", {}),
        site("beta", "a.test", CANARY, path("/", "next", 80), minute=1),
    )
    assert "be_default_web_80" not in {backend.name for backend in found.routing.backends}


def test_a_backend_a_canary_dropped_is_back_when_a_later_canary_reaches_its_service() -> None:
    """The first canary moves a.example.com to a backend of its own and drops the former one
    (nothing else reaches s1); the second canary's own backend is s1's again: made anew, not
    remembered as dropped. Every backend a route or a split names is in the model."""
    canary = {"ingress-ctl.io/canary": "true", "ingress-ctl.io/canary-weight": "30"}
    found = run(
        ingress("a", rule("a.example.com", path("/", "s1")), minute=1),
        ingress("b", rule("b.example.com", path("/", "s3")), minute=2),
        ingress("ca", rule("a.example.com", path("/", "s2")), minute=3, annotations=canary),
        ingress("cb", rule("b.example.com", path("/", "s1")), minute=4, annotations=canary),
    )
    names = {backend.name for backend in found.routing.backends}
    splits = {
        backend.policy.route.canary.backend
        for backend in found.routing.backends
        if backend.policy.route.canary is not None
    }
    reached = {route.backend for vhost in found.routing.hosts for route in vhost.routes}
    assert splits == {"be_default_s2_80", "be_default_s1_80"}
    assert reached | splits <= names


@pytest.mark.parametrize("nginx", [False, True])
def test_an_ingress_without_annotations_is_one_with_none_of_ours(nginx: bool) -> None:
    """Nothing written is not read: what it asks for is what annotations of others ask."""
    bare, others = (
        parse_object(ingress("i", rule("a.example.com", path("/")), annotations=annotations))
        for annotations in (None, {"unrelated.io/note": "x", "kubectl.io/last": "{}"})
    )
    assert isinstance(bare, Ingress) and isinstance(others, Ingress)
    source = ObjectRef(kind="Ingress", namespace="default", name="i")
    objects: dict[str, Any] = {"services": {}, "secrets": {}, "config_maps": {}, "bundles": {}}
    read = [ingress_annotations(found, source, nginx=nginx, **objects) for found in (bare, others)]
    assert read[0] == read[1]
    assert read[0].policies.found == {} and not read[0].problems
