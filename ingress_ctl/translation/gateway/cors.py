"""The HTTPRoute CORS filter, as the CORS policy of the backend its rule reaches.

The Gateway API's semantics on top of the Ingress policy (model/policies.py Cors): the
`*` of an origin's host matches any number of labels to its left (`scheme://*` any
host), a `*` of origins, methods or headers echoes what the request asked (always
allowed, and required with credentials), credentials are off unless asked for, and a
preflight answer may be cached 5 seconds unless maxAge says otherwise; a preflight
from an origin not allowed is answered 403 (never by the pods). Every value is
checked here: origins `http(s)://host[:port]` with DNS labels, methods the spec's enum,
header names RFC 7230 tokens without `%`; a value refused raises `Unsupported`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ingress_ctl.annotations.values import header_name
from ingress_ctl.model.gateway_objects import CORSFilter
from ingress_ctl.model.policies import Cors

MAX_AGE = 5
"""Seconds, when maxAge is not given (the spec's default)."""
MAX_VALUES = 64
METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
)
_ORIGIN = re.compile(
    r"^(https?)://(\*|(?:\*\.)?(?:[a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63})(?::([0-9]{1,5}))?$"
)


class CORSValueError(ValueError):
    """A value of the CORS filter this controller refuses."""


def gateway_cors(found: CORSFilter) -> Cors:
    """The CORS policy of a filter; CORSValueError names the first value refused."""
    credentials = bool(found.allow_credentials)
    expose = _values(found.expose_headers, _header)
    if credentials and "*" in expose:
        raise CORSValueError("exposeHeaders: '*' cannot be sent with allowCredentials")
    return Cors(
        origins=_values(found.allow_origins, _origin),
        methods=_values(found.allow_methods, _method),
        headers=_values(found.allow_headers, _header),
        expose=expose,
        credentials=credentials,
        max_age=MAX_AGE if found.max_age is None else found.max_age,
        deep_wildcards=True,
        echo_wildcards=True,
        refuse_preflights=True,
    )


def _values(raw: tuple[str, ...], check: Callable[[str], str]) -> tuple[str, ...]:
    if len(raw) > MAX_VALUES:
        raise CORSValueError(f"more than {MAX_VALUES} values")
    values = tuple(dict.fromkeys(check(value) for value in raw))
    if "*" in values and len(values) > 1:
        raise CORSValueError("'*' cannot come with other values")
    return values


def _origin(raw: str) -> str:
    if raw == "*":
        return raw
    found = _ORIGIN.fullmatch(raw.lower())
    if found is None:
        raise CORSValueError(f"{raw[:80]!r} is not an origin like https://*.example.com[:port]")
    scheme, host, port = found.groups()
    if port is None:
        return f"{scheme}://{host}"
    if not 0 < int(port) < 65536:
        raise CORSValueError(f"{raw[:80]!r}: port {port} is out of range")
    return f"{scheme}://{host}:{int(port)}"


def _method(raw: str) -> str:
    if raw != "*" and raw not in METHODS:
        raise CORSValueError(f"{raw[:80]!r} is not an HTTP method")
    return raw


def _header(raw: str) -> str:
    if raw == "*":
        return raw
    try:
        return header_name(raw)
    except ValueError as error:
        raise CORSValueError(str(error)) from None
