"""The controller's settings: every flag, typed and validated once."""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ingress_ctl.routing import ServiceRef

_SERVICE_PORT = re.compile(
    r"^(?P<namespace>[a-z0-9]([-a-z0-9]*[a-z0-9])?)/(?P<name>[a-z0-9]([-a-z0-9]*[a-z0-9])?)"
    r":(?P<port>[0-9]{1,5}|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$"
)


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


class Settings(BaseModel):
    """Flags of `ingress-ctl run` (and the subset `render`/`explain` use)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    manifests: Path | None = None
    bind_address: IPv4Address | IPv6Address = IPv4Address("0.0.0.0")
    http_port: int = Field(default=80, ge=1, le=65535)
    https_port: int = Field(default=443, ge=1, le=65535)
    status_port: int = Field(default=10254, ge=0, le=65535)
    state_dir: Path = Path("/tmp/ingress-ctl")
    haproxy_bin: str = "haproxy"
    controller_name: str = "ingress-ctl.io/haproxy"
    ingress_class: str = "haproxy"
    watch_ingress_without_class: bool = False
    default_backend_service: ServiceRef | None = None
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
