"""CORS annotations: cross-origin requests answered at the edge.

With `cors-enable: "true"`, HAProxy answers preflight requests (OPTIONS with
Access-Control-Request-Method) itself with 204 and the allowed methods,
headers and max-age, and adds Access-Control-Allow-Origin (and -Credentials,
-Expose-Headers) to every answer, HAProxy's own included (a 401 of basic
auth). Origins are `*` or `scheme://host[:port]` values whose host may start
with `*.` (one label), as ingress-nginx reads them. Under `*` the header is a
literal `*` on every answer and credentials are never allowed; an origin of
an explicit list is echoed back (with credentials, when allowed) only when
the request carries exactly one Origin header that matches.

CORS fails closed: entries that do not parse are dropped (a problem each),
and a value with no valid entry allows no origin at all (an empty nginx
value is ingress-nginx's `*`). The other defaults are ingress-nginx's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingress_ctl.annotations.registry import Reader, Scope, register
from ingress_ctl.annotations.values import (
    MAX_ITEMS,
    boolean,
    header_name,
    integer,
    listing,
    origin,
)
from ingress_ctl.model.policies import Cors

DEFAULTS = Cors()
_METHOD = re.compile(r"^[A-Z]{1,16}$")


def method(text: str) -> str:
    """An HTTP method name (letters, upper-cased)."""
    upper = text.strip().upper()
    if not _METHOD.fullmatch(upper):
        raise ValueError(f"{text[:80]!r} is not an HTTP method")
    return upper


@dataclass(frozen=True)
class Origins:
    """The entries of cors-allow-origin that parse, and why each other entry was dropped."""

    allowed: tuple[str, ...]
    dropped: tuple[str, ...] = ()


ANY = Origins(("*",))


def origins(text: str) -> Origins:
    """Comma-separated origins; `*` anywhere allows any origin (as in ingress-nginx); entries
    that do not parse are dropped; ValueError when none does."""
    entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    if not entries:
        raise ValueError("is empty")
    if len(entries) > MAX_ITEMS:
        raise ValueError(f"has more than {MAX_ITEMS} origins")
    allowed: list[str] = []
    dropped: list[str] = []
    for entry in entries:
        try:
            allowed.append(origin(entry))
        except ValueError as error:
            dropped.append(str(error))
    if "*" in allowed:
        return ANY
    if not allowed:
        raise ValueError("; ".join(dropped[:3]))
    return Origins(tuple(dict.fromkeys(allowed)), tuple(dropped))


def allowed_header(text: str) -> str:
    """A header name, or `*`."""
    return "*" if text.strip() == "*" else header_name(text)


ENABLE = register("cors-enable", boolean, Scope.ROUTE, default="false")
ALLOW_ORIGIN = register(
    "cors-allow-origin",
    origins,
    Scope.ROUTE,
    default="*",
    invalid="no origin is allowed until it is fixed",
)
ALLOW_METHODS = register(
    "cors-allow-methods",
    listing(method),
    Scope.ROUTE,
    default=", ".join(DEFAULTS.methods),
)
ALLOW_HEADERS = register(
    "cors-allow-headers",
    listing(allowed_header),
    Scope.ROUTE,
    default=", ".join(DEFAULTS.headers),
)
EXPOSE_HEADERS = register(
    "cors-expose-headers",
    listing(header_name),
    Scope.ROUTE,
    default="none",
)
ALLOW_CREDENTIALS = register("cors-allow-credentials", boolean, Scope.ROUTE, default="true")
MAX_AGE = register(
    "cors-max-age",
    integer(0, 2**31 - 1),
    Scope.ROUTE,
    default=str(DEFAULTS.max_age),
)
SETTINGS = (ALLOW_ORIGIN, ALLOW_METHODS, ALLOW_HEADERS, EXPOSE_HEADERS, ALLOW_CREDENTIALS, MAX_AGE)


def cors(reader: Reader) -> Cors | None:
    """The CORS policy asked for; None unless `cors-enable: "true"`."""
    if not reader.get(ENABLE):
        for key in SETTINGS:
            if reader.given(key):
                reader.complain(key, "ignored without cors-enable: true", "warning")
        return None
    return Cors(
        origins=_origins(reader),
        methods=reader.value(ALLOW_METHODS, DEFAULTS.methods),
        headers=reader.value(ALLOW_HEADERS, DEFAULTS.headers),
        expose=reader.value(EXPOSE_HEADERS, DEFAULTS.expose),
        credentials=reader.value(ALLOW_CREDENTIALS, DEFAULTS.credentials),
        max_age=reader.value(MAX_AGE, DEFAULTS.max_age),
    )


def _origins(reader: Reader) -> tuple[str, ...]:
    """The origins allowed: `*` when unset, none when the value has no valid entry."""
    found = reader.get(ALLOW_ORIGIN)
    if found is None:
        return () if reader.given(ALLOW_ORIGIN) else ANY.allowed
    for reason in found.dropped:
        reader.complain(ALLOW_ORIGIN, f"{reason}; that entry is ignored")
    if found.allowed == ANY.allowed and reader.value(ALLOW_CREDENTIALS, False):
        reason = (
            "credentials are never allowed for the origin *: browsers refuse them; list the "
            "origins that may send credentials"
        )
        reader.complain(ALLOW_CREDENTIALS, reason, "warning")
    return found.allowed
