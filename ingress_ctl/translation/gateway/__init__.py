"""Gateway API translation: GatewayClasses, Gateways and their routes into the routing model.

`gateways.translate_gateways` is the entry point, imported by `translate` only for
snapshots that hold a GatewayClass (its result: `translated`); the other modules each
own one part of the spec: ReferenceGrants and backendRefs (`references`),
listeners and addresses (`listeners`), which route attaches where
(`attachment`), HTTPRoute and GRPCRoute rules (`http`) and their filters
(`filters`), TLSRoute and TCPRoute (`streams`), and the conditions written back
(`conditions`).
"""
