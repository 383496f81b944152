"""TLSRoute and TCPRoute: SNI routes of TLS listeners, and TCP listeners' backend.

Their backends are the `mode tcp` twins of Service ports; a backendRef that
cannot be used makes ResolvedRefs False and takes no connection (a TLS
listener refuses the names no route serves; a TCP listener with no usable
backend refuses every connection).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ingress_ctl.model.gateway_objects import StreamRouteRule
from ingress_ctl.model.routing import ObjectRef
from ingress_ctl.translation.gateway.references import Backends, Unresolved


@dataclass
class StreamTarget:
    """Where a TLSRoute's or TCPRoute's connections go, and what its status must say."""

    backend: str | None = None
    unresolved: Unresolved | None = None
    problems: list[str] = field(default_factory=list)


def stream_target(
    rules: tuple[StreamRouteRule, ...], source: ObjectRef, backends: Backends
) -> StreamTarget:
    """The backend (or split) of a stream route's first rule: its backendRefs by weight."""
    found = StreamTarget()
    if len(rules) > 1:
        found.problems.append("only the first rule is served")
    refs = rules[0].backend_refs if rules else ()
    shares: list[tuple[str, int]] = []
    for k, ref in enumerate(refs):
        resolved = backends.resolve(source, ref, f"spec.rules[0].backendRefs[{k}]", tcp=True)
        if isinstance(resolved, Unresolved):
            found.unresolved = found.unresolved or resolved
        else:
            shares.append((resolved, ref.weight))
    found.backend = backends.choose(shares, tcp=True)
    return found
