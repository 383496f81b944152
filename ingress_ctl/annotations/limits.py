"""Limit annotations: request rate and connections per client address, and body size.

Rate limits count in a stick-table of the routes' backend, keyed by the
client address (the one a trusted proxy forwarded, as the access lists read
it: see `access`): more than `rate-limit-requests` in a sliding
`rate-limit-period`, or more than `rate-limit-connections` at once, answer
`rate-limit-status-code`. A request whose Content-Length exceeds
`proxy-body-size` answers 413 (HAProxy 2.6 cannot count a chunked body
while streaming it: chunked requests are not limited).
"""

from __future__ import annotations

from ingress_ctl.annotations.registry import Reader, Scope, register
from ingress_ctl.annotations.values import duration, integer, size
from ingress_ctl.model.policies import RateLimit

DENY_STATUSES = (400, 403, 404, 405, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504)
"""The error statuses HAProxy 2.6 can answer from `http-request deny` without an errorfile."""
MAX_PERIOD = 86_400_000
DEFAULTS = RateLimit()


def deny_status(text: str) -> int:
    """An error status HAProxy can answer by itself."""
    value = integer(100, 599)(text)
    if value not in DENY_STATUSES:
        raise ValueError(f"{value} is not one of {', '.join(map(str, DENY_STATUSES))}")
    return value


def period(text: str) -> int:
    """A rate period: a duration from 1s to 1d."""
    value = duration(text)
    if not 1_000 <= value <= MAX_PERIOD:
        raise ValueError(f"{text!r} is not between 1s and 1d")
    return value


REQUESTS = register(
    "rate-limit-requests",
    integer(1, 1_000_000),
    Scope.ROUTE,
    default="no limit",
)
PERIOD = register("rate-limit-period", period, Scope.ROUTE, default="1s")
CONNECTIONS = register(
    "rate-limit-connections",
    integer(1, 100_000),
    Scope.ROUTE,
    default="no limit",
)
STATUS = register(
    "rate-limit-status-code",
    deny_status,
    Scope.ROUTE,
    default="429",
)
BODY_SIZE = register(
    "proxy-body-size",
    size,
    Scope.ROUTE,
    default="no limit",
)


def rate_limit(reader: Reader) -> RateLimit | None:
    """The limits asked for; None without a number of requests or connections."""
    requests, connections = reader.get(REQUESTS), reader.get(CONNECTIONS)
    if requests is None and connections is None:
        for key in (PERIOD, STATUS):
            if reader.given(key):
                reader.complain(
                    key, "ignored without rate-limit-requests or -connections", "warning"
                )
        return None
    return RateLimit(
        requests=requests,
        period=reader.value(PERIOD, DEFAULTS.period),
        connections=connections,
        status=reader.value(STATUS, DEFAULTS.status),
    )


def body_size(reader: Reader) -> int | None:
    return reader.get(BODY_SIZE)
