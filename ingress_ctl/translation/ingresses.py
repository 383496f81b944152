"""HTTP routing of one Ingress: its rules folded into virtual hosts and routes.

Oldest Ingress first: the first to claim a host path, a host's default
backend or the controller's default backend keeps it; later claims are
reported. `translation/translate.py` calls this for every Ingress it serves.
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import attrgetter

from ingress_ctl.annotations.nginx import idiom_prefix
from ingress_ctl.haproxy import naming
from ingress_ctl.model.matching import parse_host, parse_path, prefix_base
from ingress_ctl.model.objects import HTTPIngressPath, Ingress
from ingress_ctl.model.problems import Problem
from ingress_ctl.model.routing import Backend, ObjectRef, PathType, Route, VirtualHost
from ingress_ctl.model.settings import Settings
from ingress_ctl.translation.fold import Fold, HostState
from ingress_ctl.translation.makers import new_route, new_virtual_host
from ingress_ctl.translation.route_policies import RoutePolicies

BUILTIN_404 = Backend(name=naming.NOT_FOUND_BACKEND, status=404)


def add_http(fold: Fold, ingress: Ingress, source: ObjectRef, policies: RoutePolicies) -> list[str]:
    """Fold an Ingress's rules and default backend (with the policies its annotations ask
    for); returns a report line per route."""
    default = None
    if ingress.spec.default_backend is not None:
        backend = ingress.spec.default_backend
        policy = policies.of(backend)
        default = fold.backend(source, "spec.defaultBackend", backend, policy=policy)
        if default is not None and not ingress.spec.rules:
            _claim_global_default(fold, source, default)
    served = []
    reached: Reached = {}
    for host, rule_paths in rule_hosts(fold, ingress, source):
        vhost = fold.hosts.get(host)
        if vhost is None:
            vhost = fold.hosts[host] = HostState()
        if default is not None:
            _claim_host_default(fold, vhost, host, source, default)
        shown = host or "*"
        for where, path in rule_paths:
            route = route_of(fold, source, host, where, path, policies, reached)
            if route is not None and _claim_route(fold, vhost, route):
                served.append(f"{shown}{route.path}{_LEADS_TO[route.path_type]}{route.backend}")
    return served


_LEADS_TO = {kind: f" ({kind}) -> " for kind in PathType}
"""The middle of a route's report line, by path type (made once: a path type is a string
enum, which each line would otherwise format into a new string)."""


def rule_hosts(
    fold: Fold, ingress: Ingress, source: ObjectRef
) -> Iterator[tuple[str, Iterator[tuple[str, HTTPIngressPath]]]]:
    """Each rule's host ("" for none) with its paths and where they stand; a rule whose host
    does not parse is reported and skipped."""
    for i, rule in enumerate(ingress.spec.rules):
        try:
            host = parse_host(rule.host) if rule.host else ""
        except ValueError as error:
            fold.problem(source, f"spec.rules[{i}].host", f"{error}; rule ignored")
            continue
        paths = rule.http.paths if rule.http else ()
        yield host, zip(_path_places(fold, i, len(paths)), paths, strict=True)


def _path_places(fold: Fold, rule: int, count: int) -> tuple[str, ...]:
    """Where the paths of a rule stand (`spec.rules[i].http.paths[j]`): the same few for
    every Ingress, made once per translation."""
    key = (rule, count)
    found = fold.places.get(key)
    if found is None:
        found = fold.places[key] = tuple(
            f"spec.rules[{rule}].http.paths[{j}]" for j in range(count)
        )
    return found


Reached = dict[tuple[str, int | str | None], str]
"""The backends with a server that an Ingress's paths without a policy reached, by Service
name and port: most Ingresses send each path to one Service, which `RoutePolicies.of` and
`Fold.backend` are then asked about once (each would answer the same, and report nothing)."""


def route_of(
    fold: Fold,
    source: ObjectRef,
    host: str,
    where: str,
    path: HTTPIngressPath,
    policies: RoutePolicies,
    reached: Reached | None = None,
) -> Route | None:
    """The route of one path of a rule (its backend made), or None with a problem; the
    backends its Ingress's paths reached so far (`reached`, when given) are not asked again."""
    idiom = policies.regex_idiom and idiom_prefix(path.path or "/")
    try:
        value = parse_path(idiom or path.path)
    except ValueError as error:
        fold.problem(source, f"{where}.path", f"{error}; path ignored")
        return None
    kind = PathType.EXACT if path.path_type == "Exact" and not idiom else PathType.PREFIX
    target = path.backend.service
    key = (target.name, target.port.number or target.port.name) if target else None
    backend = reached.get(key) if reached is not None and key is not None else None
    if backend is None:
        policy = policies.of(path.backend, value, kind)
        backend = fold.backend(source, f"{where}.backend", path.backend, policy=policy)
        if backend is None:
            return None
        if reached is not None and key is not None and policy is None:
            _keep(fold, source, reached, key, backend)
    return new_route(
        host=host, path=value, path_type=kind, backend=backend, source=source, rule=where
    )


def _keep(
    fold: Fold, source: ObjectRef, reached: Reached, key: tuple[str, int | str | None], backend: str
) -> None:
    """Keep a backend that a path without a policy reached, if it has a server (one without
    is reported at each path)."""
    if fold.uses_of(source)[backend] is None:
        reached[key] = backend


def route_key(route: Route) -> tuple[PathType, str]:
    """What two routes of a host must differ in (a Prefix's trailing slash does not count)."""
    path = route.path if route.path_type is PathType.EXACT else prefix_base(route.path) or "/"
    return (route.path_type, path)


def _claim_route(fold: Fold, vhost: HostState, route: Route) -> bool:
    key = route_key(route)
    owner = vhost.routes.get(key)
    if owner is not None:
        fold.problem(
            route.source,
            f"{route.rule}.path",
            f"{route.host or '*'} {route.path} ({route.path_type}) is already routed by "
            f"{owner.source} ({owner.rule}); the oldest Ingress wins",
        )
        return False
    vhost.routes[key] = route
    return True


def _claim_host_default(
    fold: Fold, vhost: HostState, host: str, source: ObjectRef, backend: str
) -> None:
    if vhost.default_backend is None:
        vhost.default_backend, vhost.default_source = backend, source
    elif vhost.default_backend != backend:
        fold.problem(
            source,
            "spec.defaultBackend",
            f"host {host or '*'} already has the default backend of {vhost.default_source}; "
            "the oldest Ingress wins",
            severity="warning",
        )


def _claim_global_default(fold: Fold, source: ObjectRef, backend: str) -> None:
    if fold.default is None:
        fold.default = (backend, str(source))
    else:
        fold.problem(
            source,
            "spec.defaultBackend",
            f"the controller's default backend is already {fold.default[1]}'s; the oldest wins",
            severity="warning",
        )


_ROUTE_ORDER = attrgetter("path", "path_type")
"""The order of a host's routes in the Routing."""


def virtual_hosts(fold: Fold) -> tuple[VirtualHost, ...]:
    """The folded hosts, frozen and sorted."""
    return tuple(
        new_virtual_host(
            host=host,
            routes=tuple(sorted(state.routes.values(), key=_ROUTE_ORDER)),
            default_backend=state.default_backend,
            default_source=state.default_source,
        )
        for host, state in sorted(fold.hosts.items())
    )


def controller_default(fold: Fold, settings: Settings) -> tuple[str, str]:
    """The controller's default backend and why: an Ingress's, the flag's, or the built-in 404."""
    return fold.default or _flag_default(fold, settings)


def _flag_default(fold: Fold, settings: Settings) -> tuple[str, str]:
    ref = settings.default_backend_service
    if ref is None:
        return BUILTIN_404.name, "built-in 404"
    backend, missing = fold.service_backend(ref)
    if missing is not None:
        fold.problems.append(
            Problem(
                source=ObjectRef(kind="Flag", name="--default-backend-service"),
                field=str(ref),
                reason=f"{missing}; unmatched requests answer 503",
            )
        )
    return backend.name, "--default-backend-service"
