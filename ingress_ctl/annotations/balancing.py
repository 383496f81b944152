"""Load-balancing annotations: the algorithm, and how many requests a server takes at once.

`source` and `uri` hash onto the servers with `hash-type consistent`, so that
a server coming or going moves only its own share of clients; `hash-by`
(ingress-nginx's upstream-hash-by, in its variables) hashes one request
property the same way: `$remote_addr`, `$request_uri`, `$http_<header>`,
`$cookie_<name>` or `$arg_<parameter>`. Server slots
are re-addressed at runtime with every algorithm (`set server addr`).
"""

from __future__ import annotations

import re
from typing import Literal

from ingress_ctl.annotations.registry import Reader, Scope, register
from ingress_ctl.annotations.values import choice, integer
from ingress_ctl.model.policies import Balance, HashKey

_VARIABLE = re.compile(r"^\$(http|cookie|arg)_([A-Za-z0-9_-]{1,64})$")
_WHOLE: dict[str, Literal["source", "uri"]] = {
    "$remote_addr": "source",
    "$binary_remote_addr": "source",
    "$request_uri": "uri",
}
_NAMED: dict[str, Literal["header", "cookie", "param"]] = {
    "http": "header",
    "cookie": "cookie",
    "arg": "param",
}


def hash_key(text: str) -> HashKey:
    """One nginx variable: $remote_addr, $request_uri, $http_NAME, $cookie_NAME, $arg_NAME
    (a header's underscores are dashes)."""
    stripped = text.strip()
    if stripped in _WHOLE:
        return HashKey(source=_WHOLE[stripped])
    found = _VARIABLE.fullmatch(stripped)
    if found is None:
        raise ValueError(
            f"{text[:60]!r} is not one of $remote_addr, $request_uri, $http_NAME, "
            "$cookie_NAME, $arg_NAME"
        )
    name = found[2].replace("_", "-").lower() if found[1] == "http" else found[2]
    return HashKey(source=_NAMED[found[1]], name=name)


BALANCE = register(
    "load-balance",
    choice(Balance),
    Scope.BACKEND,
    default="roundrobin",
)
HASH_BY = register("hash-by", hash_key, Scope.BACKEND, default="none (load-balance applies)")
POD_MAXCONN = register(
    "pod-maxconn",
    integer(1, 1_000_000),
    Scope.BACKEND,
    default="no limit",
)


def balance(reader: Reader) -> Balance:
    return reader.value(BALANCE, Balance.ROUNDROBIN)


def hash_by(reader: Reader) -> HashKey | None:
    """The hashed property; load-balance is ignored beside it (a warning)."""
    found = reader.get(HASH_BY)
    if found is not None and reader.given(BALANCE):
        reader.complain(BALANCE, "ignored: hash-by is set", "warning")
    return found


def maxconn(reader: Reader) -> int | None:
    return reader.get(POD_MAXCONN)
