"""Hostile annotations cannot inject configuration: every key of ours and of nginx's.

Hypothesis writes Ingresses (main and canary ones) and Services whose
annotations take every registered key, every mapped nginx key and snippet
keys (and a custom-headers ConfigMap of hostile names and values), with valid values (the parsing tables' rows), hostile text, or valid
values with hostile text spliced in. With `--nginx-compat` on, each batch is
translated and rendered, and:

(a) nothing raises;
(b) every value of ours that its parser refuses is a problem naming its key;
(c) every rendered line is one the templates can print (tests/test_properties);
(d) the real `haproxy -c` accepts the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingress_ctl.annotations import nginx
from ingress_ctl.annotations.registry import REGISTRY, clean, field_of
from ingress_ctl.haproxy.rendering import render
from ingress_ctl.model.objects import Ingress, KubeObject, ObjectError, Service, parse_object
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import Snapshot
from ingress_ctl.translation import translate
from tests.annotations.test_nginx import N
from tests.annotations.test_parsing import CRYPT_HASHES, VALID
from tests.manifests import (
    Manifest,
    configmap,
    endpoint,
    endpoint_slice,
    ingress,
    ingress_class,
    path,
    rule,
    service,
)
from tests.test_properties import (
    HOSTILE_TEXT,
    Outcome,
    check_lines,
    check_lookups,
    check_servers,
    haproxy_check,
)

SETTINGS = Settings(nginx_compat=True)
OURS = sorted(REGISTRY)
NGINX = sorted(
    N + name for name in nginx.MAPPING if name != "ssl-passthrough"
)  # passthrough has its own property tests
SNIPPETS = ("ingress-ctl.io/server-snippet", N + "configuration-snippet", N + "server-snippet")
NGINX_VALUES = ("60", "8m", "0", "GRPC", "HTTPS", "cookie", "balanced", "100", "basic", "auth-file")
SNEAKY = ("X-%ci", "%", "%%", "/a;b=c", "a,b", "X#y z", "$HOME", "'", "a'b c", "/$1", "\\1")
"""Valid somewhere, special elsewhere: log-format tags, cookie attribute ends, quotes."""
VALUES = sorted(
    {raw for rows in VALID.values() for raw, _ in rows} | set(NGINX_VALUES) | set(SNEAKY)
)

VALUE: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(VALUES),
    HOSTILE_TEXT,
    st.builds(
        lambda head, bad, tail: head + bad + tail,
        st.sampled_from(VALUES),
        HOSTILE_TEXT,
        st.sampled_from(("", *VALUES)),
    ),
)
ANNOTATIONS = st.dictionaries(st.sampled_from((*OURS, *NGINX, *SNIPPETS)), VALUE, max_size=8)
HOSTS = st.sampled_from(("a.example.com", "b.example.com"))
PATHS = st.sampled_from(("/", "/api", "/api/", "/x"))
KINDS = st.sampled_from(("Prefix", "Exact"))
SERVICES = st.sampled_from(("web", "api"))
HEADER_DATA = st.dictionaries(
    st.one_of(st.sampled_from(("X-A", "Server", "Host", "Set-Cookie", "x_y")), HOSTILE_TEXT),
    VALUE,
    max_size=4,
)
"""A custom-headers ConfigMap: header names and values, hostile ones among them."""
USERS = "\n".join(f"{kind}:{hashed}" for kind, hashed in CRYPT_HASHES.items())


@st.composite
def ingresses(draw: st.DrawFn, name: str) -> Manifest:
    annotations = draw(ANNOTATIONS)
    if draw(st.booleans()):
        annotations["ingress-ctl.io/canary"] = "true"
    rules = [
        rule(draw(HOSTS), *(path(draw(PATHS), draw(SERVICES), 80, draw(KINDS)) for _ in range(2)))
        for _ in range(draw(st.integers(1, 2)))
    ]
    return ingress(name, *rules, annotations=annotations)


@st.composite
def services(draw: st.DrawFn, name: str) -> list[Manifest]:
    backend_keys = [key for key in (*OURS, *SNIPPETS) if not key.startswith(N)]
    annotations = draw(st.dictionaries(st.sampled_from(backend_keys), VALUE, max_size=4))
    return [
        service(name, annotations=annotations),
        endpoint_slice(f"{name}-1", name, endpoint("10.0.0.1", "10.0.0.2")),
    ]


def secret(name: str, content: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "default"},
        "stringData": {"auth": content, "ca.crt": content},
    }


@st.composite
def batches(draw: st.DrawFn) -> list[Manifest]:
    objects = [ingress_class(), secret("users", USERS), secret("ca", draw(HOSTILE_TEXT))]
    objects.append(configmap("headers", draw(HEADER_DATA)))
    objects += draw(services("web")) + draw(services("api"))
    objects += [draw(ingresses(f"app-{i}")) for i in range(draw(st.integers(1, 3)))]
    return objects


def pipeline(manifests: list[Manifest]) -> Outcome:
    objects: list[KubeObject] = []
    rejected: list[ObjectError] = []
    for raw in manifests:
        try:
            found = parse_object(raw)
        except ObjectError as error:
            rejected.append(error)
            continue
        assert found is not None
        objects.append(found)
    snapshot = Snapshot.of(objects)
    translation = translate(snapshot, settings=SETTINGS)
    files = render(translation.routing, settings=SETTINGS)
    return Outcome(tuple(rejected), snapshot, translation, files)


def refused(key: str, raw: str) -> bool:
    annotation = REGISTRY[key]
    try:
        annotation.parse(clean(raw, multiline=annotation.multiline))
    except ValueError:
        return True
    return False


def check_refusals(outcome: Outcome) -> None:
    """(b): every value of ours that does not parse has a problem on its object and key."""
    fields = {(p.source.kind, p.source.name, p.field) for p in outcome.translation.problems}
    objects: list[Ingress | Service] = [
        *outcome.snapshot.objects(Ingress).values(),
        *outcome.snapshot.objects(Service).values(),
    ]
    for obj in objects:
        for key, raw in obj.metadata.annotations.items():
            if key in REGISTRY and refused(key, raw):
                assert (obj.kind, obj.metadata.name, field_of(key)) in fields, (key, raw)
    for problem in outcome.translation.problems:
        assert problem.field.strip() and problem.reason.strip(), problem


def check(outcome: Outcome) -> None:
    check_refusals(outcome)
    check_lines(outcome)
    check_lookups(outcome, [])
    check_servers(outcome)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_hostile_annotations_render_only_template_lines(manifests: list[Manifest]) -> None:
    check(pipeline(manifests))


@pytest.mark.haproxy
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_haproxy_accepts_whatever_hostile_annotations_render(
    haproxy_bin: str, tmp_path_factory: pytest.TempPathFactory, manifests: list[Manifest]
) -> None:
    outcome = pipeline(manifests)
    check(outcome)
    haproxy_check(haproxy_bin, tmp_path_factory.mktemp("check"), outcome.files)


def every_feature() -> list[Manifest]:
    """One Ingress per registered key with its first valid value, plus a canary: each line of
    the policy template is rendered at least once."""
    objects: list[Any] = [
        ingress_class(),
        secret("users", USERS),
        configmap("headers", {"X-Custom": "42", "X-Dollar": "$remote_addr"}),
        *services_of("web"),
        ingress("main", rule("a.example.com", path("/", "web", 80))),
    ]
    for index, key in enumerate(OURS):
        annotations = {key: VALID[key][0][0]}
        if key.endswith(("-secret", "-realm")):
            annotations |= {
                "ingress-ctl.io/auth-type": "basic",
                "ingress-ctl.io/auth-secret": "users",
            }
        objects.append(
            ingress(
                f"i{index}",
                rule(f"h{index}.example.com", path("/a", "web", 80)),
                annotations=annotations,
            )
        )
    return objects


def services_of(name: str) -> list[Manifest]:
    return [service(name), endpoint_slice(f"{name}-1", name, endpoint("10.0.0.1"))]


@pytest.mark.haproxy
def test_every_annotation_alone_renders_a_valid_configuration(
    haproxy_bin: str, tmp_path: Path
) -> None:
    outcome = pipeline(every_feature())
    check(outcome)
    haproxy_check(haproxy_bin, tmp_path, outcome.files)
