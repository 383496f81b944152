"""An Ingress's HTTPS options: what its annotations ask, the global ConfigMap filling the rest.

The annotations are read (once, with every other key of the Ingress) by
`annotations/https.py`; a value absent or refused leaves the global value.
"""

from __future__ import annotations

from typing import TypeVar

from ingress_ctl.annotations.https import HTTPSRequest
from ingress_ctl.model.globals import HSTS, GlobalConfig
from ingress_ctl.model.routing import Value

T = TypeVar("T")


class IngressOptions(Value):
    """What an Ingress's annotations decide, with the global values filled in."""

    ssl_redirect: bool
    hsts: HSTS
    ssl_passthrough: bool


def ingress_options(request: HTTPSRequest, config: GlobalConfig) -> IngressOptions:
    """An Ingress's options: its annotations' values, else the ConfigMap's."""
    hsts = config.hsts
    return IngressOptions(
        ssl_redirect=_either(request.ssl_redirect, config.ssl_redirect),
        hsts=HSTS(
            enabled=_either(request.hsts, hsts.enabled),
            max_age=_either(request.hsts_max_age, hsts.max_age),
            include_subdomains=_either(request.hsts_include_subdomains, hsts.include_subdomains),
            preload=_either(request.hsts_preload, hsts.preload),
        ),
        ssl_passthrough=request.ssl_passthrough,
    )


def _either(value: T | None, default: T) -> T:
    return default if value is None else value
