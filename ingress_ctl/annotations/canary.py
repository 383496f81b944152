"""Canary annotations: an Ingress that takes a share of another Ingress's traffic.

An Ingress with `canary: "true"` claims no route of its own: each of its
host and path pairs joins the route of the same host and path that another
(main) Ingress serves. A request goes to the canary's backend when
`canary-by-header` names a header equal to `canary-by-header-value` (or
`always` without a value), else when `canary-by-cookie` names a cookie
equal to `always`; `never` in either keeps it on the main backend; then a
request carrying the affinity cookie of a canary server (the canary's
affinity, else the main route's) stays on the canary (`affinity-canary-
behavior: sticky`, the default; `legacy` gives the canary no affinity of the
main route's); else `canary-weight` percent of the remaining requests go to
the canary.
"""

from __future__ import annotations

import re
from enum import StrEnum

from ingress_ctl.annotations.registry import Reader, Scope, register
from ingress_ctl.annotations.values import boolean, choice, cookie_name, integer, text
from ingress_ctl.policies import Canary

_HEADER = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def header(text: str) -> str:
    """A header name of letters, digits, `-` and `_` (it is written inside `req.hdr()`)."""
    if not _HEADER.fullmatch(text.strip()):
        raise ValueError(f"{text[:80]!r} is not a header name of letters, digits, - and _")
    return text.strip().lower()


CANARY = register("canary", boolean, Scope.INGRESS, default="false")
WEIGHT = register(
    "canary-weight",
    integer(0, 100),
    Scope.INGRESS,
    default="0",
)
BY_HEADER = register("canary-by-header", header, Scope.INGRESS, default="none")
BY_HEADER_VALUE = register(
    "canary-by-header-value",
    text,
    Scope.INGRESS,
    default="always",
)
BY_COOKIE = register("canary-by-cookie", cookie_name, Scope.INGRESS, default="none")


class AffinityBehavior(StrEnum):
    STICKY = "sticky"
    LEGACY = "legacy"


AFFINITY_BEHAVIOR = register(
    "affinity-canary-behavior", choice(AffinityBehavior), Scope.INGRESS, default="sticky"
)
SETTINGS = (WEIGHT, BY_HEADER, BY_HEADER_VALUE, BY_COOKIE, AFFINITY_BEHAVIOR)


def canary(reader: Reader) -> Canary | None:
    """The canary settings; None unless `canary: "true"`."""
    if not reader.get(CANARY):
        for key in SETTINGS:
            if reader.given(key):
                reader.complain(key, "ignored without canary: true", "warning")
        return None
    by_header = reader.get(BY_HEADER)
    if by_header is None and reader.given(BY_HEADER_VALUE):
        reader.complain(BY_HEADER_VALUE, "ignored without canary-by-header", "warning")
    return Canary(
        weight=reader.value(WEIGHT, 0),
        header=by_header,
        header_value=reader.get(BY_HEADER_VALUE) if by_header is not None else None,
        cookie=reader.get(BY_COOKIE),
        sticky=reader.value(AFFINITY_BEHAVIOR, AffinityBehavior.STICKY) is AffinityBehavior.STICKY,
    )
