"""The plan table: which changes are runtime API commands and which need a reload."""

from __future__ import annotations

import zlib
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
    "a new Service takes a spare: servers first, then the maps name it": (
        cluster(),
        cluster(api=("10.0.0.5",), api_path_service="api"),
        [
            "set server sp_default_1/s1 addr 10.0.0.5 port 8080",
            "set server sp_default_1/s1 weight 1",
            "set server sp_default_1/s1 state ready",
            "set map maps/routes.map api.example.com/v1/ sp_default_1",
            "set map maps/routes.map api.example.com/v1? sp_default_1",
            "add map maps/routes.map api.example.com/v2/ sp_default_1",
            "add map maps/routes.map api.example.com/v2? sp_default_1",
        ],
    ),
    "a Service gone: maps first, then its servers drained (its section stays, empty)": (
        cluster(api=("10.0.0.5",), api_path_service="api"),
        cluster(),
        [
            "set map maps/routes.map api.example.com/v1/ be_default_web_80",
            "set map maps/routes.map api.example.com/v1? be_default_web_80",
            "del map maps/routes.map api.example.com/v2/",
            "del map maps/routes.map api.example.com/v2?",
            "set server be_default_api_80/s1 state maint",
            "set server be_default_api_80/s1 addr 127.0.0.1 port 1",
            "set server be_default_api_80/s1 weight 1",
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
    "a new canary backend (frontend rules name it)": (
        cluster(api=("10.0.0.5",), api_path_service="api"),
        [
            *cluster(api=("10.0.0.5",), api_path_service="api"),
            ingress(
                "canary",
                rule("api.example.com", path("/v2", "web")),
                annotations={"ingress-ctl.io/canary": "true", "ingress-ctl.io/canary-weight": "10"},
            ),
        ],
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


# --- Spare backends: new Services through pools of spares, reloads only when a pool runs out --

LEASTCONN = {"ingress-ctl.io/load-balance": "leastconn"}


def fleet(
    *names: str,
    balanced: tuple[str, ...] = (),
    timeout: str = "50s",
    annotated: dict[str, dict[str, str]] | None = None,
) -> list[Manifest]:
    """One Service (one endpoint) and one Ingress (host `<name>.example.com`) per name; the
    `balanced` ones ask for leastconn (a policy of their own), `annotated` ones for more."""
    found = [configmap("config", {"timeout-server": timeout}, namespace="ingress")]
    for name in names:
        index = zlib.crc32(name.encode()) % 60_000
        found += [
            ingress(
                name,
                rule(f"{name}.example.com", path("/", name)),
                annotations=(annotated or {}).get(name, LEASTCONN if name in balanced else None),
            ),
            service(name),
            endpoint_slice(f"{name}-1", name, endpoint(f"10.1.{index // 250}.{index % 250 + 1}")),
        ]
    return found


FLEET_SETTINGS = Settings(configmap="ingress/config")


class Walk:
    """Renders successive clusters as the controller does: each from the running layout, and
    rendered again with the pools resized when the plan says reload."""

    def __init__(self, first: list[Manifest]) -> None:
        self.current = self._render(first, None, reloading=False)
        self.plans: list[Plan] = []

    def _render(
        self, manifests: list[Manifest], previous: Rendered | None, *, reloading: bool
    ) -> Rendered:
        routing = run(*manifests, settings=FLEET_SETTINGS).routing
        layout = previous.layout if previous is not None else None
        return render_state(routing, settings=FLEET_SETTINGS, previous=layout, reloading=reloading)

    def to(self, manifests: list[Manifest]) -> Plan:
        after = self._render(manifests, self.current, reloading=False)
        found = plan(self.current, after)
        if found.reload is not None:
            after = self._render(manifests, self.current, reloading=True)
        self.current = after
        self.plans.append(found)
        return found

    def section(self, name: str) -> str:
        """The HAProxy backend serving Service `name` (port 80, default policy)."""
        return self.current.maps["maps/routes.map"][f"{name}.example.com/"]

    def spares(self, pool: str = "default") -> list[str]:
        sections = self.current.layout.pool.sections
        return [
            n for n, s in sections.items() if n.startswith(f"sp_{pool}_") and s.occupant is None
        ]


def names(count: int, prefix: str = "svc") -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(count))


def test_the_first_configuration_has_16_free_spares_of_the_default_policy() -> None:
    walk = Walk(fleet(*names(3)))
    assert len(walk.spares()) == 16
    assert walk.section("svc0") == "be_default_svc0_80"
    assert "backend sp_default_16\n" in walk.current.files["haproxy.cfg"]


def test_a_tenth_of_the_backends_in_use_when_that_is_more_rounded_up_to_a_power_of_two() -> None:
    assert len(Walk(fleet(*names(170))).spares()) == 32


def test_services_come_and_go_without_reloads_and_spares_return_to_the_pool() -> None:
    walk = Walk(fleet("web"))
    assert walk.to(fleet("web", "a")).reload is None
    assert walk.section("a") == "sp_default_1"
    assert walk.to(fleet("web", "a", "b")).reload is None
    assert walk.section("b") == "sp_default_2"
    gone = walk.to(fleet("web", "b"))
    assert gone.reload is None
    assert gone.commands[0] == "del map maps/hosts.map a.example.com"
    assert gone.commands[-3:] == (
        "set server sp_default_1/s1 state maint",
        "set server sp_default_1/s1 addr 127.0.0.1 port 1",
        "set server sp_default_1/s1 weight 1",
    )
    assert "sp_default_1" in walk.spares()
    assert walk.to(fleet("web", "b", "c")).reload is None
    assert walk.section("c") == "sp_default_1"


def test_a_service_keeps_its_spare_while_it_lives_even_across_reloads() -> None:
    walk = Walk(fleet("web"))
    walk.to(fleet("web", "a"))
    assert walk.to(fleet("web", "a", timeout="5m")) == Plan(reload="config")
    assert walk.section("a") == "sp_default_1"
    assert walk.to(fleet("web", "a", "b", timeout="5m")).reload is None
    assert walk.section("b") == "sp_default_2"


def test_a_service_that_comes_back_before_a_reload_gets_its_own_section_again() -> None:
    walk = Walk(fleet("web", "a"))
    assert walk.to(fleet("web")).reload is None
    assert "backend be_default_a_80\n" in walk.current.files["haproxy.cfg"]
    assert walk.to(fleet("web", "a")).reload is None
    assert walk.section("a") == "be_default_a_80"


def test_an_empty_section_of_a_service_gone_is_dropped_by_the_next_reload() -> None:
    walk = Walk(fleet("web", "a"))
    walk.to(fleet("web"))
    assert walk.to(fleet("web", timeout="5m")) == Plan(reload="config")
    assert "be_default_a_80" not in walk.current.files["haproxy.cfg"]


def test_a_pool_that_runs_out_doubles_by_one_reload() -> None:
    walk = Walk(fleet("web"))
    for count in range(1, 17):
        assert walk.to(fleet("web", *names(count))).reload is None
    assert walk.spares() == []
    assert walk.to(fleet("web", *names(17))) == Plan(reload="spares")
    assert walk.section("svc16") == "be_default_svc16_80"
    assert len(walk.spares()) == 32
    assert walk.section("svc3") == "sp_default_4"  # sticky through the reload
    assert walk.to(fleet("web", *names(18))).reload is None


def test_a_pool_shrinks_only_with_another_reload() -> None:
    walk = Walk(fleet(*names(320)))
    assert len(walk.spares()) == 32
    assert walk.to(fleet(*names(10))).reload is None
    assert len(walk.spares()) == 32
    assert walk.to(fleet(*names(10), timeout="5m")) == Plan(reload="config")
    assert len(walk.spares()) == 16


def test_a_service_with_a_policy_takes_a_spare_of_that_policy_when_its_pool_exists() -> None:
    walk = Walk(fleet("web", "lc", balanced=("lc",)))
    pool = walk.section("lc").rsplit("_", 1)[1]
    assert len(walk.spares(pool)) == 2
    assert walk.to(fleet("web", "lc", "lc2", balanced=("lc", "lc2"))).reload is None
    assert walk.section("lc2") == f"sp_{pool}_1"
    assert "leastconn" in walk.current.files["haproxy.cfg"].split("backend sp_" + pool + "_1\n")[1]


def test_a_policy_without_a_pool_reloads_and_makes_its_pool() -> None:
    walk = Walk(fleet("web"))
    assert walk.to(fleet("web", "lc", balanced=("lc",))) == Plan(reload="spares")
    pool = walk.section("lc").rsplit("_", 1)[1]
    assert len(walk.spares(pool)) == 2


def test_an_annotation_moving_a_service_to_a_policy_with_a_pool_is_runtime() -> None:
    walk = Walk(fleet("web", "lc", balanced=("lc",)))
    moved = walk.to(fleet("web", "lc", balanced=("lc", "web")))
    assert moved.reload is None
    assert walk.section("web").startswith("sp_")
    assert walk.to(fleet("web", "lc", balanced=("lc",))).reload is None
    assert walk.section("web") == "be_default_web_80"  # its own, empty section again


BCRYPT = "$2y$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW"


def users(name: str) -> Manifest:
    """A basic-auth Secret with one user, `name`."""
    meta = {"name": name, "namespace": "default"}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta,
            "stringData": {"auth": f"{name}:{BCRYPT}"}}  # fmt: skip


def test_a_service_with_basic_auth_leaving_keeps_the_userlists_and_reloads_nothing() -> None:
    """Userlists are printed in policy order, which changes when a policy is left only in
    the pool: their order does not count, like that of backends."""
    auth = {
        name: {"ingress-ctl.io/auth-type": "basic", "ingress-ctl.io/auth-secret": name}
        for name in ("a", "b")
    }
    secrets = [users("a"), users("b")]
    walk = Walk([*fleet("a", "b", annotated=auth), *secrets])
    gone = walk.to([*fleet("b", annotated=auth), *secrets])
    assert gone.reload is None
    assert walk.current.files["haproxy.cfg"].count("\nuserlist ") == 2


def test_a_reload_for_another_reason_with_new_services_does_not_grow_a_pool_with_spares() -> None:
    walk = Walk(fleet("web"))
    assert walk.to(fleet("web", "a", timeout="5m")) == Plan(reload="config")
    assert walk.section("a") == "be_default_a_80"
    assert len(walk.spares()) == 16


def test_a_backend_verifying_its_pods_against_a_ca_file_is_not_pooled() -> None:
    """The CA file goes with its Secret: a section kept for the pool would name a file that
    is no longer written (haproxy -c refuses it)."""
    verified = {
        "ca": {"ingress-ctl.io/backend-protocol": "https", "ingress-ctl.io/backend-ca-secret": "ca"}
    }
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "ca", "namespace": "default"},
        "stringData": {"ca.crt": CA.pem.decode()},
    }
    walk = Walk([*fleet("web", "ca", annotated=verified), secret])
    assert walk.to(fleet("web")) == Plan(reload="backends")
    assert "ca-file" not in walk.current.files["haproxy.cfg"]
