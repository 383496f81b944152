"""BackendTLSPolicy upstreams through the real HAProxy to real TLS backends on 127.0.0.x:
the SNI sent, the CA, the name and the subjectAltNames checked."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ingress_ctl.haproxy import naming
from ingress_ctl.model.policies import (
    BackendPolicy,
    Policy,
    Protocol,
    ServerIdentity,
    SubjectAltName,
    Upstream,
)
from ingress_ctl.model.routing import CABundle
from ingress_ctl.translation.certificates import parse_pem
from tests.backends import Backend as StreamBackend
from tests.backends import running
from tests.certs import TestCA
from tests.conftest import free_port
from tests.gateway_models import gateway_routing, http_port, match, service_backend
from tests.http import request
from tests.test_gateway_haproxy import GatewayProxy, echoes, proxy  # noqa: F401

pytestmark = pytest.mark.haproxy

HOST = "127.0.0.91"
URI = "spiffe://abc.example.com/test-identity"


@contextmanager
def tls_pod(
    tmp_path: Path, ca: TestCA, seen: list[str | None], *, clients: TestCA | None = None
) -> Iterator[StreamBackend]:
    """A backend whose certificate (from `ca`) names abc.example.com and URI; records SNIs;
    with `clients`, it asks for a client certificate from that CA."""
    issued = ca.issue("abc.example.com", uris=(URI,))
    chain, key = tmp_path / "pod.crt", tmp_path / "pod.key"
    chain.write_bytes(issued.chain_pem)
    key.write_bytes(issued.key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key)
    if clients is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cadata=clients.pem.decode())
    context.sni_callback = lambda _socket, name, _context: seen.append(name)
    with running(StreamBackend("tls-pod", HOST, free_port(HOST), tls=context)) as pod:
        yield pod


def upstream(ca_file: str, sni: str = "abc.example.com", **identity: object) -> Policy:
    found = ServerIdentity.model_validate({"sni": sni, **identity})
    tls = Upstream(protocol=Protocol.HTTPS, ca_file=ca_file, identity=found)
    return Policy(backend=BackendPolicy(upstream=tls))


async def test_pods_are_verified_by_ca_name_and_subject_alt_names(
    proxy: GatewayProxy,  # noqa: F811
    tmp_path: Path,
) -> None:
    ca, wrong = TestCA(), TestCA("another CA")
    bundles = tuple(
        CABundle(file=naming.certificate_file(pem), pem=pem.decode()) for pem in (ca.pem, wrong.pem)
    )
    good, bad = (bundle.file for bundle in bundles)
    seen: list[str | None] = []
    dns = SubjectAltName(type="dns", value="abc.example.com")
    uri = SubjectAltName(type="uri", value=URI)
    other_uri = SubjectAltName(type="uri", value="spiffe://def.example.com/test-identity")
    other_dns = SubjectAltName(type="dns", value="def.example.com")
    cases = {
        "/good": upstream(good, verify_host="abc.example.com"),
        "/wrong-ca": upstream(bad, verify_host="abc.example.com"),
        "/wrong-name": upstream(
            good, sni="mismatch.example.com", verify_host="mismatch.example.com"
        ),
        "/uri": upstream(good, subject_alt_names=(uri,)),
        "/wrong-uri": upstream(good, subject_alt_names=(other_uri,)),
        "/any-of": upstream(good, subject_alt_names=(other_uri, dns)),
        "/none-of": upstream(good, subject_alt_names=(other_uri, other_dns)),
    }
    with tls_pod(tmp_path, ca, seen) as pod:
        backends = {
            path: service_backend(path.strip("/"), (HOST, pod.port), policy=policy)
            for path, policy in cases.items()
        }
        routing = gateway_routing(
            http_port(
                port := free_port(),
                *(match("", path, backend.name) for path, backend in backends.items()),
            ),
            backends=tuple(backends.values()),
        ).model_copy(update={"ca_bundles": bundles})
        await proxy.apply(routing)
        status = {path: request(port, path, host="a.example.com").status for path in cases}
    assert status == {
        "/good": 200,
        "/wrong-ca": 503,
        "/wrong-name": 503,
        "/uri": 200,
        "/wrong-uri": 502,
        "/any-of": 200,
        "/none-of": 502,
    }
    assert "abc.example.com" in seen and "mismatch.example.com" in seen


async def test_a_gateway_client_certificate_is_presented_to_pods_that_ask_for_one(
    proxy: GatewayProxy,  # noqa: F811
    tmp_path: Path,
) -> None:
    ca, clients = TestCA(), TestCA("client CA")
    bundle = CABundle(file=naming.certificate_file(ca.pem), pem=ca.pem.decode())
    issued = clients.issue("gateway.example")
    client = parse_pem(issued.chain_pem, issued.key_pem)
    verified = upstream(bundle.file, verify_host="abc.example.com").backend.upstream
    presenting = verified.model_copy(update={"client_certificate": client.file})
    cases = {"/with": presenting, "/without": verified}
    with tls_pod(tmp_path, ca, [], clients=clients) as pod:
        backends = {
            path: service_backend(
                path.strip("/"),
                (HOST, pod.port),
                policy=Policy(backend=BackendPolicy(upstream=found)),
            )
            for path, found in cases.items()
        }
        routing = gateway_routing(
            http_port(
                port := free_port(),
                *(match("", path, backend.name) for path, backend in backends.items()),
            ),
            backends=tuple(backends.values()),
            certificates=(client,),
        ).model_copy(update={"ca_bundles": (bundle,)})
        await proxy.apply(routing)
        status = {path: request(port, path, host="a.example.com").status for path in cases}
    assert status == {"/with": 200, "/without": 502}  # TLS 1.3: the pod refuses after
