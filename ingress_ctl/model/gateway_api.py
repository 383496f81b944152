"""The Gateway API's group and the kinds the controller reads from it, by name.

Kept apart from `gateway_objects` (their views): the object parser and the informers
need only the names, so that `render` of manifests without Gateway API objects never
builds those views (`objects.parse_object` imports them at the first such object).
"""

from __future__ import annotations

from dataclasses import dataclass

GROUP = "gateway.networking.k8s.io"
"""The API group of every kind here."""


@dataclass(frozen=True, slots=True)
class ApiResource:
    """Where the API server serves a kind of this group."""

    plural: str
    versions: tuple[str, ...]
    """The versions read, preferred first: v1.6's standard CRDs serve v1 for every kind
    (ReferenceGrant also v1beta1; TLSRoute and TCPRoute's v1alpha versions only in the
    experimental channel); older installs may serve only the later ones."""
    namespaced: bool = True


API_RESOURCES = {
    "GatewayClass": ApiResource("gatewayclasses", ("v1", "v1beta1"), namespaced=False),
    "Gateway": ApiResource("gateways", ("v1", "v1beta1")),
    "ListenerSet": ApiResource("listenersets", ("v1",)),
    "HTTPRoute": ApiResource("httproutes", ("v1", "v1beta1")),
    "GRPCRoute": ApiResource("grpcroutes", ("v1",)),
    "TLSRoute": ApiResource("tlsroutes", ("v1", "v1alpha3", "v1alpha2")),
    "TCPRoute": ApiResource("tcproutes", ("v1", "v1alpha2")),
    "ReferenceGrant": ApiResource("referencegrants", ("v1", "v1beta1")),
    "BackendTLSPolicy": ApiResource("backendtlspolicies", ("v1", "v1alpha3")),
}
"""Every kind of the group the controller reads, by kind."""
