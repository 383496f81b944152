"""Canary Ingresses: their paths join the routes that other Ingresses serve.

A canary Ingress (`canary: "true"`) is folded after every other Ingress. For
each of its paths, the route of the same host, path and type (served by a
main Ingress) gets a `CanarySplit` in its policy: a backend of its own (so
that other routes to the same Service are not shared), whose requests the
frontend hands to the canary's backend by header, cookie or weight. A path
that no main Ingress serves, or whose route already has a canary, is a
problem; a canary Ingress claims no route, default backend or TLS host. The
main route's former backend goes when nothing else reaches it. A sticky
canary's backend has affinity (its own, else the main route's) whose cookie
values name canary servers: a request carrying one stays on the canary.
"""

from __future__ import annotations

from dataclasses import replace

from ingress_ctl.haproxy import naming
from ingress_ctl.model.objects import Ingress
from ingress_ctl.model.policies import Canary, CanarySplit, Policy
from ingress_ctl.model.routing import ObjectRef, Route
from ingress_ctl.translation.fold import Fold
from ingress_ctl.translation.ingresses import route_key, route_of, rule_hosts
from ingress_ctl.translation.route_policies import RoutePolicies


def add_canary(
    fold: Fold, ingress: Ingress, source: ObjectRef, policies: RoutePolicies, canary: Canary
) -> list[str]:
    """Join a canary Ingress's paths to the main routes; a report line per route joined."""
    if ingress.spec.tls or ingress.spec.default_backend:
        reason = "a canary Ingress only shares routes: spec.tls and spec.defaultBackend are ignored"
        fold.problem(source, "spec", reason, "warning")
    served = []
    for host, rule_paths in rule_hosts(fold, ingress, source):
        for where, path in rule_paths:
            route = route_of(fold, source, host, where, path, policies)
            if route is not None and _join(fold, route, canary):
                served.append(
                    f"canary {host or '*'}{route.path} ({route.path_type}) -> {route.backend}"
                )
    return served


def _join(fold: Fold, canary_route: Route, canary: Canary) -> bool:
    vhost = fold.hosts.get(canary_route.host)
    key = route_key(canary_route)
    main = vhost.routes.get(key) if vhost is not None else None
    where = f"{canary_route.rule}.path"
    what = f"{canary_route.host or '*'} {canary_route.path} ({canary_route.path_type})"
    if vhost is None or main is None:
        fold.problem(canary_route.source, where, f"no Ingress serves {what}: nothing to share")
        return False
    backend = fold.backends[main.backend]
    if backend.policy.route.canary is not None:
        reason = f"{what} of {main.source} already has a canary; the oldest canary wins"
        fold.problem(canary_route.source, where, reason)
        return False
    assert backend.service is not None  # routes reach Service backends only
    canary_backend, cookie = _sticky(fold, canary_route.backend, backend.policy, canary)
    split = CanarySplit(backend=canary_backend, canary=canary, affinity_cookie=cookie)
    route_policy = backend.policy.route.model_copy(update={"canary": split})
    policy = backend.policy.model_copy(update={"route": route_policy})
    name = naming.policy_backend_name(backend.service, policy)
    fold.backends[name] = replace(backend, name=name, policy=policy)
    vhost.routes[key] = replace(main, backend=name)
    for former in {backend.name, canary_route.backend}:
        if not _in_use(fold, former):
            del fold.backends[former]
    return True


def _sticky(fold: Fold, name: str, main: Policy, canary: Canary) -> tuple[str, str | None]:
    """The canary's backend, with the affinity that keeps a client on it (its own, else the
    main route's) when the canary is sticky; and that affinity's cookie name."""
    found = fold.backends[name]
    affinity = found.policy.backend.affinity or main.backend.affinity
    if not canary.sticky or affinity is None or found.service is None:
        return name, None
    pods = found.policy.backend.model_copy(
        update={"affinity": affinity.model_copy(update={"canary": True})}
    )
    policy = found.policy.model_copy(update={"backend": pods})
    sticky = naming.policy_backend_name(found.service, policy)
    fold.backends.setdefault(sticky, replace(found, name=sticky, policy=policy))
    return sticky, affinity.name


def _in_use(fold: Fold, backend: str) -> bool:
    """Whether a route, a default backend or a canary split still reaches `backend`."""
    return (
        (fold.default is not None and fold.default[0] == backend)
        or any(
            state.default_backend == backend
            or any(route.backend == backend for route in state.routes.values())
            for state in fold.hosts.values()
        )
        or any(
            found.policy.route.canary is not None and found.policy.route.canary.backend == backend
            for found in fold.backends.values()
        )
    )
