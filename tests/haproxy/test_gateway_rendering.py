"""Golden files for Gateway ports (each checked by the real `haproxy -c`).

Set UPDATE_GOLDEN=1 to rewrite the expected files after a deliberate change.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ingress_ctl.haproxy import naming
from ingress_ctl.haproxy.rendering import render
from ingress_ctl.model.gateways import ClientValidation, ListenerCertificate
from ingress_ctl.model.policies import (
    GatewayRedirect,
    Header,
    HeaderEdits,
    PathRewrite,
    Policy,
    RoutePolicy,
)
from ingress_ctl.model.routing import Backend, CABundle, Mode, PathType, Routing
from ingress_ctl.model.settings import Settings
from ingress_ctl.translation.certificates import parse_pem
from tests.gateway_models import (
    gateway_routing,
    http_port,
    https_port,
    match,
    service_backend,
    split,
    tcp_port,
    tls_port,
)
from tests.haproxy.test_rendering import GOLDEN, assert_golden, assert_haproxy_accepts_golden

CERTIFICATE = parse_pem(
    (GOLDEN / "tls" / "fallback.pem").read_bytes(), (GOLDEN / "tls" / "fallback.pem").read_bytes()
)


def gateway_case() -> Routing:
    """Every kind of Gateway port, filter and lookup level."""
    web = service_backend("web", ("10.0.0.1", 8080), ("10.0.0.2", 8080))
    api = service_backend("api", ("10.0.0.3", 8080))
    canary = service_backend("api-canary", ("10.0.0.4", 8080))
    edited = service_backend(
        "web",
        ("10.0.0.1", 8080),
        policy=Policy(
            route=RoutePolicy(
                request_headers=HeaderEdits(
                    set=(Header(name="x-set", value="a b"),),
                    add=(Header(name="x-add", value="1"),),
                    delete=("x-gone",),
                ),
                response_headers=HeaderEdits(set=(Header(name="x-served-by", value="gw"),)),
                upstream_vhost="internal.example.com",
                rewrite=PathRewrite(regex="^/old(/.*)?$", replacement="/new\\1"),
            )
        ),
    )
    redirect = service_backend(
        "web",
        policy=Policy(
            route=RoutePolicy(gateway_redirect=GatewayRedirect(scheme="https", code=301))
        ),
    )
    moved = service_backend(
        "web",
        policy=Policy(
            route=RoutePolicy(
                gateway_redirect=GatewayRedirect(
                    hostname="new.example.com", port=8443, prefix=("/old", "/new%20"), code=308
                )
            )
        ),
    )
    passthrough = service_backend("tls", ("10.0.0.5", 8443), mode=Mode.TCP)
    database = service_backend("db", ("10.0.0.6", 5432), mode=Mode.TCP)
    broken = Backend(name="builtin_500", status=500)
    splits = (split("split_default_web", (web.name, 3), (canary.name, 1), (api.name, 0)),)
    http = http_port(
        8080,
        match("shop.example.com", "/api", api.name, PathType.EXACT),
        match(
            "shop.example.com", "/api", canary.name, headers={"x-canary": "yes"}, query={"v": "2"}
        ),
        match("shop.example.com", "/", "split_default_web", method="POST"),
        match("shop.example.com", "/", web.name),
        match("*.b.example.com", "/edit", edited.name),
        match("*.example.com", "/old", moved.name),
        match("*.example.com", "/", redirect.name),
        match("", "/broken", broken.name),
    )
    https = https_port(
        8443, (("shop.example.com", CERTIFICATE), ("", CERTIFICATE)), match("", "/", web.name)
    )
    return gateway_routing(
        http,
        https,
        tcp_port(9000, database.name),
        tls_port(9443, ("db.example.com", passthrough.name), ("*.example.com", passthrough.name)),
        backends=(web, api, canary, edited, redirect, moved, passthrough, database, broken),
        splits=splits,
        certificates=(CERTIFICATE,),
    )


def gateway_tls_case() -> Routing:
    """TLS Gateway features: listener hostnames told apart (421), a TLS port that terminates
    some names and passes others through, client certificates checked (required, optional)."""
    web = service_backend("web", ("10.0.0.1", 8080))
    stream = service_backend("db", ("10.0.0.2", 5432), mode=Mode.TCP)
    ca = CERTIFICATE.pem[CERTIFICATE.pem.index("-----BEGIN CERTIFICATE") :]
    bundle = CABundle(file=naming.certificate_file(ca.encode()), pem=ca)
    listeners = ("a.example.com", "*.example.com", "")
    mixed = tls_port(
        9443, ("db.example.com", stream.name), ("t.example.com", stream.name)
    ).model_copy(
        update={"certificates": (ListenerCertificate(host="t.example.com", file=CERTIFICATE.file),)}
    )
    mixed = mixed.model_copy(
        update={
            "sni_routes": tuple(
                replace(route, terminate=route.host == "t.example.com")
                for route in mixed.sni_routes
            )
        }
    )
    ports = [
        https_port(
            number, tuple((host, CERTIFICATE) for host in listeners), match("", "/", web.name)
        ).model_copy(
            update={
                "listener_hosts": listeners,
                "client_validation": ClientValidation(ca_file=bundle.file, optional=optional),
            }
        )
        for number, optional in ((8443, False), (8444, True))
    ]
    routing = gateway_routing(*ports, mixed, backends=(web, stream), certificates=(CERTIFICATE,))
    return routing.model_copy(update={"ca_bundles": (bundle,)})


CASES = {"gateway": gateway_case}
CASES["gateway-tls"] = gateway_tls_case


@pytest.mark.parametrize("case", sorted(CASES))
def test_gateway_rendering_matches_golden_files(case: str) -> None:
    files = render(CASES[case](), settings=Settings())
    assert_golden(case, files)
    assert naming.GATEWAY_ROUTES_MAP in files


@pytest.mark.haproxy
@pytest.mark.parametrize("case", sorted(CASES))
def test_gateway_golden_configuration_passes_haproxy_check(case: str, haproxy_bin: str) -> None:
    assert_haproxy_accepts_golden(case, haproxy_bin)
