"""The controller's settings: every flag, typed and validated once."""

from __future__ import annotations

import re
from collections.abc import Mapping
from ipaddress import IPv4Address, IPv4Network, IPv6Address, ip_address
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ingress_ctl.model.routing import ServiceRef
from ingress_ctl.model.views import DNS_LABEL, DNS_SUBDOMAIN, Label, Subdomain
from ingress_ctl.state_dir import SYSTEM_STATE_DIR

_SERVICE_PORT = re.compile(
    r"^(?P<namespace>[a-z0-9]([-a-z0-9]*[a-z0-9])?)/(?P<name>[a-z0-9]([-a-z0-9]*[a-z0-9])?)"
    r":(?P<port>[0-9]{1,5}|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$"
)

IN_CLUSTER_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
"""Where a pod finds its own namespace (mounted with the service account token)."""

FALLBACK_CONTROLLER_NAMESPACE = "ingress-ctl"


def parse_service_port(text: str) -> ServiceRef:
    """`namespace/name:port` (port by number or name) as a ServiceRef."""
    found = _SERVICE_PORT.fullmatch(text)
    if found is None:
        raise ValueError(f"{text!r} is not namespace/name:port")
    port = found["port"]
    number = int(port) if port.isdigit() else None
    if number is not None and not 1 <= number <= 65535:
        raise ValueError(f"{text!r}: port {number} is out of range")
    return ServiceRef(namespace=found["namespace"], name=found["name"], port=number or port)


def _publish_address(value: str) -> str:
    """An IP address (normalised) or a DNS name, as Ingress status can carry."""
    try:
        return str(ip_address(value))
    except ValueError:
        pass
    if not DNS_SUBDOMAIN.fullmatch(value):
        raise ValueError(f"{value!r} is neither an IP address nor a DNS name")
    return value


def _namespaced_name(value: str) -> str:
    namespace, slash, name = value.partition("/")
    if not slash or not DNS_LABEL.fullmatch(namespace) or not DNS_LABEL.fullmatch(name):
        raise ValueError(f"{value!r} is not namespace/name")
    return value


PublishAddress = Annotated[str, AfterValidator(_publish_address)]
NamespacedName = Annotated[str, AfterValidator(_namespaced_name)]


def default_controller_namespace(
    environ: Mapping[str, str], namespace_file: Path = IN_CLUSTER_NAMESPACE_FILE
) -> str:
    """The namespace the controller runs in: POD_NAMESPACE, else the pod's namespace file."""
    if environ.get("POD_NAMESPACE"):
        return environ["POD_NAMESPACE"]
    try:
        return namespace_file.read_text(encoding="utf-8").strip() or FALLBACK_CONTROLLER_NAMESPACE
    except OSError:
        return FALLBACK_CONTROLLER_NAMESPACE


class Settings(BaseModel):
    """Flags of `ingress-ctl run` (and the subset `render`/`explain` use)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    manifests: Path | None = None
    """File mode when set; Kubernetes mode otherwise."""
    bind_address: IPv4Address | IPv6Address = IPv4Address("0.0.0.0")
    http_port: int = Field(default=80, ge=1, le=65535)
    https_port: int = Field(default=443, ge=1, le=65535)
    status_port: int = Field(default=10254, ge=0, le=65535)
    """/healthz and /readyz (the kubelet's probes) on bind_address."""
    status_bind_address: IPv4Address | IPv6Address = IPv4Address("127.0.0.1")
    """/status and /metrics listen here (cluster-internal: they show every host and problem)."""
    metrics_port: int = Field(default=10255, ge=0, le=65535)
    """Port of /status and /metrics when status_bind_address differs from bind_address (else
    the status port serves all four)."""
    state_dir: Path = SYSTEM_STATE_DIR
    haproxy_bin: str = "haproxy"
    controller_name: str = "ingress-ctl.io/haproxy"
    ingress_class: str = "haproxy"
    watch_ingress_without_class: bool = False
    default_backend_service: ServiceRef | None = None
    default_ssl_certificate: NamespacedName | None = None
    """`namespace/name` of the TLS Secret served when no other certificate matches."""
    configmap: NamespacedName | None = None
    """`namespace/name` of the ConfigMap of global settings (timeouts, TLS, HSTS, ...)."""
    tcp_services_configmap: NamespacedName | None = None
    """`namespace/name` of the ConfigMap of TCP services (`"<port>": "<ns>/<svc>:<port>"`)."""
    allow_external_name: bool = False
    """Serve ExternalName Services of every namespace, pointing anywhere but this host."""
    allow_external_name_namespaces: tuple[Label, ...] = ()
    """Namespaces whose ExternalName Services are served (targets in their own namespace or
    outside the cluster only)."""
    nginx_compat: bool = False
    """Also read `nginx.ingress.kubernetes.io/` annotations, mapped onto ours."""
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    sync_settle: float = Field(default=0.05, ge=0, le=10)
    """Seconds a burst of changes may settle before one sync handles them all."""
    min_reload_interval: float = Field(default=0.5, ge=0, le=600)
    """Seconds between two reloads at least; changes meanwhile collapse into one plan."""
    metrics_per_server: bool = False
    """/metrics also has `haproxy_server_*` series, one per server (pod): many more series."""

    kubeconfig: Path | None = None
    """Kubernetes credentials; else $KUBECONFIG, else the pod's service account."""
    watch_namespaces: tuple[Label, ...] = ()
    """Namespaces to watch; all when empty (IngressClasses are cluster-scoped: always all)."""
    publish_addresses: tuple[PublishAddress, ...] = ()
    """Written into the status of the Ingresses we serve; wins over publish_service."""
    publish_service: NamespacedName | None = None
    """`namespace/name` of the Service whose addresses the Ingresses' status carries."""
    election_id: Subdomain = "ingress-ctl-leader"
    """Name of the Lease that elects the one replica writing status and Events."""
    controller_namespace: Label = FALLBACK_CONTROLLER_NAMESPACE
    """Namespace of the election Lease."""
    gateway_address_pool: IPv4Network | None = None
    """Addresses for Gateways without spec.addresses: each gets a stable one of this network,
    its listeners bind there and its status.addresses reports it (e.g. 127.10.0.0/24)."""

    @property
    def mode(self) -> Literal["files", "kubernetes"]:
        """`files` with --manifests, else `kubernetes`."""
        return "files" if self.manifests is not None else "kubernetes"
