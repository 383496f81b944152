"""Backend protocol annotations: what the pods speak, and the CA that vouches for them.

`https` and `h2` speak TLS to the pods (`h2` negotiates HTTP/2 with ALPN);
`h2c` speaks cleartext HTTP/2 (`proto h2`). Without a CA Secret the pods'
certificates are not verified; with one (a Secret of the Ingress's or the
Service's namespace, PEM in key `ca.crt`) they must chain to it.
"""

from __future__ import annotations

from ingress_ctl.annotations.registry import Reader, Scope, register
from ingress_ctl.annotations.values import choice, secret
from ingress_ctl.model.policies import Part, Protocol

PROTOCOL = register(
    "backend-protocol",
    choice(Protocol),
    Scope.BACKEND,
    default="http",
)
CA_SECRET = register(
    "backend-ca-secret",
    secret,
    Scope.BACKEND,
    default="none: TLS pods are not verified",
)


class UpstreamRequest(Part):
    """The protocol, and the Secret whose `ca.crt` verifies TLS pods (resolved later)."""

    protocol: Protocol = Protocol.HTTP
    ca_secret: tuple[str | None, str] | None = None


def upstream(reader: Reader) -> UpstreamRequest:
    protocol = reader.value(PROTOCOL, Protocol.HTTP)
    ca = reader.get(CA_SECRET)
    if ca is not None and not protocol.tls:
        reader.complain(CA_SECRET, f"ignored: backend-protocol {protocol} is not TLS", "warning")
        ca = None
    return UpstreamRequest(protocol=protocol, ca_secret=ca)
