"""Client certificate validation of HTTPS listeners (a Gateway's `spec.tls.frontend`).

The configuration of a listener's port (`perPort`), else the default, names the CA
certificates that client certificates are checked against: ConfigMaps with a `ca.crt`
key. Each reference is checked as the spec says: a kind other than ConfigMap is
`InvalidCACertificateKind`; one in another namespace needs a ReferenceGrant
(`RefNotPermitted`); a missing ConfigMap, or a `ca.crt` that holds no PEM certificate,
is `InvalidCACertificateRef`. Each makes the listener's ResolvedRefs False; when no
reference is usable, the listener is not accepted (`NoValidCACertificate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ingress_ctl.model.gateway_objects import FrontendValidation, Gateway
from ingress_ctl.model.objects import ConfigMap
from ingress_ctl.model.snapshot import NamespacedName
from ingress_ctl.translation.certificates import CA_KEY, CertificateError, ca_bundle
from ingress_ctl.translation.gateway.references import Grants

INSECURE = "AllowInsecureFallback"
"""The mode that serves clients without a valid certificate too."""


@dataclass
class FrontendCA:
    """What a port's validation resolved to: the usable CAs (PEM, None when none is), whether
    a client without a valid certificate is served anyway, and each refused reference."""

    pem: str | None = None
    optional: bool = False
    problems: list[tuple[str, str]] = field(default_factory=list)
    """(ResolvedRefs reason, message), in reference order."""


def _validation(gateway: Gateway, port: int) -> FrontendValidation | None:
    tls = gateway.spec.tls
    if tls is None or tls.frontend is None:
        return None
    return tls.frontend.for_port(port).validation


def frontend_ca(
    gateway: Gateway,
    port: int,
    *,
    config_maps: Mapping[NamespacedName, ConfigMap],
    grants: Grants,
) -> FrontendCA | None:
    """The client certificate validation of the HTTPS listeners on `port`; None: none."""
    validation = _validation(gateway, port)
    if validation is None:
        return None
    found = FrontendCA(optional=validation.mode == INSECURE)
    namespace = gateway.metadata.namespace
    bundles: list[str] = []
    for i, ref in enumerate(validation.ca_certificate_refs):
        where = f"spec.tls.frontend: caCertificateRefs[{i}]"
        target = ref.namespace or namespace
        if ref.group not in ("", "core") or ref.kind != "ConfigMap":
            found.problems.append(
                ("InvalidCACertificateKind", f"{where}: {ref.group}/{ref.kind} is not a ConfigMap")
            )
            continue
        if not grants.allows("Gateway", namespace, "ConfigMap", target, ref.name):
            found.problems.append(
                ("RefNotPermitted", f"{where}: no ReferenceGrant in {target} allows it")
            )
            continue
        config_map = config_maps.get((target, ref.name))
        text = config_map.data.get(CA_KEY) if config_map is not None else None
        if text is None:
            why = "does not exist" if config_map is None else f"has no {CA_KEY}"
            found.problems.append(
                ("InvalidCACertificateRef", f"{where}: ConfigMap {target}/{ref.name} {why}")
            )
            continue
        try:
            bundles.append(ca_bundle(text.encode()))
        except CertificateError as error:
            found.problems.append(
                ("InvalidCACertificateRef", f"{where}: ConfigMap {target}/{ref.name}: {error}")
            )
    found.pem = "".join(bundles) or None
    return found


def insecure(gateway: Gateway) -> bool:
    """Whether any port of the Gateway serves clients without a valid certificate."""
    tls = gateway.spec.tls
    if tls is None or tls.frontend is None:
        return False
    configured = [tls.frontend.default, *(item.tls for item in tls.frontend.per_port)]
    return any(item.validation and item.validation.mode == INSECURE for item in configured)
