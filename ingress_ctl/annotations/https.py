"""HTTPS annotations: HTTPS redirect, HSTS, passthrough, and the PROXY protocol to pods.

Read like every other key, through the registry's `Reader` (length cap,
control characters, one wording of refusals). An Ingress's values that are
absent or refused are None here: the global ConfigMap's value applies, which
`translation/options.py` fills in.
"""

from __future__ import annotations

from ingress_ctl.annotations.registry import Reader, Scope, register
from ingress_ctl.annotations.values import boolean, choice, integer
from ingress_ctl.model.policies import Part
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
    invalid="no PROXY protocol is sent",
)


class HTTPSRequest(Part):
    """What an Ingress's annotations ask for its HTTPS hosts (None: the ConfigMap decides)."""

    ssl_redirect: bool | None = None
    hsts: bool | None = None
    hsts_max_age: int | None = None
    hsts_include_subdomains: bool | None = None
    hsts_preload: bool | None = None
    ssl_passthrough: bool = False


NOTHING = HTTPSRequest()


def https_request(reader: Reader) -> HTTPSRequest:
    """The HTTPS keys of an Ingress, each parsed once by `reader`."""
    if not reader.given(
        SSL_REDIRECT, HSTS, HSTS_MAX_AGE, HSTS_INCLUDE_SUBDOMAINS, HSTS_PRELOAD, SSL_PASSTHROUGH
    ):
        return NOTHING
    return HTTPSRequest(
        hsts=reader.get(HSTS),
        hsts_max_age=reader.get(HSTS_MAX_AGE),
        hsts_include_subdomains=reader.get(HSTS_INCLUDE_SUBDOMAINS),
        hsts_preload=reader.get(HSTS_PRELOAD),
        ssl_redirect=reader.get(SSL_REDIRECT),
        ssl_passthrough=reader.value(SSL_PASSTHROUGH, False),
    )


def send_proxy(reader: Reader) -> ProxyProtocol | None:
    """The PROXY protocol version a Service's pods expect (None: none is sent)."""
    return reader.get(SEND_PROXY_PROTOCOL)
