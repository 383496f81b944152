"""Conditions as the Gateway API spells them: types, reasons, and one maker."""

from __future__ import annotations

from ingress_ctl.model.conditions import Condition

ACCEPTED = "Accepted"
PROGRAMMED = "Programmed"
RESOLVED_REFS = "ResolvedRefs"
CONFLICTED = "Conflicted"
INSECURE_FRONTEND_VALIDATION = "InsecureFrontendValidationMode"

FEATURES = (
    "Gateway",
    "GatewayPort8080",
    "GRPCRoute",
    "HTTPRoute",
    "HTTPRouteDestinationPortMatching",
    "HTTPRouteHostRewrite",
    "HTTPRouteMethodMatching",
    "HTTPRouteParentRefPort",
    "HTTPRoutePathRedirect",
    "HTTPRoutePathRewrite",
    "HTTPRoutePortRedirect",
    "HTTPRouteQueryParamMatching",
    "HTTPRouteRequestTimeout",
    "HTTPRouteBackendTimeout",
    "HTTPRouteResponseHeaderModification",
    "HTTPRouteBackendRequestHeaderModification",
    "HTTPRouteSchemeRedirect",
    "HTTPRoute303RedirectStatusCode",
    "HTTPRoute307RedirectStatusCode",
    "HTTPRoute308RedirectStatusCode",
    "HTTPRouteBackendProtocolH2C",
    "HTTPRouteBackendProtocolWebSocket",
    "HTTPRouteNamedRouteRule",
    "ListenerSet",
    "HTTPRouteCORS",
    "GRPCRouteNamedRouteRule",
    "GatewayStaticAddresses",
    "GatewayAddressEmpty",
    "GatewayHTTPListenerIsolation",
    "ReferenceGrant",
    "BackendTLSPolicy",
    "BackendTLSPolicySANValidation",
    "GatewayBackendClientCertificate",
    "TCPRoute",
    "TLSRoute",
    "TLSRouteModeTerminate",
    "TLSRouteModeMixed",
    "GatewayHTTPSListenerDetectMisdirectedRequests",
    "GatewayFrontendClientCertificateValidation",
    "GatewayFrontendClientCertificateValidationInsecureFallback",
)
"""What `status.supportedFeatures` of our GatewayClasses lists: each one's conformance
tests pass (docs/gateway-api.md has the report)."""


def condition(kind: str, ok: bool, reason: str, message: str = "", *, generation: int) -> Condition:
    """A condition of `kind`, True when `ok`."""
    return Condition(
        type=kind,
        status="True" if ok else "False",
        reason=reason,
        message=message,
        observed_generation=generation,
    )
