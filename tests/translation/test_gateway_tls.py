"""Gateway TLS translation (table tests): TLS listeners that terminate, ports that mix
Terminate and Passthrough listeners, and the listener hostnames of HTTPS ports that
misdirected requests are told by."""

from __future__ import annotations

import yaml

from ingress_ctl.model.gateways import GatewayPort
from ingress_ctl.translation import Translation
from tests.certs import TestCA
from tests.manifests import tls_secret
from tests.translation.test_gateways import conditions, route, translated

CA = TestCA()
ISSUED = CA.issue("tls.example.com", "*.example.org")
SECRET = "\n---\n" + yaml.safe_dump(
    tls_secret("cert", ISSUED.chain_pem, ISSUED.key_pem, namespace="infra")
)


def port_of(found: Translation, gateway: str, port: int) -> GatewayPort:
    return next(
        item
        for item in found.routing.gateway_ports
        if item.gateway.name == gateway and item.port == port
    )


MIXED = (
    SECRET
    + """
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: mixed, namespace: infra}
spec:
  gatewayClassName: ours
  listeners:
  - name: terminate
    port: 8883
    protocol: TLS
    hostname: tls.example.com
    tls: {mode: Terminate, certificateRefs: [{name: cert}]}
  - {name: passthrough, port: 8883, protocol: TLS, hostname: abc.example.com, tls: {mode: Passthrough}}
  - {name: no-certificate, port: 8884, protocol: TLS, tls: {mode: Terminate}}
  - {name: no-mode, port: 8885, protocol: TLS}
"""
    + route("""kind: TLSRoute
metadata: {name: terminated, namespace: infra}
spec:
  parentRefs: [{name: mixed}]
  hostnames: [tls.example.com]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
""")
    + route("""kind: TLSRoute
metadata: {name: passed, namespace: infra}
spec:
  parentRefs: [{name: mixed, sectionName: passthrough}]
  rules: [{backendRefs: [{name: web, port: 9000}]}]
""")
)


def test_terminate_and_passthrough_listeners_share_a_port() -> None:
    found = translated(MIXED, gateway_address_pool="127.10.0.0/24")
    gateway = next(item for item in found.gateway.gateways if item.name == "mixed")
    status = {item.name: item for item in gateway.listeners}
    for name in ("terminate", "passthrough"):
        assert conditions(status[name].conditions) == {
            "Accepted": ("True", "Accepted"),
            "Programmed": ("True", "Programmed"),
            "ResolvedRefs": ("True", "ResolvedRefs"),
            "Conflicted": ("False", "NoConflicts"),
        }, name
        assert [kind.kind for kind in status[name].supported_kinds] == ["TLSRoute"]
        assert status[name].attached_routes == 1
    missing = conditions(status["no-certificate"].conditions)
    assert missing["Accepted"] == ("True", "Accepted")
    assert missing["ResolvedRefs"] == ("False", "InvalidCertificateRef")
    assert missing["Programmed"] == ("False", "Invalid")
    assert conditions(status["no-mode"].conditions)["Accepted"] == ("False", "UnsupportedValue")
    served = port_of(found, "mixed", 8883)
    assert [(r.host, r.backend, r.terminate) for r in served.sni_routes] == [
        ("abc.example.com", "pt_infra_web_9000", False),
        ("tls.example.com", "pt_infra_web_8080", True),
    ]
    assert [(c.host, c.file) for c in served.certificates] == [
        ("tls.example.com", found.routing.certificates[0].file)
    ]
    assert [p.port for p in found.routing.gateway_ports if p.gateway.name == "mixed"] == [8883]


HTTPS = (
    SECRET
    + """
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: secure, namespace: infra}
spec:
  gatewayClassName: ours
  listeners:
"""
    + "".join(
        f"""  - name: {name}
    port: {port}
    protocol: HTTPS
{f'    hostname: "{host}"' + chr(10) if host else ""}    tls: {{certificateRefs: [{{name: cert}}]}}
"""
        for name, port, host in (
            ("https", 443, None),
            ("second", 443, "second-example.org"),
            ("wildcard", 443, "*.wildcard.org"),
            ("fourth", 443, "fourth-example.wildcard.org"),
            ("alone", 8443, "alone.example.org"),
        )
    )
)


def test_https_ports_know_their_listener_hostnames_most_specific_first() -> None:
    found = translated(HTTPS, gateway_address_pool="127.10.0.0/24")
    assert port_of(found, "secure", 443).listener_hosts == (
        "fourth-example.wildcard.org",
        "second-example.org",
        "*.wildcard.org",
        "",
    )
    assert port_of(found, "secure", 8443).listener_hosts == ()  # one listener: nothing to tell
    assert port_of(found, "gw", 8080).listener_hosts == ()  # HTTP
