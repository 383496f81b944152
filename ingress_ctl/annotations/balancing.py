"""Load-balancing annotations: the algorithm, and how many requests a server takes at once.

`source` and `uri` hash onto the servers with `hash-type consistent`, so that
a server coming or going moves only its own share of clients. Server slots
are re-addressed at runtime with every algorithm (`set server addr`).
"""

from __future__ import annotations

from ingress_ctl.annotations.registry import Reader, Scope, register
from ingress_ctl.annotations.values import choice, integer
from ingress_ctl.model.policies import Balance

BALANCE = register(
    "load-balance",
    choice(Balance),
    Scope.BACKEND,
    default="roundrobin",
)
POD_MAXCONN = register(
    "pod-maxconn",
    integer(1, 1_000_000),
    Scope.BACKEND,
    default="no limit",
)


def balance(reader: Reader) -> Balance:
    return reader.value(BALANCE, Balance.ROUNDROBIN)


def maxconn(reader: Reader) -> int | None:
    return reader.get(POD_MAXCONN)
