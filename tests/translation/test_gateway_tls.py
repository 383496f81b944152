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


def config_map(name: str, namespace: str, data: dict[str, str]) -> str:
    return "\n---\n" + yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace},
            "data": data,
        }
    )


def validated(frontend: str) -> str:
    """A Gateway with `spec.tls.frontend` and HTTPS listeners on 443, 6443, 7443, 8443 and
    9443, and an HTTP one on 80."""
    listeners = "".join(
        f"""  - name: l{port}
    port: {port}
    protocol: HTTPS
    hostname: h{port}.example.org
    tls: {{certificateRefs: [{{name: cert}}]}}
"""
        for port in (443, 6443, 7443, 8443, 9443)
    )
    return f"""
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: mtls, namespace: infra, generation: 3}}
spec:
  gatewayClassName: ours
  tls:
    frontend:
{frontend}
  listeners:
  - {{name: l80, port: 80, protocol: HTTP}}
{listeners}"""


FRONTEND = """      default:
        validation:
          caCertificateRefs: [{kind: ConfigMap, group: "", name: ca}]
      perPort:
      - port: 6443
        tls: {validation: {caCertificateRefs: [{kind: ConfigMap, name: ca, namespace: apps}]}}
      - port: 7443
        tls: {validation: {caCertificateRefs: [{kind: ConfigMap, name: nowhere}]}}
      - port: 8443
        tls: {validation: {caCertificateRefs: [{kind: Service, name: web}]}}
      - port: 9443
        tls:
          validation:
            mode: AllowInsecureFallback
            caCertificateRefs: [{kind: ConfigMap, name: not-pem}, {kind: ConfigMap, name: other}]
      - port: 80
        tls: {validation: {caCertificateRefs: [{kind: ConfigMap, name: nowhere}]}}
"""
CLIENT_CA, OTHER_CA = TestCA("client CA"), TestCA("other CA")
CONFIG_MAPS = (
    config_map("ca", "infra", {"ca.crt": CLIENT_CA.pem.decode()})
    + config_map("ca", "apps", {"ca.crt": CLIENT_CA.pem.decode()})
    + config_map("other", "infra", {"ca.crt": OTHER_CA.pem.decode()})
    + config_map("not-pem", "infra", {"ca.crt": "no certificate"})
)


def test_client_certificate_validation_by_port_and_why_not() -> None:
    found = translated(
        SECRET + CONFIG_MAPS + validated(FRONTEND), gateway_address_pool="127.10.0.0/24"
    )
    gateway = next(item for item in found.gateway.gateways if item.name == "mtls")
    status = {item.name: conditions(item.conditions) for item in gateway.listeners}
    for name in ("l80", "l443", "l9443"):
        assert status[name]["Accepted"] == ("True", "Accepted"), name
        assert status[name]["Programmed"] == ("True", "Programmed"), name
    assert status["l80"]["ResolvedRefs"] == ("True", "ResolvedRefs")  # not HTTPS
    assert status["l443"]["ResolvedRefs"] == ("True", "ResolvedRefs")
    assert status["l9443"]["ResolvedRefs"] == ("False", "InvalidCACertificateRef")  # one of two
    for name, reason in (
        ("l6443", "RefNotPermitted"),
        ("l7443", "InvalidCACertificateRef"),
        ("l8443", "InvalidCACertificateKind"),
    ):
        assert status[name]["ResolvedRefs"] == ("False", reason), name
        assert status[name]["Accepted"] == ("False", "NoValidCACertificate"), name
        assert status[name]["Programmed"][0] == "False", name
    assert conditions(gateway.conditions)["InsecureFrontendValidationMode"] == (
        "True",
        "ConfigurationChanged",
    )
    ports = {p.port: p for p in found.routing.gateway_ports if p.gateway.name == "mtls"}
    assert sorted(ports) == [80, 443, 9443]
    strict, lenient = ports[443].client_validation, ports[9443].client_validation
    assert ports[80].client_validation is None
    assert strict is not None and not strict.optional
    assert lenient is not None and lenient.optional
    bundles = {bundle.file: bundle.pem for bundle in found.routing.ca_bundles}
    assert CLIENT_CA.pem.decode() in bundles[strict.ca_file]
    assert bundles[lenient.ca_file] == OTHER_CA.pem.decode()


def test_without_an_insecure_mode_the_gateway_has_no_such_condition() -> None:
    frontend = """      default:
        validation:
          caCertificateRefs: [{kind: ConfigMap, group: "", name: ca}]
"""
    found = translated(
        SECRET + CONFIG_MAPS + validated(frontend), gateway_address_pool="127.10.0.0/24"
    )
    gateway = next(item for item in found.gateway.gateways if item.name == "mtls")
    assert "InsecureFrontendValidationMode" not in conditions(gateway.conditions)
    assert all(conditions(item.conditions)["Accepted"][0] == "True" for item in gateway.listeners)
