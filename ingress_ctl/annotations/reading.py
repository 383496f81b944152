"""Reading an object's annotations: gathered, then read feature by feature into requests.

`gather` keeps our keys that the object's kind carries (and, in compat mode,
the nginx keys mapped onto ours), and turns everything else of ours into an
issue: snippets and refused keys (errors), unknown keys and keys of another
scope (warnings). `backend_request` and `route_request` read the features
into policies; what needs other objects (Secrets, the route's path) stays a
request for translation to resolve. A Service's and an Ingress's gathered
annotations merge (the Ingress's win) for the backend of that pair.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from ingress_ctl.annotations import (
    access,
    affinity,
    auth,
    balancing,
    canary,
    cors,
    headers,
    health,
    https,
    limits,
    nginx,
    protocol,
    redirects,
    rewrite,
    timeouts,
)
from ingress_ctl.annotations.auth import AuthRequest
from ingress_ctl.annotations.headers import CustomHeaders
from ingress_ctl.annotations.https import NOTHING as NO_HTTPS_REQUEST
from ingress_ctl.annotations.https import HTTPSRequest
from ingress_ctl.annotations.registry import (
    PREFIX,
    REFUSED,
    REGISTRY,
    Found,
    Issue,
    Kind,
    Reader,
    Scope,
    Severity,
    snippet_refusal,
)
from ingress_ctl.model.policies import BackendPolicy, Canary, Part, RoutePolicy, Upstream

NGINX_SEVERITY: Mapping[str, Severity] = {
    "unsupported": "error",
    "refused": "error",
    "overridden": "warning",
    "unknown": "warning",
}
"""How a problem about an nginx key is reported (translated keys are not problems)."""


def gather(
    annotations: Mapping[str, str], kind: Kind, *, nginx_compat: bool = False
) -> tuple[dict[str, Found], list[Issue]]:
    """Our annotations that this kind of object carries, and an issue per key not taken."""
    found: dict[str, Found] = {}
    issues: list[Issue] = []
    for key, raw in sorted(annotations.items()):
        if key.startswith(PREFIX):
            reason = _not_read(key, kind)
            if reason is None:
                found[key] = Found(raw=raw, key=key, owner=kind)
            else:
                issues.append(Issue(key, reason[0], reason[1], owner=kind))
    if nginx_compat and kind == "Ingress":
        translated = nginx.translate(annotations, owner=kind)
        for key, hit in translated.found.items():
            found.setdefault(key, hit)
        issues.extend(
            Issue(outcome.key, outcome.note, NGINX_SEVERITY[outcome.verdict], owner=kind)
            for outcome in translated.outcomes
            if outcome.verdict in NGINX_SEVERITY
        )
    return found, issues


def _not_read(key: str, kind: Kind) -> tuple[str, Severity] | None:
    refusal = snippet_refusal(key) or REFUSED.get(key)
    if refusal is not None:
        return refusal, "error"
    annotation = REGISTRY.get(key)
    if annotation is None:
        import difflib  # noqa: PLC0415 (only to suggest a name for an unknown key)

        names = [known.removeprefix(PREFIX) for known in REGISTRY]
        close = difflib.get_close_matches(key.removeprefix(PREFIX), names, n=1)
        hint = f"; did you mean {PREFIX}{close[0]}?" if close else "; see docs/annotations.md"
        return f"unknown annotation{hint}", "warning"
    if not annotation.scope.read_on(kind):
        where = "Services" if annotation.scope is Scope.SERVICE else "Ingresses"
        return f"ignored on a {kind}: it is read on {where} only", "warning"
    return None


def merged(service: Mapping[str, Found], ingress: Mapping[str, Found]) -> dict[str, Found]:
    """A Service's backend annotations, overridden by an Ingress's."""
    return {**service, **ingress}


class BackendRequest(Part):
    """A backend policy as annotations ask for it; the CA Secret is not read yet."""

    policy: BackendPolicy = BackendPolicy()
    ca_secret: tuple[str | None, str] | None = None


class RouteRequest(Part):
    """A route policy as annotations ask for it; the auth Secret, the custom-headers
    ConfigMap and the route's path (for rewrite-target) are not applied yet."""

    policy: RoutePolicy = RoutePolicy()
    auth: AuthRequest | None = None
    rewrite_target: str | None = None
    custom_headers: CustomHeaders | None = None


class IngressRequest(Part):
    """What an Ingress's annotations ask for its hosts and routes."""

    route: RouteRequest = RouteRequest()
    canary: Canary | None = None
    from_to_www: bool = False
    https: HTTPSRequest = NO_HTTPS_REQUEST


NOTHING_BACKEND = BackendRequest()
NOTHING_INGRESS = IngressRequest()
"""What objects without annotations of ours ask for (most objects: read without parsing)."""
_NO_READER = Reader({})
"""The reader of nothing: requests answer NOTHING_* at once and it never records an issue."""


R = TypeVar("R", BackendRequest, IngressRequest)


def read(found: Mapping[str, Found], request: Callable[[Reader], R]) -> tuple[R, list[Issue]]:
    """What found annotations ask for (`backend_request` or `ingress_request`), and the issues
    of reading them. Nothing found asks for nothing: no reader is made (most objects)."""
    if not found:
        return request(_NO_READER), []
    reader = Reader(found)
    return request(reader), reader.issues


def backend_request(reader: Reader) -> BackendRequest:
    if not reader.found:
        return NOTHING_BACKEND
    upstream = protocol.upstream(reader)
    policy = BackendPolicy(
        timeouts=timeouts.timeouts(reader),
        balance=balancing.balance(reader),
        hash_by=balancing.hash_by(reader),
        affinity=affinity.affinity(reader),
        upstream=Upstream(protocol=upstream.protocol),
        health=health.health(reader),
        maxconn=balancing.maxconn(reader),
    )
    return BackendRequest(policy=policy, ca_secret=upstream.ca_secret)


def route_request(reader: Reader) -> RouteRequest:
    policy = RoutePolicy(
        allow=access.allowed(reader),
        deny=access.denied(reader),
        rate_limit=limits.rate_limit(reader),
        rewrite=rewrite.regex_rewrite(reader),
        request_headers=headers.request_headers(reader),
        response_headers=headers.response_headers(reader),
        upstream_vhost=headers.upstream_vhost(reader),
        cors=cors.cors(reader),
        redirect=redirects.redirect(reader),
        app_root=redirects.app_root(reader),
        body_size=limits.body_size(reader),
    )
    return RouteRequest(
        policy=policy,
        auth=auth.auth(reader),
        rewrite_target=rewrite.target(reader),
        custom_headers=headers.custom_headers(reader),
    )


def ingress_request(reader: Reader) -> IngressRequest:
    if not reader.found:
        return NOTHING_INGRESS
    return IngressRequest(
        route=route_request(reader),
        canary=canary.canary(reader),
        from_to_www=redirects.from_to_www(reader),
        https=https.https_request(reader),
    )


def check(found: Mapping[str, Found], kind: Kind) -> list[Issue]:
    """Every issue of reading these annotations alone (each object's are reported once)."""
    reader = Reader(found)
    backend_request(reader)
    if kind == "Ingress":
        ingress_request(reader)
    return reader.issues
