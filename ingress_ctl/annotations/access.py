"""Access annotations: which client addresses may reach an Ingress's routes.

An allow-list answers 403 to every other address; a deny-list answers 403
to its own. Both look at the connection's source (the PROXY protocol's, when
the listener accepts it), never at headers a client can write: only when
the global `trusted-proxy-cidrs` names the connection's source do they look
at the client address that proxy forwarded (the last X-Forwarded-For entry,
or the one before it when the last is a trusted proxy too; a forwarded value
that is not an address answers 403). They fail closed: a list that does not
parse answers 403 to every request.
"""

from __future__ import annotations

from ingress_ctl.annotations.registry import Reader, Scope, register
from ingress_ctl.annotations.values import cidrs
from ingress_ctl.model.policies import Network


def networks(text: str) -> tuple[Network, ...]:
    """At least one network: an empty list would allow, or deny, nothing on purpose."""
    found = cidrs(text)
    if not found:
        raise ValueError("names no network")
    return found


CLOSED = "every request answers 403 until it is fixed"
ALLOW = register("allow-list", networks, Scope.ROUTE, default="every address", invalid=CLOSED)
DENY = register("deny-list", networks, Scope.ROUTE, default="no address", invalid=CLOSED)


def allowed(reader: Reader) -> tuple[Network, ...] | None:
    """The networks allowed: None allows all; () none (a list that did not parse)."""
    if any(reader.given(key) and reader.get(key) is None for key in (ALLOW, DENY)):
        return ()
    return reader.get(ALLOW)


def denied(reader: Reader) -> tuple[Network, ...]:
    return reader.value(DENY, ())
