"""The plan table: which changes are runtime API commands and which need a reload."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ingress_ctl.planning import Plan, plan, reply_ok
from ingress_ctl.rendering import Rendered, render_state
from ingress_ctl.settings import Settings, parse_service_port
from tests.manifests import (
    Manifest,
    endpoint,
    endpoint_slice,
    ingress,
    path,
    rule,
    run,
    service,
    service_port,
)

SETTINGS = Settings()
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
    routing = run(*manifests).routing
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
            "add map maps/prefix.map b.example.com/ be_default_web_80",
            "add map maps/hosts.map b.example.com builtin_404",
        ],
    ),
    "host removed": (
        cluster(hosts=("a.example.com", "b.example.com")),
        cluster(hosts=("a.example.com",)),
        [
            "del map maps/hosts.map b.example.com",
            "del map maps/prefix.map b.example.com/",
        ],
    ),
    "path added, with a ; escaped for the socket": (
        cluster(paths=("/",)),
        cluster(paths=("/", "/x;y")),
        [
            "add map maps/exact.map a.example.com/x\\;y be_default_web_80",
            "add map maps/prefix.map a.example.com/x\\;y/ be_default_web_80",
        ],
    ),
    "path moved to another existing backend": (
        cluster(api=("10.0.0.5",), api_path_service="web"),
        cluster(api=("10.0.0.5",), api_path_service="api"),
        [
            "set map maps/exact.map api.example.com/v1 be_default_api_80",
            "set map maps/prefix.map api.example.com/v1/ be_default_api_80",
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
    "a DNS-resolved server changes": (
        cluster(external="a.example.org"),
        cluster(external="b.example.org"),
        "config",
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
