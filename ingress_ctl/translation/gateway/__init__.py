"""Gateway API translation: GatewayClasses, Gateways and their routes into the routing model.

`translate_gateways` is the entry point (see `gateways`); the other modules each
own one part of the spec: ReferenceGrants and backendRefs (`references`),
listeners and addresses (`listeners`), which route attaches where
(`attachment`), HTTPRoute and GRPCRoute rules (`http`) and their filters
(`filters`), TLSRoute and TCPRoute (`streams`), and the conditions written back
(`conditions`).
"""

from ingress_ctl.translation.gateway.gateways import GatewayTranslation, translate_gateways

__all__ = ["GatewayTranslation", "translate_gateways"]
