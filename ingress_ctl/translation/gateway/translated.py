"""What Gateway API translation hands to `translate`: ports, splits, statuses.

Apart from `gateways` (which makes it) so that `translate` can name the empty
result of a snapshot without a GatewayClass without importing the Gateway API's
translation, views and model (`render` of Ingress-only manifests never loads them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ingress_ctl.model.gateway_statuses import GatewayStatuses

if TYPE_CHECKING:
    from ingress_ctl.model.gateways import GatewayPort, Split
    from ingress_ctl.model.routing import CABundle


@dataclass(frozen=True)
class GatewayTranslation:
    """What Gateways serve, the weighted splits they use, and the status of every object."""

    ports: tuple[GatewayPort, ...] = ()
    splits: tuple[Split, ...] = ()
    statuses: GatewayStatuses = field(default_factory=GatewayStatuses)
    certificates: frozenset[str] = frozenset()
    """The certificate files Gateway listeners serve and Gateways present to TLS pods."""
    ca_bundles: tuple[CABundle, ...] = ()
    """The CA bundles HTTPS ports check client certificates against."""
