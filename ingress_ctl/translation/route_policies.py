"""Route policies: an Ingress's and its Services' annotations resolved into each route's Policy.

An Ingress's annotations are gathered and read once (their issues become
problems on the Ingress), a Service's once per translation (problems on the
Service, see `read_service`). The Policy of a route merges the backend
annotations of its Service and of the Ingress (the Ingress wins) with the
Ingress's route annotations; `rewrite-target` becomes a rewrite of that
route's own path, an affinity cookie without session-cookie-path gets that
path (as in ingress-nginx), and the basic-auth Secret is read into users. Security
features fail closed: an unusable auth Secret leaves auth on with no user.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from ingress_ctl.annotations import affinity, auth, headers, https, protocol, reading, rewrite
from ingress_ctl.annotations import nginx as nginx_keys
from ingress_ctl.annotations.https import HTTPSRequest
from ingress_ctl.annotations.registry import Found, Issue, Reader, field_of
from ingress_ctl.haproxy import naming
from ingress_ctl.model.objects import ConfigMap, Ingress, IngressBackend, Secret, Service
from ingress_ctl.model.policies import (
    BackendPolicy,
    BasicAuth,
    Canary,
    Header,
    Policy,
    RoutePolicy,
    Upstream,
    User,
)
from ingress_ctl.model.problems import Problem
from ingress_ctl.model.records import fast_init, maker
from ingress_ctl.model.routing import ObjectRef, PathType, ProxyProtocol
from ingress_ctl.model.snapshot import NamespacedName
from ingress_ctl.translation.certificates import CA_KEY, ca_bundle, secret_value

T = TypeVar("T")

NOTHING = Policy(backend=reading.NOTHING_BACKEND.policy, route=reading.NOTHING_INGRESS.route.policy)
"""The policy of routes that no annotation of ours reaches (most routes: no copy is made)."""


def problems(source: ObjectRef, issues: list[Issue]) -> list[Problem]:
    """The problems of an object's annotation issues."""
    return [
        Problem(source=source, field=issue.field, reason=issue.reason, severity=issue.severity)
        for issue in issues
    ]


def read_service(service: Service) -> tuple[ProxyProtocol | None, list[Problem]]:
    """A Service's PROXY protocol, and the problems of its annotations of ours (reported
    once, on the Service); every key parsed once."""
    meta = service.metadata
    if not meta.annotations:
        return None, []
    found, issues = reading.gather(meta.annotations, "Service")
    reader = Reader(found)
    reading.backend_request(reader)
    proxy = https.send_proxy(reader)
    source = ObjectRef(kind="Service", namespace=meta.namespace, name=meta.name)
    return proxy, problems(source, issues + reader.issues)


@dataclass(slots=True)
class RoutePolicies:
    """The policies of one Ingress's routes (a backend part per Service, cached), and the
    problems found while routes are folded: the Ingress's backend annotations, read with each
    Service's (an Ingress whose paths reach no Service has them read alone), and CA Secrets."""

    source: ObjectRef
    found: dict[str, Found]
    route: RoutePolicy
    rewrite_target: str | None
    services: Mapping[NamespacedName, Service]
    secrets: Mapping[NamespacedName, Secret]
    bundles: dict[str, str]
    """The translation's CA files (file -> PEM): CA Secrets read are added."""
    regex_idiom: bool = False
    """ingress-nginx read the paths as regular expressions (compat mode): its rewrite idiom
    `L(/|$)(.*)` is the Prefix `L` (see nginx.idiom_prefix)."""
    problems: list[Problem] = field(default_factory=list)
    _backends: dict[str, BackendPolicy] = field(default_factory=dict)

    def of(
        self, target: IngressBackend, path: str | None = None, kind: PathType | None = None
    ) -> Policy | None:
        """The policy of a route to a Service (`path` None: the Ingress's defaultBackend);
        None when nothing of ours asks anything of it (most routes) or it is no Service's."""
        if target.service is None:
            return None
        service = target.service.name
        backend = self._backends.get(service)
        if backend is None:
            backend = self._backend(service)
        route = self.route
        if backend is NOTHING.backend and route is NOTHING.route and self.rewrite_target is None:
            return None
        if self.rewrite_target is not None and path is not None:
            rewritten = rewrite.prefix_rewrite(
                path, exact=kind is PathType.EXACT, to=self.rewrite_target
            )
            route = route.model_copy(update={"rewrite": rewritten})
        if backend.affinity is not None and backend.affinity.path is None:
            affinity = backend.affinity.model_copy(update={"path": _cookie_path(path)})
            backend = backend.model_copy(update={"affinity": affinity})
        if backend is NOTHING.backend and route is NOTHING.route:
            return NOTHING
        return Policy(backend=backend, route=route)

    def _backend(self, name: str) -> BackendPolicy:
        """The backend part of the policies of routes to Service `name` (read once, kept)."""
        service = self.services.get((self.source.namespace, name))
        annotations = service.metadata.annotations if service is not None else {}
        found = reading.gather(annotations, "Service")[0] if annotations else {}
        if not found and not self.found:
            self._backends[name] = NOTHING.backend  # nothing to read (most Services)
            return NOTHING.backend
        merged = reading.merged(found, self.found)
        request, issues = reading.read(merged, reading.backend_request)
        self._report([issue for issue in issues if issue.owner == "Ingress"])
        policy = request.policy
        if request.ca_secret is not None:
            key = _written(merged, protocol.CA_SECRET.key)
            upstream = self._verified(policy.upstream, request.ca_secret, key)
            policy = policy.model_copy(update={"upstream": upstream})
        self._backends[name] = policy
        return policy

    def _report(self, issues: list[Issue]) -> None:
        if issues:
            for problem in problems(self.source, issues):
                self._add(problem)

    def _add(self, problem: Problem) -> None:
        """Once: an Ingress reaching several Services reads its backend keys once for each."""
        if problem not in self.problems:
            self.problems.append(problem)

    def finish(self) -> list[Problem]:
        """Every problem found while folding (the backend keys read alone if no path reached
        a Service)."""
        if not self._backends:
            reader = Reader(self.found)
            reading.backend_request(reader)
            self._report(reader.issues)
        return self.problems

    def _verified(self, upstream: Upstream, ref: tuple[str | None, str], key: str) -> Upstream:
        """`upstream` verifying pods against the CA of a Secret; unverifiable (503) if the
        Secret cannot be read, with a problem on `key`."""
        try:
            pem = _read_secret(self.secrets, self.source.namespace, ref, CA_KEY, ca_bundle)
        except ValueError as error:
            reason = f"{error}; requests answer 503 until it is fixed"
            self._add(Problem(source=self.source, field=field_of(key), reason=reason))
            return upstream.model_copy(update={"unverifiable": True})
        file = naming.certificate_file(pem.encode())
        self.bundles[file] = pem
        return upstream.model_copy(update={"ca_file": file})


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class IngressAnnotations:
    """What translation needs of an Ingress's annotations."""

    policies: RoutePolicies
    https: HTTPSRequest
    canary: Canary | None
    from_to_www: bool
    problems: list[Problem]


new_ingress_annotations = maker(IngressAnnotations)
"""Makes them, one per Ingress, as the class does in half the time (model/records.py)."""


def ingress_annotations(
    ingress: Ingress,
    source: ObjectRef,
    *,
    services: Mapping[NamespacedName, Service],
    secrets: Mapping[NamespacedName, Secret],
    config_maps: Mapping[NamespacedName, ConfigMap],
    bundles: dict[str, str],
    nginx: bool,
) -> IngressAnnotations:
    """Read an Ingress's annotations once: its route policies, canary settings and problems."""
    annotations = ingress.metadata.annotations
    if not annotations:  # nothing written (most Ingresses): what nothing asks for, unread
        policies = RoutePolicies(
            source=source,
            found={},
            route=NOTHING.route,
            rewrite_target=None,
            services=services,
            secrets=secrets,
            bundles=bundles,
        )
        return new_ingress_annotations(
            policies=policies, https=https.NOTHING, canary=None, from_to_www=False, problems=[]
        )
    found, issues = reading.gather(annotations, "Ingress", nginx_compat=nginx)
    # Backend keys are read with each Service's (`RoutePolicies._backend`).
    request, read = reading.read(found, reading.ingress_request)
    found_problems = problems(source, issues + read)
    route = request.route.policy
    if request.route.auth is not None:
        users, reasons = _users(request.route.auth, source.namespace, secrets)
        realm = request.route.auth.realm
        route = route.model_copy(update={"auth": BasicAuth(realm=realm, users=users)})
        key = _written(found, auth.AUTH_SECRET.key)
        found_problems += [
            Problem(source=source, field=field_of(key), reason=reason) for reason in reasons
        ]
    if request.route.custom_headers is not None:
        key = _written(found, headers.CUSTOM_HEADERS.key)
        route, reasons = _custom_headers(
            route, request.route.custom_headers, source.namespace, config_maps
        )
        found_problems += [
            Problem(source=source, field=field_of(key), reason=reason) for reason in reasons
        ]
    policies = RoutePolicies(
        source=source,
        found=found,
        route=route,
        rewrite_target=request.route.rewrite_target,
        services=services,
        secrets=secrets,
        bundles=bundles,
        regex_idiom=nginx and nginx_keys.regex_paths(ingress.metadata.annotations),
    )
    return new_ingress_annotations(
        policies=policies,
        https=request.https,
        canary=request.canary,
        from_to_www=request.from_to_www,
        problems=found_problems,
    )


def _cookie_path(path: str | None) -> str:
    """ingress-nginx's affinity cookie Path: the route's own path; `/` for the default
    backend and for paths a cookie attribute cannot carry (`%`, `;`, `,`)."""
    try:
        return affinity.cookie_path(path or "/")
    except ValueError:
        return "/"


def _written(found: Mapping[str, Found], key: str) -> str:
    """The key as the user wrote it (nginx's, in compat mode)."""
    hit = found.get(key)
    return hit.key if hit is not None else key


EVERY_KEY = ""
"""Read every key of a Secret as `key:value` lines (auth-map: a key per user)."""


def _read_secret(
    secrets: Mapping[NamespacedName, Secret],
    namespace: str,
    ref: tuple[str | None, str],
    key: str,
    parse: Callable[[bytes], T],
) -> T:
    """`parse` of a key of the Secret an annotation names (of the object's own namespace;
    EVERY_KEY: all its keys as `key:value` lines); ValueError `Secret <namespace>/<name>:
    <why>`."""
    other, name = ref
    try:
        if other is not None and other != namespace:
            raise ValueError("only Secrets of the Ingress's namespace")
        secret = secrets.get((namespace, name))
        if secret is None:
            raise ValueError("not found")
        if key == EVERY_KEY:
            keys = sorted({*secret.string_data, *secret.data})
            lines = (f"{each}:{secret_value(secret, each).decode('utf-8')}" for each in keys)
            return parse("\n".join(lines).encode("utf-8"))
        return parse(secret_value(secret, key))
    except ValueError as error:
        raise ValueError(f"Secret {other or namespace}/{name}: {error}") from None


def _users(
    request: auth.AuthRequest, namespace: str, secrets: Mapping[NamespacedName, Secret]
) -> tuple[tuple[User, ...], list[str]]:
    """The users of the auth Secret, and a reason per line or Secret that was refused."""
    if request.secret is None:
        return (), []
    try:
        key = EVERY_KEY if request.by_key else auth.SECRET_KEY
        content = _read_secret(secrets, namespace, request.secret, key, _text)
    except ValueError as error:
        return (), [f"{error}; {auth.CLOSED}"]
    where = f"Secret {namespace}/{request.secret[1]}"
    users, refused = auth.htpasswd(content)
    reasons = [f"{where}: {why}; that line is ignored" for why in refused]
    if not users:
        reasons.append(f"{where}: no usable user; {auth.CLOSED}")
    return users, reasons


def _custom_headers(
    route: RoutePolicy,
    request: headers.CustomHeaders,
    namespace: str,
    config_maps: Mapping[NamespacedName, ConfigMap],
) -> tuple[RoutePolicy, list[str]]:
    """The route with the ConfigMap's response headers set (unavailable, 503, while the
    ConfigMap is missing or not the Ingress's namespace's), and a reason per refusal."""
    closed = route.model_copy(update={"unavailable": True})
    if request.config_map is None:
        return closed, []
    other, name = request.config_map
    where = f"ConfigMap {other or namespace}/{name}"
    if other is not None and other != namespace:
        return closed, [f"{where}: only ConfigMaps of the Ingress's namespace; {CLOSED_503}"]
    found = config_maps.get((namespace, name))
    if found is None:
        return closed, [f"{where}: not found; {CLOSED_503}"]
    added: list[Header] = []
    reasons = []
    for header_name, value in sorted(found.data.items()):
        try:
            added.append(headers.header(header_name, value))
        except ValueError as error:
            reasons.append(f"{where}: key {header_name[:80]!r}: {error}; that header is not set")
    edits = route.response_headers
    edits = edits.model_copy(update={"set": (*edits.set, *added)})
    return route.model_copy(update={"response_headers": edits}), reasons


CLOSED_503 = "requests answer 503 until it is fixed"


def _text(content: bytes) -> str:
    return content.decode("utf-8")
