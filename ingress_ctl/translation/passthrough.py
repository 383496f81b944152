"""SSL passthrough Ingresses: SNI names routed, undecrypted, to TCP backends.

An Ingress annotated `ingress-ctl.io/ssl-passthrough: "true"` serves only TLS
on the HTTPS port: each rule host is an SNI name, and its connections go to
the backend of the rule's first path (else the Ingress's defaultBackend),
which must speak TLS itself. Paths cannot be told apart inside TLS, so later
paths are ignored with a warning; `spec.tls` is ignored (the backend holds
the certificate). The oldest Ingress wins a name.
"""

from __future__ import annotations

from ingress_ctl.model.matching import parse_host
from ingress_ctl.model.objects import Ingress, IngressBackend, IngressRule
from ingress_ctl.model.routing import ObjectRef, PassthroughRoute
from ingress_ctl.translation.fold import Fold


def add_passthrough(fold: Fold, ingress: Ingress, source: ObjectRef) -> list[str]:
    """Fold a passthrough Ingress's rules; returns a report line per SNI name it serves."""
    if ingress.spec.tls:
        fold.problem(source, "spec.tls", "ignored: TLS is passed through to the backend", "warning")
    served = []
    for i, rule in enumerate(ingress.spec.rules):
        route = _route(fold, source, f"spec.rules[{i}]", rule, ingress.spec.default_backend)
        if route is not None and _claim(fold, route, f"spec.rules[{i}].host"):
            served.append(f"passthrough {route.name} -> {route.backend}")
    return served


def _route(
    fold: Fold,
    source: ObjectRef,
    where: str,
    rule: IngressRule,
    default: IngressBackend | None,
) -> PassthroughRoute | None:
    try:
        host = parse_host(rule.host or "")
    except ValueError as error:
        fold.problem(source, f"{where}.host", f"passthrough needs an SNI name: {error}")
        return None
    paths = rule.http.paths if rule.http is not None else ()
    if len(paths) > 1:
        fold.problem(
            source,
            f"{where}.http.paths",
            "passthrough routes whole TLS connections: only paths[0] is used",
            severity="warning",
        )
    target, at = (paths[0].backend, f"{where}.http.paths[0].backend") if paths else (default, "")
    if target is None:
        fold.problem(source, where, "passthrough needs a path or a defaultBackend")
        return None
    backend = fold.backend(source, at or "spec.defaultBackend", target, passthrough=True)
    if backend is None:
        return None
    return PassthroughRoute(name=host, backend=backend, source=source)


def _claim(fold: Fold, route: PassthroughRoute, where: str) -> bool:
    owner = fold.passthrough.get(route.name)
    if owner is None:
        fold.passthrough[route.name] = route
        return True
    fold.problem(
        route.source,
        where,
        f"{route.name} is already passed through by {owner.source}; the oldest Ingress wins",
        severity="warning",
    )
    return False
