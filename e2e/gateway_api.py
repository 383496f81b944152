"""Where e2e tests find the Gateway API CRDs: those deploy/gateway-api ships (the standard
channel of the version the conformance suite is built from; e2e/sync-gateway-crds.sh copies
them from the Go module).
"""

from __future__ import annotations

from pathlib import Path


def gateway_api_crds() -> list[Path]:
    """The CustomResourceDefinition manifests deploy/gateway-api ships (the standard channel
    of the pinned version), sorted."""
    folder = Path(__file__).resolve().parent.parent / "deploy" / "gateway-api"
    return sorted(
        path
        for path in folder.glob("gateway.networking.k8s.io_*.yaml")
        if "_vap_" not in path.name  # an admission policy, not a CRD
    )
