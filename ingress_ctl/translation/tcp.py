"""TCP services from the `--tcp-services-configmap` ConfigMap (ingress-nginx's convention).

Each key `"<port>"` opens a TCP listener on that port, forwarding to
`"<namespace>/<service>:<port>[:<decode>[:<encode>]]"`: the Service port
by number or name; `decode` = `PROXY` makes the listener expect a PROXY
protocol header from its clients; `encode` = `PROXY` sends one to the
backend (version 1, unless the Service's own annotation asks for v2).
A key `"<port>.tls"` = `"<namespace>/<secret>"` terminates TLS on that
listener with a `kubernetes.io/tls` Secret (the default certificate if the
Secret cannot be served). A bad entry is a problem on `data.<key>`; every
other entry is served.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ingress_ctl.haproxy import naming
from ingress_ctl.model.objects import ConfigMap
from ingress_ctl.model.routing import Certificate, ObjectRef, ProxyProtocol, ServiceRef, TCPService
from ingress_ctl.model.settings import Settings, parse_service_port
from ingress_ctl.model.views import DNS_LABEL, DNS_SUBDOMAIN
from ingress_ctl.translation.fold import Fold
from ingress_ctl.translation.tls import TLSFold

TLS_SUFFIX = ".tls"
_PORT = re.compile(r"^[1-9][0-9]{0,4}$")


@dataclass(frozen=True)
class _Entry:
    service: ServiceRef
    decode: bool
    encode: bool


def parse_entry(value: str) -> _Entry:
    """`<namespace>/<service>:<port>[:PROXY|:][:PROXY]`, or ValueError with the reason."""
    parts = value.strip().split(":")
    if not 2 <= len(parts) <= 4 or any(flag not in ("", "PROXY") for flag in parts[2:]):
        raise ValueError(
            f"{value!r} is not <namespace>/<service>:<port>[:PROXY|:][:PROXY] "
            "(3rd field: the listener accepts PROXY; 4th: PROXY is sent to the backend)"
        )
    service = parse_service_port(":".join(parts[:2]))
    decode, encode = [*parts[2:], "", ""][:2]
    return _Entry(service=service, decode=decode == "PROXY", encode=encode == "PROXY")


def listener_port(key: str, settings: Settings) -> int:
    """The port a key opens, or ValueError (not a port, or one the controller uses)."""
    if not _PORT.fullmatch(key) or int(key) > 65535:
        raise ValueError("the key must be a port number (1-65535)")
    port = int(key)
    taken = {
        settings.http_port: "--http-port",
        settings.https_port: "--https-port",
        settings.status_port: "--status-port",
        settings.metrics_port: "--metrics-port",
    }
    if port in taken:
        raise ValueError(f"port {port} is the controller's {taken[port]}")
    return port


def add_tcp_services(
    fold: Fold,
    tls: TLSFold,
    configmap: ConfigMap | None,
    *,
    source: ObjectRef,
    settings: Settings,
    default_certificate: Certificate | None,
) -> tuple[TCPService, ...]:
    """The TCP services of the ConfigMap, their backends added to the fold."""
    if configmap is None:
        return ()
    services = []
    data = configmap.data
    for key in sorted(data):
        if key.endswith(TLS_SUFFIX):
            if key.removesuffix(TLS_SUFFIX) not in data:
                fold.problem(source, f"data.{key}", "no TCP service on this port; ignored")
            continue
        where = f"data.{key}"
        try:
            port = listener_port(key, settings)
            entry = parse_entry(data[key])
        except ValueError as error:
            fold.problem(source, where, f"{error}; entry ignored")
            continue
        certificate = None
        if key + TLS_SUFFIX in data:
            certificate = _certificate(
                fold, tls, source, where + TLS_SUFFIX, data[key + TLS_SUFFIX], default_certificate
            )
            if certificate is None:
                continue
        backend = _backend(fold, source, where, port, entry)
        services.append(
            TCPService(
                port=port,
                backend=backend,
                accept_proxy=entry.decode,
                certificate=certificate.file if certificate is not None else None,
            )
        )
    return tuple(services)


def _backend(fold: Fold, source: ObjectRef, where: str, port: int, entry: _Entry) -> str:
    backend, missing = fold.service_backend(entry.service, tcp_name=naming.tcp_backend_name(port))
    if missing is not None:
        fold.problem(source, where, f"{missing}; connections are closed")
    if entry.encode and backend.send_proxy is None:
        fold.backends[backend.name] = replace(backend, send_proxy=ProxyProtocol.V1)
    return backend.name


def _certificate(
    fold: Fold,
    tls: TLSFold,
    source: ObjectRef,
    where: str,
    value: str,
    default: Certificate | None,
) -> Certificate | None:
    """The listener's certificate: the Secret's, else the default; None: no listener."""
    namespace, slash, name = value.strip().partition("/")
    found = None
    if slash and DNS_LABEL.fullmatch(namespace) and DNS_SUBDOMAIN.fullmatch(name):
        found = tls.secret(fold, source, where, namespace, name)
    else:
        reason = f"{value!r} is not <namespace>/<secret>; the default certificate is served"
        fold.problem(source, where, reason)
    if found is None and default is None:
        fold.problem(source, where, "there is no default certificate: the listener is not opened")
    return found or default
