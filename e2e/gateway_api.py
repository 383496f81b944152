"""Where e2e tests find the Gateway API CRDs: the standard channel of the pinned version.

Read from the Go module's download (`go mod download` of sigs.k8s.io/gateway-api, the
module the conformance suite and echo-basic are built from), so the CRDs always match
the suite's version.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

GATEWAY_API_VERSION = os.environ.get("GATEWAY_API_VERSION", "v1.6.3")


def gateway_api_crds() -> list[Path]:
    """The CustomResourceDefinition manifests of the standard channel, sorted."""
    found = subprocess.run(
        ["go", "mod", "download", "-json", f"sigs.k8s.io/gateway-api@{GATEWAY_API_VERSION}"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    folder = Path(json.loads(found.stdout)["Dir"]) / "config" / "crd" / "standard"
    return sorted(
        path
        for path in folder.glob("gateway.networking.k8s.io_*.yaml")
        if "_vap_" not in path.name  # an admission policy, not a CRD
    )
