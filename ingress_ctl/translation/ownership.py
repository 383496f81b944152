"""IngressClass ownership: which Ingresses this controller serves."""

from __future__ import annotations

from collections.abc import Mapping

from ingress_ctl.model.objects import Ingress, IngressClass
from ingress_ctl.model.settings import Settings

LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"


def our_classes(classes: Mapping[str, IngressClass], *, settings: Settings) -> set[str]:
    """Names of the IngressClasses whose controller is ours."""
    return {
        name for name, cls in classes.items() if cls.spec.controller == settings.controller_name
    }


def is_default_ours(classes: Mapping[str, IngressClass], *, settings: Settings) -> bool:
    """Whether one of our IngressClasses is marked as the cluster default."""
    return any(
        classes[name].metadata.annotations.get(DEFAULT_CLASS_ANNOTATION) == "true"
        for name in our_classes(classes, settings=settings)
    )


def ownership(
    ingress: Ingress, *, classes: Mapping[str, IngressClass], settings: Settings
) -> str | None:
    """None when the Ingress is ours, else the reason it is ignored."""
    class_name = ingress.spec.ingress_class_name
    if class_name is not None:
        cls = classes.get(class_name)
        if cls is None:
            return f"IngressClass {class_name!r} does not exist"
        if cls.spec.controller != settings.controller_name:
            return f"IngressClass {class_name!r} belongs to controller {cls.spec.controller!r}"
        return None
    legacy = ingress.metadata.annotations.get(LEGACY_CLASS_ANNOTATION)
    if legacy is not None:
        if legacy == settings.ingress_class:
            return None
        return f"annotation {LEGACY_CLASS_ANNOTATION}={legacy!r} is not {settings.ingress_class!r}"
    if settings.watch_ingress_without_class or is_default_ours(classes, settings=settings):
        return None
    return "no IngressClass, and none of ours is the default class"
