"""The plan table of Gateway ports: which changes are runtime commands, which reload."""

from __future__ import annotations

import pytest

from ingress_ctl.haproxy.planning import Plan, plan
from ingress_ctl.haproxy.rendering import render_state
from ingress_ctl.model.gateways import GatewayPort, HTTPMatch, Split
from ingress_ctl.model.policies import Header, HeaderEdits, Policy, RoutePolicy
from ingress_ctl.model.routing import Backend, Mode, Routing
from ingress_ctl.model.settings import Settings
from ingress_ctl.translation.certificates import self_signed
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

SETTINGS = Settings()
WEB = service_backend("web", ("10.0.0.1", 8080))
API = service_backend("api", ("10.0.0.2", 8080))
OTHER = service_backend("other", ("10.0.0.3", 8080))
EDITED = service_backend(
    "web",
    ("10.0.0.1", 8080),
    policy=Policy(
        route=RoutePolicy(request_headers=HeaderEdits(set=(Header(name="x-a", value="1"),)))
    ),
)
DB = service_backend("db", ("10.0.0.4", 5432), mode=Mode.TCP)
DB2 = service_backend("db2", ("10.0.0.5", 5432), mode=Mode.TCP)
BACKENDS = (WEB, API, OTHER, DB, DB2)
BASE = (
    match("shop.example.com", "/", WEB.name),
    match("*.example.com", "/", WEB.name),
    match("", "/", OTHER.name),
)
SPLIT = split("split_web", (WEB.name, 1), (API.name, 1))
FIRST, SECOND = self_signed(names=("a.example.com",)), self_signed(names=("a.example.com",))


def routing(
    *matches: HTTPMatch,
    ports: tuple[GatewayPort, ...] = (),
    backends: tuple[Backend, ...] = BACKENDS,
    splits: tuple[Split, ...] = (SPLIT,),
) -> Routing:
    return gateway_routing(
        http_port(8080, *(matches or BASE)),
        *ports,
        backends=backends,
        splits=splits,
        certificates=(FIRST, SECOND),
    )


def step(before: Routing, after: Routing) -> Plan:
    first = render_state(before, settings=SETTINGS)
    return plan(first, render_state(after, settings=SETTINGS, previous=first.layout))


RUNTIME = [
    (
        "a path on a host",
        routing(),
        routing(match("shop.example.com", "/api", API.name), *BASE),
        (
            "add map maps/gw-routes.map gw_8080|shop.example.com/api/ be_default_api_80",
            "add map maps/gw-routes.map gw_8080|shop.example.com/api? be_default_api_80",
        ),
    ),
    (
        "a new exact host",
        routing(),
        routing(*BASE, match("new.example.com", "/", API.name)),
        ("add map maps/gw-routes.map gw_8080|new.example.com/ be_default_api_80",),
    ),
    (
        "another backend for a match",
        routing(),
        routing(match("shop.example.com", "/", API.name), *BASE[1:]),
        ("set map maps/gw-routes.map gw_8080|shop.example.com/ be_default_api_80",),
    ),
    (
        "a match to a split",
        routing(),
        routing(match("shop.example.com", "/", "split_web"), *BASE[1:]),
        ("set map maps/gw-routes.map gw_8080|shop.example.com/ split_web",),
    ),
    (
        "a wildcard host beside another",
        routing(),
        routing(*BASE[:2], match("*.example.org", "/", API.name), BASE[2]),
        (
            "add map maps/gw-routes.map gw_8080|*.example.org/ be_default_api_80",
            "add map maps/gw-hosts.map .example.org|gw_8080 *.example.org",
        ),
    ),
    (
        "a host leaves",
        routing(*BASE[:2], match("*.example.org", "/", API.name), BASE[2]),
        routing(),
        (
            "del map maps/gw-hosts.map .example.org|gw_8080",
            "del map maps/gw-routes.map gw_8080|*.example.org/",
        ),
    ),
    (
        "split weights",
        routing(),
        routing(splits=(split("split_web", (WEB.name, 3), (API.name, 0)),)),
        ("set map maps/gw-splits.map split_web 3|be_default_web_80|3",),
    ),
    (
        "a split within its slots",
        routing(),
        routing(splits=(SPLIT, split("split_two", (API.name, 1), (OTHER.name, 2)))),
        ("add map maps/gw-splits.map split_two 3|be_default_api_80|1|be_default_other_80|3",),
    ),
    (
        "a TCP port's backend",
        routing(ports=(tcp_port(9000, DB.name),)),
        routing(ports=(tcp_port(9000, DB2.name),)),
        ("set map maps/gw-streams.map gw_9000 pt_default_db2_80",),
    ),
    (
        "an SNI route",
        routing(ports=(tls_port(9443, ("a.example.com", DB.name)),)),
        routing(ports=(tls_port(9443, ("a.example.com", DB.name), ("b.example.com", DB2.name)),)),
        ("add map maps/gw-streams.map b.example.com|gw_9443 pt_default_db2_80",),
    ),
    (
        "a shorter SNI wildcard after a longer one",
        routing(ports=(tls_port(9443, ("*.a.example.com", DB.name)),)),
        routing(ports=(tls_port(9443, ("*.a.example.com", DB.name), ("*.example.com", DB2.name)),)),
        (
            "add map maps/gw-hosts.map .example.com|gw_9443 *.example.com",
            "add map maps/gw-streams.map *.example.com|gw_9443 pt_default_db2_80",
        ),
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "commands"),
    [row[1:] for row in RUNTIME],
    ids=[row[0] for row in RUNTIME],
)
def test_runtime_changes(before: Routing, after: Routing, commands: tuple[str, ...]) -> None:
    assert step(before, after) == Plan(commands=commands)


def test_certificates_beside_an_https_port_default_are_runtime_crt_list_lines() -> None:
    one = routing(ports=(https_port(8443, (("", FIRST),), *BASE),))
    both = routing(ports=(https_port(8443, (("", FIRST), ("b.example.com", SECOND)), *BASE),))
    name = "certs/gw_8443.crt-list"
    assert step(one, both) == Plan(
        commands=(f"add ssl crt-list {name} <<\n{SECOND.file} b.example.com",)
    )
    assert step(both, one) == Plan(commands=(f"del ssl crt-list {name} {SECOND.file}",))


def test_endpoints_of_a_gateway_backend_are_slots() -> None:
    moved = service_backend("web", ("10.0.0.9", 8080))
    after = routing(backends=(moved, *BACKENDS[1:]))
    assert step(routing(), after) == Plan(
        commands=("set server be_default_web_80/s1 addr 10.0.0.9 port 8080",)
    )


NESTED = (
    match("*.a.example.com", "/", API.name),
    match("*.example.com", "/", WEB.name),
)
RELOADS = [
    (
        "a conditional match",
        routing(),
        routing(match("shop.example.com", "/", API.name, method="POST"), *BASE),
        "config",
    ),
    (
        "a condition of a chain",
        routing(match("shop.example.com", "/", API.name, headers={"x-a": "1"}), *BASE),
        routing(match("shop.example.com", "/", API.name, headers={"x-a": "2"}), *BASE),
        "config",
    ),
    ("a deeper wildcard", routing(), routing(NESTED[0], *BASE), "config"),
    (
        "a wildcard the runtime map would put behind a shorter one",
        routing(*NESTED, match("", "/", OTHER.name)),
        routing(match("*.b.example.com", "/", API.name), *NESTED, match("", "/", OTHER.name)),
        "map-order",
    ),
    (
        "an SNI wildcard behind a shorter one",
        routing(ports=(tls_port(9443, ("*.example.com", DB.name)),)),
        routing(ports=(tls_port(9443, ("*.a.example.com", DB2.name), ("*.example.com", DB.name)),)),
        "map-order",
    ),
    (
        "a split larger than the slots",
        routing(),
        routing(splits=(split("split_web", (WEB.name, 1), (API.name, 1), (OTHER.name, 1)),)),
        "config",
    ),
    ("the first split", routing(splits=()), routing(), "config"),
    ("a new port", routing(), routing(ports=(tcp_port(9000, DB.name),)), "config"),
    (
        "a filter",
        routing(),
        routing(
            match("shop.example.com", "/", EDITED.name), *BASE[1:], backends=(*BACKENDS, EDITED)
        ),
        "spares",
    ),
    (
        "an HTTPS port's default certificate",
        routing(ports=(https_port(8443, (("", FIRST),), *BASE),)),
        routing(ports=(https_port(8443, (("", SECOND),), *BASE),)),
        "default-certificate",
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "reason"), [row[1:] for row in RELOADS], ids=[row[0] for row in RELOADS]
)
def test_reloads(before: Routing, after: Routing, reason: str) -> None:
    assert step(before, after) == Plan(reload=reason)


def test_a_new_service_backend_takes_a_spare() -> None:
    new = service_backend("new", ("10.0.0.7", 8080))
    after = routing(match("new.example.com", "/", new.name), *BASE, backends=(*BACKENDS, new))
    assert step(routing(), after) == Plan(
        commands=(
            "set server sp_default_1/s1 addr 10.0.0.7 port 8080",
            "set server sp_default_1/s1 weight 1",
            "set server sp_default_1/s1 state ready",
            "add map maps/gw-routes.map gw_8080|new.example.com/ sp_default_1",
        )
    )
