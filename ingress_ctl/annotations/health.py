"""Health check annotations: HAProxy asks each server for a path and expects a status.

Any of the three keys turns checks on (the others keep their defaults).
Servers that fail are taken out of rotation until they pass again.
"""

from __future__ import annotations

from ingress_ctl.annotations import values
from ingress_ctl.annotations.registry import Reader, Scope, register
from ingress_ctl.annotations.values import duration, integer
from ingress_ctl.model.policies import HealthCheck

DEFAULTS = HealthCheck()

PATH = register(
    "health-check-path",
    values.path,
    Scope.BACKEND,
    default="/ when checks are on",
)
INTERVAL = register(
    "health-check-interval",
    duration,
    Scope.BACKEND,
    default="2s when checks are on",
)
STATUS = register(
    "health-check-status",
    integer(100, 599),
    Scope.BACKEND,
    default="any 2xx or 3xx",
)


def health(reader: Reader) -> HealthCheck | None:
    """The checks asked for; None when no key is written (or none parses)."""
    path, interval, status = reader.get(PATH), reader.get(INTERVAL), reader.get(STATUS)
    if path is None and interval is None and status is None:
        return None
    return HealthCheck(
        path=path or DEFAULTS.path, interval=interval or DEFAULTS.interval, status=status
    )
