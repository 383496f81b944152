"""Our annotations on Ingresses and Services, typed; the one place that reads them.

Ingress annotations override the global ConfigMap for that Ingress's TLS
hosts; a value that does not parse is reported with its field and the
global value applies. The Service annotation says which PROXY protocol
version the Service's pods expect. The keys and their parsers are
registered in `ingress_ctl/annotations/https.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from ingress_ctl.annotations import https as tls
from ingress_ctl.annotations.registry import Annotation, field_of
from ingress_ctl.model.globals import HSTS, GlobalConfig
from ingress_ctl.model.routing import ProxyProtocol, Value

T = TypeVar("T")

SSL_REDIRECT = tls.SSL_REDIRECT.key
SSL_PASSTHROUGH = tls.SSL_PASSTHROUGH.key
HSTS_ENABLED = tls.HSTS.key
HSTS_MAX_AGE = tls.HSTS_MAX_AGE.key
HSTS_INCLUDE_SUBDOMAINS = tls.HSTS_INCLUDE_SUBDOMAINS.key
HSTS_PRELOAD = tls.HSTS_PRELOAD.key
SEND_PROXY_PROTOCOL = tls.SEND_PROXY_PROTOCOL.key


class IngressOptions(Value):
    """What an Ingress's annotations decide, with the global values filled in."""

    ssl_redirect: bool
    hsts: HSTS
    ssl_passthrough: bool


@dataclass
class _Reader:
    annotations: Mapping[str, str]
    issues: list[tuple[str, str]] = field(default_factory=list)

    def read(self, annotation: Annotation[T], default: T) -> T:
        raw = self.annotations.get(annotation.key)
        if raw is None:
            return default
        try:
            return annotation.parse(raw)
        except ValueError as error:
            self.issues.append((field_of(annotation.key), f"{error}; {default!r} applies"))
            return default


def ingress_options(
    annotations: Mapping[str, str], config: GlobalConfig
) -> tuple[IngressOptions, list[tuple[str, str]]]:
    """An Ingress's options, and (field, reason) for each annotation that did not parse."""
    reader = _Reader(annotations)
    hsts = HSTS(
        enabled=reader.read(tls.HSTS, config.hsts.enabled),
        max_age=reader.read(tls.HSTS_MAX_AGE, config.hsts.max_age),
        include_subdomains=reader.read(tls.HSTS_INCLUDE_SUBDOMAINS, config.hsts.include_subdomains),
        preload=reader.read(tls.HSTS_PRELOAD, config.hsts.preload),
    )
    options = IngressOptions(
        ssl_redirect=reader.read(tls.SSL_REDIRECT, config.ssl_redirect),
        hsts=hsts,
        ssl_passthrough=reader.read(tls.SSL_PASSTHROUGH, False),
    )
    return options, reader.issues


def send_proxy(annotations: Mapping[str, str]) -> ProxyProtocol | None:
    """The PROXY protocol version a Service's pods expect; ValueError when unreadable."""
    raw = annotations.get(SEND_PROXY_PROTOCOL)
    return None if raw is None else tls.SEND_PROXY_PROTOCOL.parse(raw)
