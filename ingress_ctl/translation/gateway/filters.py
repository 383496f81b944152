"""HTTPRoute and GRPCRoute filters and timeouts, as the policy of the backends they reach.

Header modifiers, URL rewrites and timeouts become the route part of a backend's
policy (a backend of its own per distinct policy, as for Ingress annotations); a
RequestRedirect answers by itself. Every value is checked here (header names are
tokens, values printable text without quotes, backslash or `%`, paths rule paths,
hostnames DNS names); a filter this controller cannot do, or a value it refuses,
raises `Unsupported`, which the route's status reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ingress_ctl.annotations.rewrite import prefix_rewrite
from ingress_ctl.annotations.values import header_name, text
from ingress_ctl.model.gateway_objects import (
    HeaderFilter,
    HTTPRouteRetry,
    HTTPRouteTimeouts,
    PathModifier,
    RequestRedirectFilter,
    RouteFilter,
    URLRewriteFilter,
)
from ingress_ctl.model.matching import parse_host, parse_path
from ingress_ctl.model.policies import (
    RETRY_CODES,
    BackendPolicy,
    GatewayRedirect,
    Header,
    HeaderEdits,
    PathRewrite,
    Policy,
    Retry,
    RoutePolicy,
    Timeouts,
)
from ingress_ctl.translation.gateway.cors import CORSValueError, gateway_cors

_DURATION = re.compile(r"^(?:([0-9]{1,5})(h|ms|m|s))+$")
_PART = re.compile(r"([0-9]{1,5})(h|ms|m|s)")
_MS = {"h": 3_600_000, "m": 60_000, "s": 1_000, "ms": 1}
MAX_ATTEMPTS = 100


class Unsupported(ValueError):
    """A filter or value this controller does not serve (the route's UnsupportedValue)."""


def rule_policy(
    filters: Iterable[RouteFilter],
    *,
    prefix: str | None,
    timeouts: HTTPRouteTimeouts | None = None,
    retry: HTTPRouteRetry | None = None,
    where: str,
) -> Policy:
    """The policy of a rule's filters, timeouts and retries, for a match whose path prefix
    is `prefix` (None: not a PathPrefix match)."""
    route = RoutePolicy()
    for i, found in enumerate(filters):
        route = _apply(route, found, prefix=prefix, where=f"{where}.filters[{i}]")
    backend = _timeouts(timeouts, where).model_copy(update={"retry": _retry(retry, where)})
    return Policy(backend=backend, route=route)


def merged(policy: Policy, filters: Iterable[RouteFilter], *, where: str) -> Policy:
    """A rule's policy with the filters of one of its backendRefs added."""
    route = policy.route
    for i, found in enumerate(filters):
        route = _apply(route, found, prefix=None, where=f"{where}.filters[{i}]")
    return policy.model_copy(update={"route": route})


def _apply(
    route: RoutePolicy, found: RouteFilter, *, prefix: str | None, where: str
) -> RoutePolicy:
    if found.type == "RequestHeaderModifier" and found.request_header_modifier:
        edits = _edits(route.request_headers, found.request_header_modifier, where)
        return route.model_copy(update={"request_headers": edits})
    if found.type == "ResponseHeaderModifier" and found.response_header_modifier:
        edits = _edits(route.response_headers, found.response_header_modifier, where)
        return route.model_copy(update={"response_headers": edits})
    if found.type == "RequestRedirect" and found.request_redirect:
        redirect = _redirect(found.request_redirect, prefix=prefix, where=where)
        return route.model_copy(update={"gateway_redirect": redirect})
    if found.type == "URLRewrite" and found.url_rewrite:
        return _rewrite(route, found.url_rewrite, prefix=prefix, where=where)
    if found.type == "CORS" and found.cors:
        try:
            return route.model_copy(update={"cors": gateway_cors(found.cors)})
        except CORSValueError as error:
            raise Unsupported(f"{where}: {error}") from None
    raise Unsupported(f"{where}: filter {found.type} is not supported")


def _edits(edits: HeaderEdits, found: HeaderFilter, where: str) -> HeaderEdits:
    try:
        return HeaderEdits(
            set=edits.set
            + tuple(Header(name=header_name(h.name), value=text(h.value)) for h in found.set),
            add=edits.add
            + tuple(Header(name=header_name(h.name), value=text(h.value)) for h in found.add),
            delete=edits.delete + tuple(header_name(name) for name in found.remove),
        )
    except ValueError as error:
        raise Unsupported(f"{where}: {error}") from None


def _redirect(found: RequestRedirectFilter, *, prefix: str | None, where: str) -> GatewayRedirect:
    path, replaced = _path(found.path, prefix=prefix, where=where)
    if found.scheme not in (None, "http", "https"):
        raise Unsupported(f"{where}: scheme {found.scheme!r} is not http or https")
    if found.status_code not in (301, 302, 303, 307, 308):
        raise Unsupported(f"{where}: status code {found.status_code} is not a redirect")
    return GatewayRedirect(
        scheme=found.scheme,
        hostname=_host(found.hostname, where),
        port=found.port,
        path=path,
        prefix=replaced,
        code=found.status_code,
    )


def _rewrite(
    route: RoutePolicy, found: URLRewriteFilter, *, prefix: str | None, where: str
) -> RoutePolicy:
    update: dict[str, object] = {}
    if found.hostname:
        update["upstream_vhost"] = _host(found.hostname, where)
    path, replaced = _path(found.path, prefix=prefix, where=where)
    if path is not None:
        update["rewrite"] = PathRewrite(regex="^.*$", replacement=path)
    elif replaced is not None:
        update["rewrite"] = prefix_rewrite(replaced[0], exact=False, to=replaced[1])
    return route.model_copy(update=update)


def _path(
    found: PathModifier | None, *, prefix: str | None, where: str
) -> tuple[str | None, tuple[str, str] | None]:
    """(a full replacement path, (matched prefix, replacement)) of a path modifier."""
    if found is None:
        return None, None
    if found.type == "ReplaceFullPath" and found.replace_full_path is not None:
        return _checked_path(found.replace_full_path, where), None
    if found.type == "ReplacePrefixMatch" and found.replace_prefix_match is not None:
        if prefix is None:
            raise Unsupported(f"{where}: ReplacePrefixMatch needs a PathPrefix match")
        return None, (prefix, _checked_path(found.replace_prefix_match, where))
    raise Unsupported(f"{where}: path modifier {found.type} is not supported")


def _checked_path(raw: str, where: str) -> str:
    try:
        path = parse_path(raw)
    except ValueError as error:
        raise Unsupported(f"{where}: {error}") from None
    if "%" in path:
        raise Unsupported(f"{where}: {path!r}: percent-escapes are not supported here")
    return path


def _host(raw: str | None, where: str) -> str | None:
    if raw is None:
        return None
    try:
        host = parse_host(raw)
    except ValueError as error:
        raise Unsupported(f"{where}: {error}") from None
    if host.startswith("*"):
        raise Unsupported(f"{where}: {raw!r} is a wildcard")
    return host


def _timeouts(found: HTTPRouteTimeouts | None, where: str) -> BackendPolicy:
    if found is None:
        return BackendPolicy()
    values = [
        _duration(value, f"{where}.timeouts")
        for value in (found.request, found.backend_request)
        if value is not None
    ]
    limits = [value for value in values if value > 0]
    if not limits:
        return BackendPolicy()
    return BackendPolicy(timeouts=Timeouts(server=min(limits)))


def _retry(found: HTTPRouteRetry | None, where: str) -> Retry | None:
    """HAProxy's retries: at once (a backoff other than 0 cannot be honoured), on a failed
    connection and the statuses `retry-on` takes."""
    if found is None:
        return None
    if found.backoff is not None and _duration(found.backoff, f"{where}.retry.backoff"):
        raise Unsupported(f"{where}.retry.backoff: HAProxy retries at once, without a backoff")
    refused = [code for code in found.codes if code not in RETRY_CODES]
    if refused:
        raise Unsupported(
            f"{where}.retry.codes: {refused[0]} is not one HAProxy retries on "
            f"({', '.join(map(str, RETRY_CODES))})"
        )
    if found.attempts is not None and not 0 < found.attempts <= MAX_ATTEMPTS:
        raise Unsupported(f"{where}.retry.attempts: not between 1 and {MAX_ATTEMPTS}")
    return Retry(codes=tuple(sorted(set(found.codes))), attempts=found.attempts)


def _duration(text_value: str, where: str) -> int:
    """A Gateway API duration (`1h`, `500ms`, `1m30s`) in milliseconds; 0 means none."""
    if not _DURATION.fullmatch(text_value):
        raise Unsupported(f"{where}: {text_value!r} is not a duration")
    return sum(int(number) * _MS[unit] for number, unit in _PART.findall(text_value))
