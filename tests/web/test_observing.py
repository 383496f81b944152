"""HAProxy's figures as metric families: names, Service labels, per server only when asked."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric

from ingress_ctl.haproxy.stats import parse_show_stat
from ingress_ctl.model.routing import Backend, Routing, ServiceRef
from ingress_ctl.model.state import ControllerStatus
from ingress_ctl.web.observing import build_overview, haproxy_metrics

REPLY = "\n".join(
    [
        "# pxname,svname,qcur,scur,smax,stot,status,type,hrsp_2xx,hrsp_5xx,req_tot,addr,rtime",
        "http,FRONTEND,,2,5,40,OPEN,0,30,1,40,,",
        "be_shop_web_80,s1,0,1,3,20,UP,2,20,0,20,10.0.0.1:8080,4",
        "be_shop_web_80,s2,0,0,0,0,DOWN,2,,,0,10.0.0.2:8080,",
        "be_shop_web_80,s3,0,0,0,0,MAINT,2,,,,127.0.0.1:1,",
        "be_shop_web_80,BACKEND,0,1,3,20,UP,1,20,1,21,,4",
    ]
)
ROUTING = Routing(
    default_backend="builtin_404",
    default_source="built-in 404",
    backends=(
        Backend(name="be_shop_web_80", service=ServiceRef(namespace="shop", name="web", port=80)),
    ),
)


class Families:
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> list[Metric]:
        return self._families


def samples(per_server: bool = False) -> dict[str, float]:
    registry = CollectorRegistry()
    families = haproxy_metrics(parse_show_stat(REPLY), ROUTING, per_server=per_server)
    registry.register(Families(families))
    text = generate_latest(registry).decode()
    lines = (line for line in text.splitlines() if line and not line.startswith("#"))
    return {name: float(value) for name, value in (line.rsplit(" ", 1) for line in lines)}


SERVICE = 'namespace="shop",port="80",proxy="be_shop_web_80",service="web"'


def test_per_backend_with_service_labels() -> None:
    found = samples()
    assert found[f"haproxy_backend_http_requests_total{{{SERVICE}}}"] == 21
    assert found[f'haproxy_backend_http_responses_total{{code="5xx",{SERVICE}}}'] == 1
    assert found[f"haproxy_backend_response_time_average_seconds{{{SERVICE}}}"] == 0.004
    assert found['haproxy_frontend_http_requests_total{proxy="http"}'] == 40
    assert found[f'ingress_ctl_backend_servers{{{SERVICE},state="UP"}}'] == 1
    assert found[f'ingress_ctl_backend_servers{{{SERVICE},state="DOWN"}}'] == 1
    assert not any("MAINT" in name for name in found)  # the spare slot is no server
    assert not any(name.startswith("haproxy_server_") for name in found)


def server(address: str, name: str) -> str:
    """A server's labels as prometheus_client orders them (by name)."""
    return (
        f'address="{address}",namespace="shop",port="80",proxy="be_shop_web_80",'
        f'server="{name}",service="web"'
    )


def test_per_server_when_asked() -> None:
    found = samples(per_server=True)
    first = server("10.0.0.1:8080", "s1")
    assert found[f"haproxy_server_http_requests_total{{{first}}}"] == 20
    assert found[f'haproxy_server_status{{{first},state="UP"}}'] == 1
    assert found[f'haproxy_server_status{{{first},state="DOWN"}}'] == 0
    second = server("10.0.0.2:8080", "s2")
    assert found[f'haproxy_server_status{{{second},state="DOWN"}}'] == 1
    assert not any('server="s3"' in name for name in found)


def test_every_family_is_documented() -> None:
    """docs/metrics.md lists every haproxy_* family, the per-server ones included."""
    documented = (Path(__file__).resolve().parents[2] / "docs/metrics.md").read_text()
    families = haproxy_metrics(parse_show_stat(REPLY), ROUTING, per_server=True)
    exposed = {
        f"{family.name}_total" if family.type == "counter" else family.name for family in families
    }
    assert "haproxy_server_http_requests_total" in exposed
    assert {name for name in exposed if f"`{name}`" not in documented} == set()


SPARE_REPLY = "\n".join(
    [
        "# pxname,svname,qcur,scur,smax,stot,status,type,hrsp_2xx,hrsp_5xx,req_tot,addr,rtime",
        "sp_default_3,s1,0,1,3,20,UP,2,20,0,20,10.0.0.1:8080,4",
        "sp_default_3,s2,0,0,0,0,MAINT,2,,,,127.0.0.1:1,",
        "sp_default_3,BACKEND,0,1,3,20,UP,1,20,1,21,,4",
    ]
)
"""A Service that took a spare backend: HAProxy counts it under the spare's name."""
SECTIONS = {"be_shop_web_80": "sp_default_3"}


def test_a_service_on_a_spare_keeps_its_labels() -> None:
    registry = CollectorRegistry()
    rows = parse_show_stat(SPARE_REPLY)
    registry.register(Families(haproxy_metrics(rows, ROUTING, sections=SECTIONS)))
    text = generate_latest(registry).decode()
    labels = 'namespace="shop",port="80",proxy="sp_default_3",service="web"'
    assert f"haproxy_backend_http_requests_total{{{labels}}} 21.0" in text


def test_the_dataplane_names_the_section_serving_a_backend() -> None:
    report = ControllerStatus(mode="files").report()
    rows = parse_show_stat(SPARE_REPLY)
    at = datetime.now(UTC)
    [spare] = build_overview(report, ROUTING, rows, at=at, sections=SECTIONS).backends
    assert (spare.name, spare.section, spare.state, spare.total) == (
        "be_shop_web_80",
        "sp_default_3",
        "UP",
        1,
    )
    assert spare.traffic.requests == 21
    [unknown] = build_overview(report, ROUTING, None, at=at, sections=SECTIONS).backends
    assert unknown.section == "sp_default_3"
    [own] = build_overview(report, ROUTING, parse_show_stat(REPLY), at=at).backends
    assert (own.section, own.total) == ("be_shop_web_80", 2)
