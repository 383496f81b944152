"""Folding our Ingresses, oldest first, into virtual hosts and routes."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingress_ctl import naming
from ingress_ctl.matching import parse_host, parse_path, prefix_base
from ingress_ctl.objects import HTTPIngressPath, Ingress, IngressBackend, IngressClass
from ingress_ctl.problems import Problem, Severity
from ingress_ctl.reports import IngressReport
from ingress_ctl.routing import (
    Backend,
    ObjectRef,
    PathType,
    Route,
    Routing,
    ServiceRef,
    Value,
    VirtualHost,
)
from ingress_ctl.settings import Settings
from ingress_ctl.snapshot import Snapshot
from ingress_ctl.translation.backends import Index, resolve_backend
from ingress_ctl.translation.ownership import ownership

BUILTIN_404 = Backend(name=naming.NOT_FOUND_BACKEND, status=404)


class Translation(Value):
    """The routing model, every problem found, and a report per Ingress."""

    routing: Routing
    problems: tuple[Problem, ...]
    ingresses: tuple[IngressReport, ...]


@dataclass
class _Host:
    routes: dict[tuple[PathType, str], Route] = field(default_factory=dict)
    default_backend: str | None = None
    default_source: ObjectRef | None = None


@dataclass
class _Fold:
    """Mutable state while folding; frozen into a Routing at the end."""

    index: Index
    hosts: dict[str, _Host] = field(default_factory=dict)
    backends: dict[str, Backend] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    default: tuple[str, str] | None = None

    def problem(
        self, source: ObjectRef, where: str, reason: str, severity: Severity = "error"
    ) -> None:
        self.problems.append(Problem(source=source, field=where, reason=reason, severity=severity))

    def backend(self, source: ObjectRef, where: str, ref: IngressBackend) -> str | None:
        """The name of the backend an IngressBackend reaches; None (with a problem) if unusable."""
        if ref.service is None:
            self.problem(source, where, "only Service backends are supported")
            return None
        port = ref.service.port.number or ref.service.port.name
        if port is None:
            self.problem(source, f"{where}.service.port", "needs a number or a name")
            return None
        service = ServiceRef(namespace=source.namespace, name=ref.service.name, port=port)
        backend, missing = resolve_backend(service, index=self.index)
        if missing is not None:
            self.problem(source, f"{where}.service", f"{missing}; requests answer 503")
        self.backends[backend.name] = backend
        return backend.name


def translate(snapshot: Snapshot, *, settings: Settings) -> Translation:
    """Fold a snapshot into the routing model (pure and deterministic)."""
    classes = {name: cls for (_, name), cls in snapshot.objects(IngressClass).items()}
    fold = _Fold(index=Index.of(snapshot))
    reports = []
    for ingress in sorted(snapshot.objects(Ingress).values(), key=_age):
        source = _ref(ingress)
        ignored = ownership(ingress, classes=classes, settings=settings)
        if ignored is not None:
            reports.append(IngressReport(source=source, state="ignored", reason=ignored))
            continue
        before = len(fold.problems)
        routes = _fold_ingress(fold, ingress, source)
        reports.append(
            IngressReport(
                source=source,
                state="serving",
                routes=tuple(routes),
                problems=tuple(fold.problems[before:]),
            )
        )
    routing = _routing(fold, settings=settings)
    return Translation(
        routing=routing,
        problems=tuple(fold.problems),
        ingresses=tuple(sorted(reports, key=lambda r: (r.source.namespace, r.source.name))),
    )


def _age(ingress: Ingress) -> tuple[object, ...]:
    meta = ingress.metadata
    return (meta.creation_timestamp, meta.namespace, meta.name)


def _ref(ingress: Ingress) -> ObjectRef:
    meta = ingress.metadata
    return ObjectRef(kind="Ingress", namespace=meta.namespace, name=meta.name)


def _fold_ingress(fold: _Fold, ingress: Ingress, source: ObjectRef) -> list[str]:
    default = None
    if ingress.spec.default_backend is not None:
        default = fold.backend(source, "spec.defaultBackend", ingress.spec.default_backend)
        if default is not None and not ingress.spec.rules:
            _claim_global_default(fold, source, default)
    served = []
    for i, rule in enumerate(ingress.spec.rules):
        where = f"spec.rules[{i}]"
        try:
            host = parse_host(rule.host) if rule.host else ""
        except ValueError as error:
            fold.problem(source, f"{where}.host", f"{error}; rule ignored")
            continue
        vhost = fold.hosts.setdefault(host, _Host())
        if default is not None:
            _claim_host_default(fold, vhost, host, source, default)
        for j, path in enumerate(rule.http.paths if rule.http else ()):
            route = _route(fold, source, host, f"{where}.http.paths[{j}]", path)
            if route is not None and _claim_route(fold, vhost, route):
                served.append(f"{host or '*'}{route.path} ({route.path_type}) -> {route.backend}")
    return served


def _route(
    fold: _Fold, source: ObjectRef, host: str, where: str, path: HTTPIngressPath
) -> Route | None:
    try:
        value = parse_path(path.path)
    except ValueError as error:
        fold.problem(source, f"{where}.path", f"{error}; path ignored")
        return None
    backend = fold.backend(source, f"{where}.backend", path.backend)
    if backend is None:
        return None
    kind = PathType.EXACT if path.path_type == "Exact" else PathType.PREFIX
    return Route(host=host, path=value, path_type=kind, backend=backend, source=source, rule=where)


def _claim_route(fold: _Fold, vhost: _Host, route: Route) -> bool:
    path = route.path if route.path_type is PathType.EXACT else prefix_base(route.path) or "/"
    key = (route.path_type, path)
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
    fold: _Fold, vhost: _Host, host: str, source: ObjectRef, backend: str
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


def _claim_global_default(fold: _Fold, source: ObjectRef, backend: str) -> None:
    if fold.default is None:
        fold.default = (backend, str(source))
    else:
        fold.problem(
            source,
            "spec.defaultBackend",
            f"the controller's default backend is already {fold.default[1]}'s; the oldest wins",
            severity="warning",
        )


def _routing(fold: _Fold, *, settings: Settings) -> Routing:
    default, why = fold.default or _flag_default(fold, settings)
    hosts = tuple(
        VirtualHost(
            host=host,
            routes=tuple(sorted(state.routes.values(), key=lambda r: (r.path, r.path_type))),
            default_backend=state.default_backend,
            default_source=state.default_source,
        )
        for host, state in sorted(fold.hosts.items())
    )
    backends = dict(fold.backends)
    backends.setdefault(BUILTIN_404.name, BUILTIN_404)
    return Routing(
        hosts=hosts,
        default_backend=default,
        default_source=why,
        backends=tuple(backends[name] for name in sorted(backends)),
    )


def _flag_default(fold: _Fold, settings: Settings) -> tuple[str, str]:
    ref = settings.default_backend_service
    if ref is None:
        return BUILTIN_404.name, "built-in 404"
    backend, missing = resolve_backend(ref, index=fold.index)
    if missing is not None:
        fold.problems.append(
            Problem(
                source=ObjectRef(kind="Flag", name="--default-backend-service"),
                field=str(ref),
                reason=f"{missing}; unmatched requests answer 503",
            )
        )
    fold.backends[backend.name] = backend
    return backend.name, "--default-backend-service"
