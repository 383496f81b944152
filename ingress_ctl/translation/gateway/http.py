"""HTTPRoute and GRPCRoute rules: their matches, and the backend each match reaches.

A rule is read once per route (its filters into a policy, its backendRefs into
a backend or weighted split; a rule that redirects answers by itself, one with
no usable backend answers 500); each attachment then gives its matches the
attachment's hostnames (`matches_for`). GRPCRoute methods are paths:
`/service/method` (Exact) or `/service/` (Prefix). Precedence follows the
spec: hostname, then Exact before the longest prefix, method, header count,
query count, the route's age and name, the rule's and match's order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ingress_ctl.model.gateway_objects import (
    BackendRef,
    GRPCRoute,
    GRPCRouteMatch,
    GRPCRouteRule,
    HTTPRoute,
    HTTPRouteMatch,
    HTTPRouteRule,
    ValueMatch,
)
from ingress_ctl.model.gateways import HTTPMatch
from ingress_ctl.model.gateways import ValueMatch as Condition
from ingress_ctl.model.matching import parse_path, prefix_base
from ingress_ctl.model.policies import Policy
from ingress_ctl.model.routing import ObjectRef, PathType
from ingress_ctl.translation.gateway.filters import Unsupported, merged, rule_policy
from ingress_ctl.translation.gateway.references import Backends, Unresolved, h2c

_VALUE = re.compile(r"^[\x20-\x7e]{0,4096}$")
_TOKEN = re.compile(r"^[!#$&'*+\-.^_`|~0-9A-Za-z]{1,256}$")
_GRPC_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,1023}$")


@dataclass(frozen=True)
class RuleMatch:
    """A match of a rule, before hostnames: what HTTPMatch holds, and its order in the route."""

    path: str
    path_type: PathType
    method: str | None
    headers: tuple[Condition, ...]
    query: tuple[Condition, ...]
    backend: str
    rule: str
    rule_name: str | None
    order: tuple[int, int]


@dataclass
class RouteRules:
    """What a route's rules serve, and what its status must say about them."""

    matches: list[RuleMatch] = field(default_factory=list)
    unresolved: Unresolved | None = None
    unsupported: list[str] = field(default_factory=list)


AnyRule = TypeVar("AnyRule", HTTPRouteRule, GRPCRouteRule)

Read = tuple[str, PathType, str | None, tuple[Condition, ...], tuple[Condition, ...], Policy]
"""What a rule's match asks: path, path type, method, headers, query, and the rule's policy."""


def http_rules(route: HTTPRoute, source: ObjectRef, backends: Backends) -> RouteRules:
    def read(rule: HTTPRouteRule, match: HTTPRouteMatch, at: str, where: str) -> Read:
        path, path_type, method, headers, query = _http_match(match, at)
        prefix = path if path_type is PathType.PREFIX else None
        policy = rule_policy(
            rule.filters, prefix=prefix, timeouts=rule.timeouts, retry=rule.retry, where=where
        )
        return path, path_type, method, headers, query, policy

    return _rules(route.spec.rules, source, backends, read)


def grpc_rules(route: GRPCRoute, source: ObjectRef, backends: Backends) -> RouteRules:
    def read(rule: GRPCRouteRule, match: GRPCRouteMatch, at: str, where: str) -> Read:
        path, path_type = _grpc_path(match, at)
        headers = _conditions(match.headers, at, header=True)
        policy = h2c(rule_policy(rule.filters, prefix=None, where=where))
        return path, path_type, None, headers, (), policy

    return _rules(route.spec.rules, source, backends, read)


def _rules(
    rules: Sequence[AnyRule],
    source: ObjectRef,
    backends: Backends,
    read: Callable[[AnyRule, Any, str, str], Read],
) -> RouteRules:
    """Every match of every rule, read by `read`, with the backend it reaches."""
    found = RouteRules()
    for i, rule in enumerate(rules):
        where = f"spec.rules[{i}]"
        for j, match in enumerate(rule.matches):
            at = f"{where}.matches[{j}]"
            try:
                path, path_type, method, headers, query, policy = read(rule, match, at, where)
            except Unsupported as error:
                found.unsupported.append(str(error))
                continue
            backend = _target(found, backends, source, rule.backend_refs, policy, where)
            if backend is not None:
                found.matches.append(
                    RuleMatch(
                        path, path_type, method, headers, query, backend, at, rule.name, (i, j)
                    )
                )
    return found


def _target(
    found: RouteRules,
    backends: Backends,
    source: ObjectRef,
    refs: tuple[BackendRef, ...],
    policy: Policy,
    where: str,
) -> str | None:
    """The backend of a rule's match: itself when it redirects, else its backendRefs'."""
    if policy.route.gateway_redirect is not None:
        return backends.answering(policy)
    shares: list[tuple[str, int]] = []
    for k, ref in enumerate(refs):
        at = f"{where}.backendRefs[{k}]"
        try:
            with_filters = merged(policy, ref.filters, where=at)
        except Unsupported as error:
            found.unsupported.append(str(error))
            return None
        resolved = backends.resolve(source, ref, at, policy=with_filters)
        if isinstance(resolved, Unresolved):
            found.unresolved = found.unresolved or resolved
            shares.append((backends.error(), ref.weight))
        else:
            shares.append((resolved, ref.weight))
    if not refs:
        return backends.error()
    return backends.choose(shares)


def _http_match(
    match: HTTPRouteMatch, where: str
) -> tuple[str, PathType, str | None, tuple[Condition, ...], tuple[Condition, ...]]:
    path_match = match.path
    kind = path_match.type if path_match else "PathPrefix"
    if kind not in ("Exact", "PathPrefix"):
        raise Unsupported(f"{where}.path: type {kind} is not supported")
    try:
        path = parse_path(path_match.value if path_match else "/")
    except ValueError as error:
        raise Unsupported(f"{where}.path: {error}") from None
    path_type = PathType.EXACT if kind == "Exact" else PathType.PREFIX
    if path_type is PathType.PREFIX:
        path = prefix_base(path) or "/"
    method = match.method
    if method is not None and not _TOKEN.fullmatch(method):
        raise Unsupported(f"{where}.method: {method!r} is not a method")
    headers = _conditions(match.headers, f"{where}.headers", header=True)
    query = _conditions(match.query_params, f"{where}.queryParams", header=False)
    return path, path_type, method, headers, query


def _conditions(
    found: tuple[ValueMatch, ...], where: str, *, header: bool
) -> tuple[Condition, ...]:
    kept: dict[str, Condition] = {}
    for i, item in enumerate(found):
        if item.type != "Exact":
            raise Unsupported(f"{where}[{i}]: type {item.type} is not supported")
        if not _TOKEN.fullmatch(item.name) or not _VALUE.fullmatch(item.value):
            raise Unsupported(f"{where}[{i}]: name or value holds characters not allowed")
        name = item.name.lower() if header else item.name
        kept.setdefault(name, Condition(name=name, value=item.value))  # the first one counts
    return tuple(kept.values())


def _grpc_path(match: GRPCRouteMatch, where: str) -> tuple[str, PathType]:
    method = match.method
    if method is None or (method.service is None and method.method is None):
        return "/", PathType.PREFIX
    if method.type != "Exact":
        raise Unsupported(f"{where}.method: type {method.type} is not supported")
    for part in (method.service, method.method):
        if part is not None and not _GRPC_NAME.fullmatch(part):
            raise Unsupported(f"{where}.method: {part!r} is not a gRPC name")
    if method.service is None:
        raise Unsupported(f"{where}.method: a method without a service is not supported")
    if method.method is None:
        return f"/{method.service}", PathType.PREFIX
    return f"/{method.service}/{method.method}", PathType.EXACT


def matches_for(rules: RouteRules, source: ObjectRef, hosts: tuple[str, ...]) -> list[HTTPMatch]:
    """A route's matches on one attachment: one per hostname and rule match."""
    return [
        HTTPMatch(
            host=host,
            path=found.path,
            path_type=found.path_type,
            method=found.method,
            headers=found.headers,
            query=found.query,
            backend=found.backend,
            source=source,
            rule=found.rule,
            rule_name=found.rule_name,
        )
        for host in hosts
        for found in rules.matches
    ]


def precedence(
    match: HTTPMatch, age: tuple[object, ...], order: tuple[int, int]
) -> tuple[object, ...]:
    """The sort key of a match: smaller wins (the spec's order)."""
    exact_host = not match.host.startswith("*.") and match.host != ""
    return (
        -(len(match.host) if exact_host else 0),
        -len(match.host),
        match.path_type is not PathType.EXACT,
        -len(match.path),
        match.method is None,
        -len(match.headers),
        -len(match.query),
        age,
        order,
    )
