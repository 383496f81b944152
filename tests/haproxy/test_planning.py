"""The plan table: which changes are runtime API commands and which need a reload."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from ingress_ctl.haproxy.planning import Plan, plan, reply_ok
from ingress_ctl.haproxy.rendering import Rendered, render_state
from ingress_ctl.model.routing import Certificate
from ingress_ctl.model.settings import Settings, parse_service_port
from ingress_ctl.translation.certificates import parse_pem, self_signed
from tests.certs import Issued, TestCA
from tests.manifests import (
    Manifest,
    configmap,
    endpoint,
    endpoint_slice,
    ingress,
    path,
    rule,
    run,
    service,
    service_port,
    tls,
    tls_secret,
)

SETTINGS = Settings()
EXTERNAL_NAMES = Settings(allow_external_name=True)
RESOLVED = {"a.example.org": ("192.0.2.1",), "b.example.org": ("192.0.2.2",)}
Cluster = Callable[..., list[Manifest]]


def cluster(
    *,
    hosts: tuple[str, ...] = ("a.example.com",),
    paths: tuple[str, ...] = ("/",),
    web: tuple[str, ...] = ("10.0.0.1",),
    api: tuple[str, ...] | None = None,
    api_path_service: str = "web",
    external: str | None = None,
) -> list[Manifest]:
    """A small cluster: Service web (and optionally api) with endpoints, one Ingress."""
    rules = [rule(host, *(path(p, "web") for p in paths)) for host in hosts]
    api_paths = [path("/v1", api_path_service)] + ([path("/v2", "api")] if api else [])
    rules.append(rule("api.example.com", *api_paths))
    found = [
        ingress("site", *rules),
        service("web"),
        endpoint_slice("web-1", "web", *(endpoint(ip) for ip in web)),
    ]
    if api is not None:
        found += [service("api"), endpoint_slice("api-1", "api", *(endpoint(ip) for ip in api))]
    if external is not None:
        found.append(service("outside", service_port(443), external_name=external))
        found.append(ingress("ext", rule("ext.example.com", path("/", "outside", 443))))
    return found


def rendered(manifests: list[Manifest], previous: Rendered | None = None) -> Rendered:
    routing = run(*manifests, settings=EXTERNAL_NAMES, resolved=RESOLVED).routing
    layout = previous.layout if previous is not None else None
    return render_state(routing, settings=SETTINGS, previous=layout)


def step(before: list[Manifest], after: list[Manifest]) -> Plan:
    first = rendered(before)
    return plan(first, rendered(after, first))


def test_the_first_configuration_starts_haproxy() -> None:
    assert plan(None, rendered(cluster())) == Plan(reload="start")


def test_nothing_changed_means_no_commands() -> None:
    assert step(cluster(), cluster()) == Plan()


RUNTIME_CASES = {
    "an ExternalName resolves elsewhere: its slot is re-addressed": (
        cluster(external="a.example.org"),
        cluster(external="b.example.org"),
        [
            "set server be_default_outside_443/s1 addr 192.0.2.2 port 443",
        ],
    ),
    "endpoint added": (
        cluster(web=("10.0.0.1",)),
        cluster(web=("10.0.0.1", "10.0.0.2")),
        [
            "set server be_default_web_80/s2 addr 10.0.0.2 port 8080",
            "set server be_default_web_80/s2 weight 1",
            "set server be_default_web_80/s2 state ready",
        ],
    ),
    "endpoint removed (or not ready any more)": (
        cluster(web=("10.0.0.1", "10.0.0.2")),
        cluster(web=("10.0.0.2",)),
        [
            "set server be_default_web_80/s1 state maint",
            "set server be_default_web_80/s1 addr 127.0.0.1 port 1",
            "set server be_default_web_80/s1 weight 1",
        ],
    ),
    "endpoint replaced: the slot is re-addressed": (
        cluster(web=("10.0.0.1",)),
        cluster(web=("10.0.0.9",)),
        ["set server be_default_web_80/s1 addr 10.0.0.9 port 8080"],
    ),
    "host added to an existing backend": (
        cluster(hosts=("a.example.com",)),
        cluster(hosts=("a.example.com", "b.example.com")),
        [
            "add map maps/routes.map b.example.com/ be_default_web_80",
            "add map maps/hosts.map b.example.com builtin_404",
        ],
    ),
    "host removed": (
        cluster(hosts=("a.example.com", "b.example.com")),
        cluster(hosts=("a.example.com",)),
        [
            "del map maps/hosts.map b.example.com",
            "del map maps/routes.map b.example.com/",
        ],
    ),
    "path added, with a ; escaped for the socket": (
        cluster(paths=("/",)),
        cluster(paths=("/", "/x;y")),
        [
            "add map maps/routes.map a.example.com/x\\;y/ be_default_web_80",
            "add map maps/routes.map a.example.com/x\\;y? be_default_web_80",
        ],
    ),
    "path moved to another existing backend": (
        cluster(api=("10.0.0.5",), api_path_service="web"),
        cluster(api=("10.0.0.5",), api_path_service="api"),
        [
            "set map maps/routes.map api.example.com/v1/ be_default_api_80",
            "set map maps/routes.map api.example.com/v1? be_default_api_80",
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(RUNTIME_CASES))
def test_runtime_changes(case: str) -> None:
    before, after, commands = RUNTIME_CASES[case]
    assert step(before, after) == Plan(commands=tuple(commands))


RELOAD_CASES = {
    "a backend outgrows its slots": (
        cluster(web=("10.0.0.1",)),
        cluster(web=tuple(f"10.0.0.{i}" for i in range(1, 6))),
        "slots",
    ),
    "a new Service backend": (
        cluster(),
        cluster(api=("10.0.0.5",), api_path_service="api"),
        "backends",
    ),
    "a backend is gone": (
        cluster(api=("10.0.0.5",), api_path_service="api"),
        cluster(),
        "backends",
    ),
}


@pytest.mark.parametrize("case", sorted(RELOAD_CASES))
def test_reload_changes(case: str) -> None:
    before, after, reason = RELOAD_CASES[case]
    assert step(before, after) == Plan(reload=reason)


def test_a_new_controller_default_backend_is_a_reload() -> None:
    first = rendered(cluster())
    other = render_state(
        run(
            *cluster(),
            settings=Settings(default_backend_service=parse_service_port("default/web:80")),
        ).routing,
        settings=SETTINGS,
        previous=first.layout,
    )
    assert plan(first, other) == Plan(reload="config")


def test_scaling_down_and_up_again_needs_no_reload() -> None:
    ten = tuple(f"10.0.0.{i}" for i in range(1, 11))
    big = rendered(cluster(web=ten))
    small = rendered(cluster(web=("10.0.0.3",)), big)
    again = rendered(cluster(web=ten), small)
    assert plan(big, small).reload is None
    assert plan(small, again).reload is None
    assert len(plan(small, again).commands) == 27


@pytest.mark.parametrize(
    ("command", "reply", "ok"),
    [
        (
            "set server b/s1 addr 10.0.0.1 port 80",
            "IP changed from '127.0.0.1' to '10.0.0.1', port changed from '1' to '80' by 'stats socket command'\n",
            True,
        ),
        (
            "set server b/s1 addr 10.0.0.1 port 80",
            "no need to change the addr, no need to change the port by 'stats socket command'\n",
            True,
        ),
        ("set server b/s1 addr 10.0.0.1 port 80", "No such server.\n", False),
        ("set server b/s1 state ready", "", True),
        ("set server b/s1 state ready", "No such server.", False),
        ("del map maps/hosts.map x", "Key not found.", False),
        ("add map maps/hosts.map x y", "", True),
    ],
)
def test_replies_are_checked(command: str, reply: str, ok: bool) -> None:
    assert reply_ok(command, reply) is ok


# --- TLS: certificates through the runtime API, default certificate and listeners by reload --

CA = TestCA()
CERTS = {name: CA.issue(name) for name in ("a.example.com", "b.example.com", "c.example.com")}
RENEWED = CA.issue("a.example.com")
BROKEN = replace(CERTS["b.example.com"], chain_pem=b"not a certificate")
FALLBACK = self_signed()
OTHER_FALLBACK = self_signed()
TLS_SETTINGS = Settings(configmap="ingress/config", tcp_services_configmap="ingress/tcp")


def tls_cluster(
    *,
    secrets: dict[str, Issued] | None = None,
    tls_hosts: dict[str, tuple[str, ...]] | None = None,
    annotations: dict[str, str] | None = None,
    config: dict[str, str] | None = None,
    passthrough: tuple[str, ...] = (),
    tcp: dict[str, str] | None = None,
    web_annotations: dict[str, str] | None = None,
) -> list[Manifest]:
    """Service web, Secret per name, one Ingress with `spec.tls` per Secret (hosts given)."""
    secrets = {"a": CERTS["a.example.com"]} if secrets is None else secrets
    tls_hosts = tls_hosts or {name: (f"{name}.example.com",) for name in secrets}
    found = [
        service("web", annotations=web_annotations),
        endpoint_slice("web-1", "web", endpoint("10.0.0.1")),
        *(tls_secret(name, cert.chain_pem, cert.key_pem) for name, cert in secrets.items()),
        ingress(
            "site",
            rule("a.example.com", path("/", "web")),
            tls=[tls(name, *hosts) for name, hosts in tls_hosts.items()],
            annotations=annotations,
        ),
        configmap("config", config or {}, namespace="ingress"),
        configmap("tcp", tcp or {}, namespace="ingress"),
    ]
    if passthrough:
        rules = [rule(host, path("/", "web")) for host in passthrough]
        found.append(ingress("pt", *rules, annotations={"ingress-ctl.io/ssl-passthrough": "true"}))
    return found


def tls_rendered(
    manifests: list[Manifest],
    previous: Rendered | None = None,
    fallback: Certificate | None = FALLBACK,
) -> Rendered:
    routing = run(*manifests, settings=TLS_SETTINGS, fallback_certificate=fallback).routing
    layout = previous.layout if previous is not None else None
    return render_state(routing, settings=TLS_SETTINGS, previous=layout)


def tls_step(
    before: list[Manifest], after: list[Manifest], *, fallback: Certificate | None = FALLBACK
) -> Plan:
    first = tls_rendered(before)
    return plan(first, tls_rendered(after, first, fallback))


def file_of(issued: Issued) -> str:
    return parse_pem(issued.chain_pem, issued.key_pem).file


def heads(found: Plan) -> list[str]:
    """The commands without their payloads (first lines)."""
    return [command.split("\n", 1)[0] for command in found.commands]


A, B = file_of(CERTS["a.example.com"]), file_of(CERTS["b.example.com"])
NEW_A = file_of(RENEWED)
POLICY = "redirect|max-age=31536000\\;includeSubDomains"
"""A tls.map value on the socket: `;` is escaped."""
CRT_LIST = "certs/https.crt-list"


def load(file: str) -> list[str]:
    return [f"new ssl cert {file}", f"set ssl cert {file} <<", f"commit ssl cert {file}"]


TLS_RUNTIME_CASES = {
    "a TLS host with a new certificate": (
        tls_cluster(),
        tls_cluster(secrets={"a": CERTS["a.example.com"], "b": CERTS["b.example.com"]}),
        [
            *load(B),
            f"add ssl crt-list {CRT_LIST} <<",
            f"add map maps/tls.map b.example.com {POLICY}",
        ],
    ),
    "a renewed certificate for an existing SNI name": (
        tls_cluster(),
        tls_cluster(secrets={"a": RENEWED}),
        [
            *load(NEW_A),
            f"add ssl crt-list {CRT_LIST} <<",
            f"del ssl crt-list {CRT_LIST} {A}",
            f"del ssl cert {A}",
        ],
    ),
    "a TLS host removed": (
        tls_cluster(secrets={"a": CERTS["a.example.com"], "b": CERTS["b.example.com"]}),
        tls_cluster(),
        [
            "del map maps/tls.map b.example.com",
            f"del ssl crt-list {CRT_LIST} {B}",
            f"del ssl cert {B}",
        ],
    ),
    "a host added to a certificate's line": (
        tls_cluster(),
        tls_cluster(tls_hosts={"a": ("a.example.com", "www.example.com")}),
        [
            f"del ssl crt-list {CRT_LIST} {A}",
            f"add ssl crt-list {CRT_LIST} <<",
            f"add map maps/tls.map www.example.com {POLICY}",
        ],
    ),
    "a TLS host whose Secret breaks falls back to the default certificate": (
        tls_cluster(secrets={"a": CERTS["a.example.com"], "b": CERTS["b.example.com"]}),
        tls_cluster(secrets={"a": CERTS["a.example.com"], "b": BROKEN}),
        [f"del ssl crt-list {CRT_LIST} {B}", f"del ssl cert {B}"],
    ),
    "HSTS and redirect switched off by annotation": (
        tls_cluster(),
        tls_cluster(
            annotations={"ingress-ctl.io/ssl-redirect": "false", "ingress-ctl.io/hsts": "false"}
        ),
        ["set map maps/tls.map a.example.com stay|none"],
    ),
    "trusted proxies changed": (
        tls_cluster(config={"trusted-proxy-cidrs": "192.168.0.0/16"}),
        tls_cluster(config={"trusted-proxy-cidrs": "10.0.0.0/8,::1"}),
        [
            "add map maps/trusted-proxies.map 10.0.0.0/8 trusted",
            "add map maps/trusted-proxies.map ::1/128 trusted",
            "del map maps/trusted-proxies.map 192.168.0.0/16",
        ],
    ),
    "a passthrough name added to an existing passthrough backend": (
        tls_cluster(passthrough=("p.example.com",)),
        tls_cluster(passthrough=("p.example.com", "q.example.com")),
        ["add map maps/passthrough.map q.example.com pt_default_web_80"],
    ),
}


@pytest.mark.parametrize("case", sorted(TLS_RUNTIME_CASES))
def test_tls_runtime_changes(case: str) -> None:
    before, after, commands = TLS_RUNTIME_CASES[case]
    found = tls_step(before, after)
    assert found.reload is None
    assert heads(found) == commands


def test_certificate_payloads_are_the_pem_and_the_crt_list_line() -> None:
    found = tls_step(tls_cluster(), tls_cluster(secrets={"a": RENEWED}))
    renewed = parse_pem(RENEWED.chain_pem, RENEWED.key_pem)
    assert found.commands[1] == f"set ssl cert {NEW_A} <<\n{renewed.pem.rstrip()}"
    assert found.commands[3] == f"add ssl crt-list {CRT_LIST} <<\n{NEW_A} a.example.com"


TLS_RELOAD_CASES = {
    "a new default certificate": (
        tls_cluster(),
        tls_cluster(),
        OTHER_FALLBACK,
        "default-certificate",
    ),
    "HTTPS turned on": (tls_cluster(secrets={}), tls_cluster(secrets={}), None, "config"),
    "a TCP service's certificate changes": (
        tls_cluster(tcp={"9000": "default/web:80", "9000.tls": "default/a"}),
        tls_cluster(
            secrets={"a": RENEWED}, tcp={"9000": "default/web:80", "9000.tls": "default/a"}
        ),
        FALLBACK,
        "config",
    ),
    "a Service starts to expect the PROXY protocol": (
        tls_cluster(),
        tls_cluster(web_annotations={"ingress-ctl.io/send-proxy-protocol": "v1"}),
        FALLBACK,
        "config",
    ),
    "a timeout": (tls_cluster(), tls_cluster(config={"timeout-server": "5m"}), FALLBACK, "config"),
    "the first trusted proxy (the X-Forwarded-* rules become conditional)": (
        tls_cluster(),
        tls_cluster(config={"trusted-proxy-cidrs": "10.0.0.0/8"}),
        FALLBACK,
        "config",
    ),
    "the last trusted proxy gone": (
        tls_cluster(config={"trusted-proxy-cidrs": "10.0.0.0/8"}),
        tls_cluster(),
        FALLBACK,
        "config",
    ),
    "the first TLS host (the redirect/HSTS rules appear)": (
        tls_cluster(secrets={}),
        tls_cluster(),
        FALLBACK,
        "config",
    ),
    "the last TLS host gone": (tls_cluster(), tls_cluster(secrets={}), FALLBACK, "config"),
    "the first passthrough name": (
        tls_cluster(),
        tls_cluster(passthrough=("p.example.com",)),
        FALLBACK,
        "backends",
    ),
}


@pytest.mark.parametrize("case", sorted(TLS_RELOAD_CASES))
def test_tls_reload_changes(case: str) -> None:
    before, after, fallback, reason = TLS_RELOAD_CASES[case]
    assert tls_step(before, after, fallback=fallback) == Plan(reload=reason)


@pytest.mark.parametrize(
    ("command", "reply", "ok"),
    [
        ("new ssl cert certs/x.pem", "New empty certificate store 'certs/x.pem'!\n", True),
        ("new ssl cert certs/x.pem", "Certificate 'certs/x.pem' already exists!\n", False),
        ("set ssl cert certs/x.pem <<\nPEM", "Transaction created for certificate x!\n", True),
        ("set ssl cert certs/x.pem <<\nPEM", "unable to load the certificate\n", False),
        ("commit ssl cert certs/x.pem", "Committing certs/x.pem\nSuccess!\n", True),
        ("commit ssl cert certs/x.pem", "inconsistencies\nCan't commit certs/x.pem!\n", False),
        ("add ssl crt-list l <<\nx a", "Inserting certificate 'x' in crt-list 'l'.\nSuccess!", True),
        ("add ssl crt-list l <<\nx a", "Can't edit the crt-list: certificate 'x' does not exist!", False),
        ("del ssl crt-list l x", "Entry 'x' deleted in crtlist 'l'!\n", True),
        ("del ssl crt-list l x", "Can't delete the entry: certificate 'x' can't be found\n", False),
        ("del ssl cert x", "Certificate 'x' deleted!\n", True),
        ("del ssl cert x", "Can't remove the certificate: certificate 'x' in use!\n", False),
    ],
)  # fmt: skip
def test_certificate_replies_are_checked(command: str, reply: str, ok: bool) -> None:
    assert reply_ok(command, reply) is ok
