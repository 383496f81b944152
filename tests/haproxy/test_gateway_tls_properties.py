"""Hostile values in the Gateway TLS sinks cannot inject configuration.

Listener hostnames (an HTTPS port's misdirected-request check prints them in ACLs) and the
SNI names of terminated TLS routes (map keys of the port and of its terminating frontend),
drawn from printable text of any kind or anything at all: rendering refuses the value at its
sink or makes files that `haproxy -c` accepts, with only template-made lines. The client
CA bundle and the terminating socket are named by hash, never by a tenant's text.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingress_ctl.haproxy import naming
from ingress_ctl.model.gateways import (
    ClientValidation,
    GatewayPort,
    ListenerCertificate,
    ListenerProtocol,
    SNIRoute,
)
from ingress_ctl.model.routing import CABundle, Routing
from ingress_ctl.translation.certificates import parse_pem
from tests.certs import TestCA
from tests.gateway_models import GATEWAY, ROUTE, gateway_routing, https_port, match
from tests.haproxy.test_gateway_properties import ANYTHING, PRINTABLE, STREAM, WEB, check

pytestmark = pytest.mark.haproxy

CA = TestCA()
ISSUED = CA.issue("example.org")
CERTIFICATE = parse_pem(ISSUED.chain_pem, ISSUED.key_pem)
BUNDLE = CABundle(file=naming.certificate_file(CA.pem), pem=CA.pem.decode())


def routing(hosts: list[str], sni: str, optional: bool) -> Routing:
    https = https_port(8443, (("", CERTIFICATE),), match("", "/", WEB.name)).model_copy(
        update={
            "listener_hosts": tuple(hosts),
            "client_validation": ClientValidation(ca_file=BUNDLE.file, optional=optional),
        }
    )
    tls = GatewayPort(
        gateway=GATEWAY,
        address=None,
        port=9443,
        protocol=ListenerProtocol.TLS,
        certificates=(ListenerCertificate(host="", file=CERTIFICATE.file),),
        sni_routes=(SNIRoute(host=sni, backend=STREAM.name, source=ROUTE, terminate=True),),
    )
    found = gateway_routing(https, tls, backends=(WEB, STREAM), certificates=(CERTIFICATE,))
    return found.model_copy(update={"ca_bundles": (BUNDLE,)})


def tls_routing(values: st.SearchStrategy[str]) -> st.SearchStrategy[Routing]:
    return st.builds(
        routing,
        st.lists(values, min_size=2, max_size=4, unique=True),
        values,
        st.booleans(),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(found=tls_routing(PRINTABLE))
def test_printable_listener_hostnames_and_sni_names_render_safely(
    found: Routing, haproxy_bin: str
) -> None:
    check(found, haproxy_bin)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(found=tls_routing(st.one_of(ANYTHING, st.sampled_from(("*.a.org", "", "a.org")))))
def test_any_listener_hostname_is_rendered_safely_or_refused(
    found: Routing, haproxy_bin: str
) -> None:
    check(found, haproxy_bin)


def test_a_newline_in_a_listener_hostname_is_refused(haproxy_bin: str) -> None:
    assert not check(routing(["a.org\n    http-request deny", ""], "b.org", False), haproxy_bin)
    assert check(routing(["a.org", "*.b.org", ""], "c.org", True), haproxy_bin)
