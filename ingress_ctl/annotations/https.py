"""TLS annotations: HTTPS redirect, HSTS, passthrough, and the PROXY protocol to pods.

Registered here so that every key of ours is known in one registry (docs,
nginx mapping, migration report); `translation/annotations.py` applies them.
"""

from __future__ import annotations

from ingress_ctl.annotations.registry import Scope, register
from ingress_ctl.annotations.values import boolean, choice, integer
from ingress_ctl.model.routing import ProxyProtocol

SSL_REDIRECT = register(
    "ssl-redirect",
    boolean,
    Scope.INGRESS,
    default="the ConfigMap's ssl-redirect (true)",
)
SSL_PASSTHROUGH = register("ssl-passthrough", boolean, Scope.INGRESS, default="false")
HSTS = register("hsts", boolean, Scope.INGRESS, default="the ConfigMap's hsts")
HSTS_MAX_AGE = register(
    "hsts-max-age",
    integer(0, 2**31 - 1),
    Scope.INGRESS,
    default="the ConfigMap's hsts-max-age (31536000)",
)
HSTS_INCLUDE_SUBDOMAINS = register(
    "hsts-include-subdomains",
    boolean,
    Scope.INGRESS,
    default="the ConfigMap's hsts-include-subdomains",
)
HSTS_PRELOAD = register(
    "hsts-preload", boolean, Scope.INGRESS, default="the ConfigMap's hsts-preload"
)
SEND_PROXY_PROTOCOL = register(
    "send-proxy-protocol",
    choice(ProxyProtocol),
    Scope.SERVICE,
    default="none",
)
