"""BackendTLSPolicy translation: which policy a Service port gets, its upstream and status."""

from __future__ import annotations

import pytest
import yaml

from ingress_ctl.model.policies import Protocol, ServerIdentity, SubjectAltName, Upstream
from ingress_ctl.translation import Translation
from tests.certs import Issued, TestCA
from tests.manifests import tls_secret
from tests.translation.test_gateways import conditions, parents, route, translated

CA = TestCA()

SERVICES = """
---
apiVersion: v1
kind: Service
metadata: {name: secure, namespace: infra}
spec: {ports: [{name: btls, port: 443}, {name: other, port: 8443}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ca, namespace: infra}
data:
  ca.crt: |
PEM
---
apiVersion: v1
kind: ConfigMap
metadata: {name: empty, namespace: infra}
data: {}
""".replace("PEM", "\n".join("    " + line for line in CA.pem.decode().splitlines()))

ROUTE = route("""kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: Exact, value: /a}}]
    backendRefs: [{name: secure, port: 443}]
  - matches: [{path: {type: Exact, value: /b}}]
    backendRefs: [{name: secure, port: 8443}]
""")


def policy(name: str, validation: str, *, section: str | None = "btls", age: int = 1) -> str:
    target = "{group: '', kind: Service, name: secure%s}" % (
        f", sectionName: {section}" if section else ""
    )
    return route(f"""kind: BackendTLSPolicy
metadata:
  name: {name}
  namespace: infra
  generation: 3
  creationTimestamp: "2024-01-0{age}T00:00:00Z"
spec:
  targetRefs: [{target}]
  validation: {validation}
""")


VALID = "{caCertificateRefs: [{group: '', kind: ConfigMap, name: ca}], hostname: abc.example.com}"


def upstreams(translation: Translation, port_number: int = 8080) -> dict[str, Upstream]:
    """The upstream of the backend each path of the route reaches on a Gateway port."""
    port = next(item for item in translation.routing.gateway_ports if item.port == port_number)
    return {
        found.path: translation.routing.backend(found.backend).policy.backend.upstream
        for found in port.matches
    }


def policy_conditions(translation: Translation, name: str) -> dict[str, tuple[str, str]]:
    status = next(item for item in translation.gateway.policies if item.name == name)
    assert [item.ancestor.name for item in status.ancestors] == ["gw"]
    found = status.ancestors[0].conditions
    assert {item.observed_generation for item in found} == {3}
    return conditions(found)


def test_a_policy_makes_its_service_port_speak_verified_tls() -> None:
    found = translated(SERVICES + ROUTE + policy("p", VALID))
    by_path = upstreams(found)
    verified = by_path["/a"]
    assert verified.protocol is Protocol.HTTPS and verified.ca_file is not None
    assert verified.identity == ServerIdentity(sni="abc.example.com", verify_host="abc.example.com")
    assert by_path["/b"] == Upstream()  # another port of the Service: plain HTTP
    assert [bundle.file for bundle in found.routing.ca_bundles] == [verified.ca_file]
    assert CA.pem.decode() in found.routing.ca_bundles[0].pem
    assert policy_conditions(found, "p") == {
        "Accepted": ("True", "Accepted"),
        "ResolvedRefs": ("True", "ResolvedRefs"),
    }
    assert parents(found, "r") == [
        {"Accepted": ("True", "Accepted"), "ResolvedRefs": ("True", "ResolvedRefs")}
    ]


def test_the_oldest_policy_of_a_port_wins_and_a_port_policy_beats_a_service_one() -> None:
    other = VALID.replace("abc.example.com", "other.example.com")
    found = translated(
        SERVICES
        + ROUTE
        + policy("young", VALID, age=3)
        + policy("old", other, age=2)
        + policy("whole", VALID, section=None, age=1)
    )
    by_path = upstreams(found)
    assert by_path["/a"].identity is not None and by_path["/a"].identity.sni == "other.example.com"
    assert by_path["/b"].identity is not None and by_path["/b"].identity.sni == "abc.example.com"
    assert policy_conditions(found, "young")["Accepted"] == ("False", "Conflicted")
    assert policy_conditions(found, "old")["Accepted"] == ("True", "Accepted")
    assert policy_conditions(found, "whole")["Accepted"] == ("True", "Accepted")


@pytest.mark.parametrize(
    ("validation", "accepted", "resolved"),
    [
        (
            "{caCertificateRefs: [{group: '', kind: ConfigMap, name: nope}], hostname: a.example}",
            ("False", "NoValidCACertificate"),
            ("False", "InvalidCACertificateRef"),
        ),
        (
            "{caCertificateRefs: [{group: '', kind: ConfigMap, name: empty}], hostname: a.example}",
            ("False", "NoValidCACertificate"),
            ("False", "InvalidCACertificateRef"),
        ),
        (
            "{caCertificateRefs: [{group: invalid.io, kind: InvalidKind, name: x}], hostname: a.b}",
            ("False", "NoValidCACertificate"),
            ("False", "InvalidKind"),
        ),
        (
            "{caCertificateRefs: [{group: '', kind: ConfigMap, name: ca},"
            " {group: '', kind: ConfigMap, name: nope}], hostname: a.example}",
            ("True", "Accepted"),
            ("False", "InvalidCACertificateRef"),
        ),
        (
            "{caCertificateRefs: [{group: '', kind: ConfigMap, name: ca}], hostname: 'a b'}",
            ("False", "Invalid"),
            ("True", "ResolvedRefs"),
        ),
    ],
)
def test_unusable_references_fail_closed(
    validation: str, accepted: tuple[str, str], resolved: tuple[str, str]
) -> None:
    found = translated(SERVICES + ROUTE + policy("p", validation))
    assert policy_conditions(found, "p") == {"Accepted": accepted, "ResolvedRefs": resolved}
    upstream = upstreams(found)["/a"]
    assert upstream.unverifiable is (accepted[0] == "False")
    assert upstream.protocol is Protocol.HTTPS


def test_system_cas_and_subject_alt_names() -> None:
    system = (
        "{wellKnownCACertificates: System, hostname: abc.example.com, subjectAltNames:"
        " [{type: URI, uri: 'spiffe://abc.example.com/id'}, {type: Hostname, hostname: a.example}]}"
    )
    one = (
        "{wellKnownCACertificates: System, hostname: abc.example.com, subjectAltNames:"
        " [{type: Hostname, hostname: pod.example}]}"
    )
    found = translated(SERVICES + ROUTE + policy("p", system) + policy("q", one, section="other"))
    by_path = upstreams(found)
    assert by_path["/a"] == Upstream(
        protocol=Protocol.HTTPS,
        system_ca=True,
        identity=ServerIdentity(
            sni="abc.example.com",
            subject_alt_names=(
                SubjectAltName(type="uri", value="spiffe://abc.example.com/id"),
                SubjectAltName(type="dns", value="a.example"),
            ),
        ),
    )
    assert by_path["/b"].identity == ServerIdentity(
        sni="abc.example.com", subject_alt_names=(SubjectAltName(type="dns", value="pod.example"),)
    )
    assert found.routing.ca_bundles == ()


def test_a_policy_no_route_uses_has_no_status() -> None:
    found = translated(SERVICES + policy("p", VALID))
    assert found.gateway.policies == ()


def client_gateway(name: str, port: int, ref: str) -> str:
    return route(f"""kind: Gateway
metadata: {{name: {name}, namespace: infra, generation: 2}}
spec:
  gatewayClassName: ours
  listeners: [{{name: http, port: {port}, protocol: HTTP}}]
  tls: {{backend: {{clientCertificateRef: {ref}}}}}
""")


def gateway_conditions(translation: Translation, name: str) -> dict[str, tuple[str, str]]:
    status = next(item for item in translation.gateway.gateways if item.name == name)
    return conditions(status.conditions)


def test_a_gateway_presents_its_client_certificate_to_tls_pods_of_its_routes() -> None:
    issued = CA.issue("gateway.example")
    secret = "\n---\n" + yaml.safe_dump(tls_secret("client", *_pems(issued), namespace="infra"))
    both = ROUTE.replace("parentRefs: [{name: gw}]", "parentRefs: [{name: gw}, {name: gw2}]")
    found = translated(
        SERVICES
        + secret
        + both
        + policy("p", VALID)
        + client_gateway("gw2", 9090, "{group: '', kind: Secret, name: client}")
        + client_gateway("missing", 9091, "{group: '', kind: Secret, name: nope}")
        + client_gateway("kind", 9092, "{group: '', kind: ConfigMap, name: ca}")
        + client_gateway("other-ns", 9093, "{kind: Secret, name: client, namespace: apps}")
    )
    plain, client = upstreams(found, 8080)["/a"], upstreams(found, 9090)["/a"]
    assert plain.client_certificate is None
    assert client.client_certificate is not None
    assert client.client_certificate in {item.file for item in found.routing.certificates}
    assert client.model_copy(update={"client_certificate": None}) == plain
    assert upstreams(found, 9090)["/b"] == Upstream()  # no policy: plain HTTP, no certificate
    assert gateway_conditions(found, "gw2") == {
        "Accepted": ("True", "Accepted"),
        "Programmed": ("True", "Programmed"),
        "ResolvedRefs": ("True", "ResolvedRefs"),
    }
    for name, reason in [
        ("missing", "InvalidClientCertificateRef"),
        ("kind", "InvalidClientCertificateRef"),
        ("other-ns", "RefNotPermitted"),
    ]:
        found_conditions = gateway_conditions(found, name)
        assert found_conditions["ResolvedRefs"] == ("False", reason), name
        assert found_conditions["Accepted"] == ("True", "Accepted"), name
    assert "ResolvedRefs" not in gateway_conditions(found, "gw")
    ancestors = next(item for item in found.gateway.policies if item.name == "p").ancestors
    assert [item.ancestor.name for item in ancestors] == ["gw", "gw2"]


def _pems(issued: Issued) -> tuple[bytes, bytes]:
    return issued.chain_pem, issued.key_pem
