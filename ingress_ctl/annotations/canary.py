"""Canary annotations: an Ingress that takes a share of another Ingress's traffic.

An Ingress with `canary: "true"` claims no route of its own: each of its
host and path pairs joins the route of the same host and path that another
(main) Ingress serves. A request goes to the canary's backend when
`canary-by-header` names a header equal to `canary-by-header-value` (or
matching `canary-by-header-pattern`, a regular expression of a safe dialect,
or `always` without either), else when `canary-by-cookie` names a cookie
equal to `always`; `never` in either keeps it on the main backend; then a
request carrying the affinity cookie of a canary server (the canary's
affinity, else the main route's) stays on the canary (`affinity-canary-
behavior: sticky`, the default; `legacy` gives the canary no affinity of the
main route's); else `canary-weight` of every `canary-weight-total` (100) remaining
requests go to the canary.
"""

from __future__ import annotations

import re
from enum import StrEnum

from ingress_ctl.annotations.registry import Reader, Scope, register
from ingress_ctl.annotations.values import (
    boolean,
    choice,
    cookie_name,
    integer,
    safe_regex,
    text,
)
from ingress_ctl.model.policies import Canary

_HEADER = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def header(text: str) -> str:
    """A header name of letters, digits, `-` and `_` (it is written inside `req.hdr()`)."""
    if not _HEADER.fullmatch(text.strip()):
        raise ValueError(f"{text[:80]!r} is not a header name of letters, digits, - and _")
    return text.strip().lower()


CANARY = register("canary", boolean, Scope.INGRESS, default="false")
MAX_TOTAL = 10_000
WEIGHT = register(
    "canary-weight",
    integer(0, MAX_TOTAL),
    Scope.INGRESS,
    default="0",
)
WEIGHT_TOTAL = register("canary-weight-total", integer(1, MAX_TOTAL), Scope.INGRESS, default="100")
BY_HEADER = register("canary-by-header", header, Scope.INGRESS, default="none")
BY_HEADER_VALUE = register(
    "canary-by-header-value",
    text,
    Scope.INGRESS,
    default="always",
)
BY_HEADER_PATTERN = register("canary-by-header-pattern", safe_regex, Scope.INGRESS, default="none")
BY_COOKIE = register("canary-by-cookie", cookie_name, Scope.INGRESS, default="none")


class AffinityBehavior(StrEnum):
    STICKY = "sticky"
    LEGACY = "legacy"


AFFINITY_BEHAVIOR = register(
    "affinity-canary-behavior", choice(AffinityBehavior), Scope.INGRESS, default="sticky"
)
SETTINGS = (
    WEIGHT,
    WEIGHT_TOTAL,
    BY_HEADER,
    BY_HEADER_VALUE,
    BY_HEADER_PATTERN,
    BY_COOKIE,
    AFFINITY_BEHAVIOR,
)


def canary(reader: Reader) -> Canary | None:
    """The canary settings; None unless `canary: "true"`."""
    if not reader.get(CANARY):
        for key in SETTINGS:
            if reader.given(key):
                reader.complain(key, "ignored without canary: true", "warning")
        return None
    by_header = reader.get(BY_HEADER)
    for setting in (BY_HEADER_VALUE, BY_HEADER_PATTERN):
        if by_header is None and reader.given(setting):
            reader.complain(setting, "ignored without canary-by-header", "warning")
    value = reader.get(BY_HEADER_VALUE) if by_header is not None else None
    pattern = reader.get(BY_HEADER_PATTERN) if by_header is not None else None
    if value is not None and reader.given(BY_HEADER_PATTERN):
        reader.complain(BY_HEADER_PATTERN, "ignored: canary-by-header-value is set", "warning")
        pattern = None
    total = reader.value(WEIGHT_TOTAL, 100)
    weight = reader.value(WEIGHT, 0)
    if weight > total:
        reader.complain(
            WEIGHT, f"{weight} is more than the total {total}: every request", "warning"
        )
        weight = total
    return Canary(
        weight=weight,
        weight_total=total,
        header=by_header,
        header_value=value,
        header_pattern=pattern,
        cookie=reader.get(BY_COOKIE),
        sticky=reader.value(AFFINITY_BEHAVIOR, AffinityBehavior.STICKY) is AffinityBehavior.STICKY,
    )
