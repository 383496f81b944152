"""Timeout annotations: the backend timeouts an Ingress or a Service may change.

`connect`, `server`, `queue` and `tunnel` are backend settings in HAProxy.
`client`, `http-request` and `http-keep-alive` apply before the backend of a
request is known (HAProxy 2.6 cannot change them per request): they are
refused with a pointer to the global ConfigMap.
"""

from __future__ import annotations

from ingress_ctl.annotations.registry import Reader, Scope, refuse, register
from ingress_ctl.annotations.values import duration
from ingress_ctl.model.policies import Timeouts

CONNECT = register("timeout-connect", duration, Scope.BACKEND, default="ConfigMap timeout-connect")
SERVER = register("timeout-server", duration, Scope.BACKEND, default="ConfigMap timeout-server")
QUEUE = register("timeout-queue", duration, Scope.BACKEND, default="ConfigMap timeout-queue")
TUNNEL = register("timeout-tunnel", duration, Scope.BACKEND, default="ConfigMap timeout-tunnel")
for _name in ("timeout-client", "timeout-http-request", "timeout-http-keep-alive"):
    refuse(
        _name,
        "HAProxy applies this timeout before a request's backend is known, so it cannot "
        f"differ per Ingress: set {_name} in the global ConfigMap (--configmap)",
    )


def timeouts(reader: Reader) -> Timeouts:
    """The backend timeouts asked for (None: the global value)."""
    return Timeouts(
        connect=reader.get(CONNECT),
        server=reader.get(SERVER),
        queue=reader.get(QUEUE),
        tunnel=reader.get(TUNNEL),
    )
