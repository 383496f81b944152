"""The global configuration: HAProxy-wide settings an operator chooses in a ConfigMap.

Only the validated values live here; `translation/configmap.py` parses the
ConfigMap into them, and every field has a default that serves well without
one. Durations are whole milliseconds.
"""

from __future__ import annotations

from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network

from pydantic import BaseModel, ConfigDict


class LogFormat(StrEnum):
    """Access logs: none, or one of a fixed set of formats (no free-form log-format strings)."""

    NONE = "none"
    HTTPLOG = "httplog"
    CLF = "clf"
    JSON = "json"


class TLSVersion(StrEnum):
    """A TLS protocol version as HAProxy's `ssl-min-ver` spells it."""

    TLS10 = "TLSv1.0"
    TLS11 = "TLSv1.1"
    TLS12 = "TLSv1.2"
    TLS13 = "TLSv1.3"


class Timeouts(BaseModel):
    """HAProxy timeouts in milliseconds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    connect: int = 5_000
    client: int = 50_000
    server: int = 50_000
    http_request: int = 10_000
    http_keep_alive: int = 60_000
    tunnel: int = 3_600_000
    queue: int = 5_000


class HSTS(BaseModel):
    """The Strict-Transport-Security policy of TLS hosts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    max_age: int = 31_536_000
    include_subdomains: bool = True
    preload: bool = False

    def header(self) -> str | None:
        """The header value (without spaces, so that it is one map word); None when disabled."""
        if not self.enabled:
            return None
        parts = [f"max-age={self.max_age}"]
        if self.include_subdomains:
            parts.append("includeSubDomains")
        if self.preload:
            parts.append("preload")
        return ";".join(parts)


class GlobalConfig(BaseModel):
    """Everything the global ConfigMap can set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeouts: Timeouts = Timeouts()
    maxconn: int | None = None
    """None: HAProxy derives it from the file-descriptor limit."""
    max_connections_per_source: int = 1_000
    """Concurrent connections one client address may hold open; more are closed at once
    (0: no limit). Keeps one client's idle connections from filling `maxconn`."""
    nbthread: int | None = None
    """None: one thread per CPU HAProxy may run on."""
    log_format: LogFormat = LogFormat.NONE
    ssl_min_version: TLSVersion = TLSVersion.TLS12
    ssl_ciphers: str | None = None
    """OpenSSL cipher list for TLS 1.2 and older; None keeps OpenSSL's default."""
    ssl_ciphersuites: str | None = None
    """TLS 1.3 cipher suites; None keeps OpenSSL's default."""
    ssl_redirect: bool = True
    hsts: HSTS = HSTS()
    trusted_proxy_cidrs: tuple[IPv4Network | IPv6Network, ...] = ()
    use_proxy_protocol: bool = False
    tls_handshake_timeout: int | None = 5_000
    """Milliseconds a TLS client has to send its ClientHello (None: no TCP frontend in front of
    the TLS listener unless passthrough needs it; the handshake then has `timeouts.client`)."""
    hard_stop_after: int = 60_000
    """How long the workers of an earlier configuration may keep serving the connections they
    hold (WebSockets, long downloads) after a reload before they are stopped, in ms."""
