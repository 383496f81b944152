"""Our annotations on Ingresses and Services, typed; the one place that reads them.

Ingress annotations override the global ConfigMap for that Ingress's TLS
hosts; a value that does not parse is reported with its field and the
global value applies. The Service annotation says which PROXY protocol
version the Service's pods expect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from ingress_ctl.globals import HSTS, GlobalConfig
from ingress_ctl.routing import ProxyProtocol, Value
from ingress_ctl.translation.values import boolean, choice, integer

T = TypeVar("T")

PREFIX = "ingress-ctl.io/"
SSL_REDIRECT = PREFIX + "ssl-redirect"
SSL_PASSTHROUGH = PREFIX + "ssl-passthrough"
HSTS_ENABLED = PREFIX + "hsts"
HSTS_MAX_AGE = PREFIX + "hsts-max-age"
HSTS_INCLUDE_SUBDOMAINS = PREFIX + "hsts-include-subdomains"
HSTS_PRELOAD = PREFIX + "hsts-preload"
SEND_PROXY_PROTOCOL = PREFIX + "send-proxy-protocol"


def field_of(annotation: str) -> str:
    """The problem field of an annotation."""
    return f"metadata.annotations[{annotation}]"


class IngressOptions(Value):
    """What an Ingress's annotations decide, with the global values filled in."""

    ssl_redirect: bool
    hsts: HSTS
    ssl_passthrough: bool


@dataclass
class _Reader:
    annotations: Mapping[str, str]
    issues: list[tuple[str, str]] = field(default_factory=list)

    def read(self, name: str, parse: Callable[[str], T], default: T) -> T:
        raw = self.annotations.get(name)
        if raw is None:
            return default
        try:
            return parse(raw)
        except ValueError as error:
            self.issues.append((field_of(name), f"{error}; {default!r} applies"))
            return default


def ingress_options(
    annotations: Mapping[str, str], config: GlobalConfig
) -> tuple[IngressOptions, list[tuple[str, str]]]:
    """An Ingress's options, and (field, reason) for each annotation that did not parse."""
    reader = _Reader(annotations)
    hsts = HSTS(
        enabled=reader.read(HSTS_ENABLED, boolean, config.hsts.enabled),
        max_age=reader.read(HSTS_MAX_AGE, integer(0, 2**31 - 1), config.hsts.max_age),
        include_subdomains=reader.read(
            HSTS_INCLUDE_SUBDOMAINS, boolean, config.hsts.include_subdomains
        ),
        preload=reader.read(HSTS_PRELOAD, boolean, config.hsts.preload),
    )
    options = IngressOptions(
        ssl_redirect=reader.read(SSL_REDIRECT, boolean, config.ssl_redirect),
        hsts=hsts,
        ssl_passthrough=reader.read(SSL_PASSTHROUGH, boolean, False),
    )
    return options, reader.issues


def send_proxy(annotations: Mapping[str, str]) -> ProxyProtocol | None:
    """The PROXY protocol version a Service's pods expect; ValueError when unreadable."""
    raw = annotations.get(SEND_PROXY_PROTOCOL)
    return None if raw is None else choice(ProxyProtocol)(raw)
