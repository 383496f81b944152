"""IngressClass ownership: which Ingresses this controller serves, and why the others are not."""

from __future__ import annotations

from typing import Any

import pytest

from ingress_ctl.model.objects import Ingress, IngressClass, parse_object
from ingress_ctl.model.settings import Settings
from ingress_ctl.translation import translate
from ingress_ctl.translation.ownership import is_default_ours, our_classes, ownership
from tests.manifests import (
    Manifest,
    ingress,
    ingress_class,
    path,
    routes,
    rule,
    service,
    snapshot,
    where,
)

LEGACY = "kubernetes.io/ingress.class"
OTHER = "example.com/nginx"


def _classes(*manifests: Manifest) -> dict[str, IngressClass]:
    found = {}
    for raw in manifests:
        obj = parse_object(raw)
        assert isinstance(obj, IngressClass)
        found[obj.metadata.name] = obj
    return found


def _ingress(**options: Any) -> Ingress:
    obj = parse_object(ingress("x", rule("foo.com", path("/")), **options))
    assert isinstance(obj, Ingress)
    return obj


OURS = ingress_class("haproxy")
OURS_DEFAULT = ingress_class("haproxy", default=True)
OURS_SECOND = ingress_class("internal")
FOREIGN = ingress_class("nginx", OTHER)
FOREIGN_DEFAULT = ingress_class("nginx", OTHER, default=True)

CASES: list[tuple[str, dict[str, Any], list[Manifest], Settings, str | None]] = [
    # spec.ingressClassName
    ("class ours", {"class_name": "haproxy"}, [OURS], Settings(), None),
    ("second class ours", {"class_name": "internal"}, [OURS, OURS_SECOND], Settings(), None),
    (
        "class foreign",
        {"class_name": "nginx"},
        [OURS, FOREIGN],
        Settings(),
        f"IngressClass 'nginx' belongs to controller {OTHER!r}",
    ),
    (
        "class missing",
        {"class_name": "gone"},
        [OURS],
        Settings(),
        "IngressClass 'gone' does not exist",
    ),
    (
        "class missing even with watch-without-class",
        {"class_name": "gone"},
        [OURS_DEFAULT],
        Settings(watch_ingress_without_class=True),
        "IngressClass 'gone' does not exist",
    ),
    (
        "class name is not the controller name",
        {"class_name": "haproxy"},
        [ingress_class("haproxy", "ingress-ctl.io/haproxy-v2")],
        Settings(),
        "IngressClass 'haproxy' belongs to controller 'ingress-ctl.io/haproxy-v2'",
    ),
    (
        "custom controller name",
        {"class_name": "lb"},
        [ingress_class("lb", "corp.example/lb")],
        Settings(controller_name="corp.example/lb"),
        None,
    ),
    (
        "default controller name no longer ours",
        {"class_name": "haproxy"},
        [OURS],
        Settings(controller_name="corp.example/lb"),
        "IngressClass 'haproxy' belongs to controller 'ingress-ctl.io/haproxy'",
    ),
    # deprecated annotation
    (
        "annotation ours",
        {"class_name": None, "annotations": {LEGACY: "haproxy"}},
        [],
        Settings(),
        None,
    ),
    (
        "annotation custom class",
        {"class_name": None, "annotations": {LEGACY: "edge"}},
        [],
        Settings(ingress_class="edge"),
        None,
    ),
    (
        "annotation foreign",
        {"class_name": None, "annotations": {LEGACY: "nginx"}},
        [OURS_DEFAULT],
        Settings(watch_ingress_without_class=True),
        f"annotation {LEGACY}='nginx' is not 'haproxy'",
    ),
    (
        "annotation is case-sensitive",
        {"class_name": None, "annotations": {LEGACY: "HAProxy"}},
        [OURS],
        Settings(),
        f"annotation {LEGACY}='HAProxy' is not 'haproxy'",
    ),
    (
        "annotation empty",
        {"class_name": None, "annotations": {LEGACY: ""}},
        [OURS_DEFAULT],
        Settings(),
        f"annotation {LEGACY}='' is not 'haproxy'",
    ),
    # no class at all
    (
        "no class, no default",
        {"class_name": None},
        [OURS],
        Settings(),
        "no IngressClass, and none of ours is the default class",
    ),
    ("no class, ours is default", {"class_name": None}, [OURS_DEFAULT], Settings(), None),
    (
        "no class, foreign default",
        {"class_name": None},
        [OURS, FOREIGN_DEFAULT],
        Settings(),
        "no IngressClass, and none of ours is the default class",
    ),
    (
        "no class, default annotation not exactly true",
        {"class_name": None},
        [
            {
                **OURS,
                "metadata": {
                    "name": "haproxy",
                    "annotations": {"ingressclass.kubernetes.io/is-default-class": "True"},
                },
            }
        ],
        Settings(),
        "no IngressClass, and none of ours is the default class",
    ),
    (
        "no class, watch without class",
        {"class_name": None},
        [],
        Settings(watch_ingress_without_class=True),
        None,
    ),
    (
        "no class, no IngressClass objects",
        {"class_name": None},
        [],
        Settings(),
        "no IngressClass, and none of ours is the default class",
    ),
]


@pytest.mark.parametrize(
    ("options", "classes", "settings", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_ownership(
    options: dict[str, Any],
    classes: list[Manifest],
    settings: Settings,
    expected: str | None,
) -> None:
    assert ownership(_ingress(**options), classes=_classes(*classes), settings=settings) == expected


@pytest.mark.parametrize(
    ("options", "classes", "settings", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_translation_serves_only_ours(
    options: dict[str, Any],
    classes: list[Manifest],
    settings: Settings,
    expected: str | None,
) -> None:
    manifests = [*classes, ingress("x", rule("foo.com", path("/")), **options), service("web")]
    translation = translate(snapshot(manifests), settings=settings)
    (report,) = translation.ingresses
    if expected is None:
        assert (report.state, report.reason) == ("serving", "")
        assert report.routes == ("foo.com/ (Prefix) -> be_default_web_80",)
        assert routes(translation) == ["foo.com / Prefix -> be_default_web_80 [default/x]"]
    else:
        assert (report.state, report.reason, report.routes) == ("ignored", expected, ())
        assert routes(translation) == []
        assert translation.routing.hosts == ()
        assert [b.name for b in translation.routing.backends] == ["builtin_404"]
    assert translation.problems == ()


def test_foreign_ingresses_claim_nothing() -> None:
    """An ignored Ingress wins no duplicate, no host default and no controller default."""
    manifests = [
        ingress_class("haproxy"),
        FOREIGN,
        ingress(
            "foreign-default",
            class_name="nginx",
            default={"service": {"name": "theirs", "port": {"number": 80}}},
            minute=0,
        ),
        ingress(
            "foreign-rules",
            rule("foo.com", path("/", "theirs")),
            class_name="nginx",
            default={"service": {"name": "theirs", "port": {"number": 80}}},
            minute=1,
        ),
        ingress("ours", rule("foo.com", path("/", "web")), minute=2),
        service("web"),
    ]
    translation = translate(snapshot(manifests), settings=Settings())
    assert routes(translation) == ["foo.com / Prefix -> be_default_web_80 [default/ours]"]
    assert translation.problems == ()
    assert translation.routing.default_backend == "builtin_404"
    assert translation.routing.hosts[0].default_backend is None
    assert where(translation, "foo.com", "/x") == "be_default_web_80"
    assert {r.source.name: r.state for r in translation.ingresses} == {
        "foreign-default": "ignored",
        "foreign-rules": "ignored",
        "ours": "serving",
    }


@pytest.mark.parametrize(
    ("classes", "settings", "ours", "default"),
    [
        ([OURS, FOREIGN], Settings(), {"haproxy"}, False),
        ([OURS_DEFAULT, FOREIGN], Settings(), {"haproxy"}, True),
        ([OURS, FOREIGN_DEFAULT], Settings(), {"haproxy"}, False),
        ([OURS, OURS_SECOND], Settings(), {"haproxy", "internal"}, False),
        ([OURS_DEFAULT], Settings(controller_name="x.io/y"), set(), False),
        ([], Settings(), set(), False),
    ],
)
def test_our_classes_and_default(
    classes: list[Manifest], settings: Settings, ours: set[str], default: bool
) -> None:
    found = _classes(*classes)
    assert our_classes(found, settings=settings) == ours
    assert is_default_ours(found, settings=settings) is default
