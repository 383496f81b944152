"""The status page's HTML: hostile values stay text, the filter and the pages."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from ingress_ctl.model.conditions import (
    Condition,
    GatewayAddressStatus,
    GatewayClassStatus,
    GatewayStatus,
    GatewayStatuses,
    ListenerStatus,
    ParentRef,
    ParentStatus,
    RouteStatus,
)
from ingress_ctl.model.overview import (
    BackendView,
    CertificateView,
    HostView,
    Overview,
    RouteView,
    ServerView,
    Traffic,
)
from ingress_ctl.model.problems import Problem
from ingress_ctl.model.routing import ObjectRef
from ingress_ctl.model.state import StatusReport
from ingress_ctl.model.verdicts import IngressReport
from ingress_ctl.web.page import PAGE_SIZE, REFRESH_SCRIPT, render_page, select_hosts

AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
TAGS = frozenset(
    [
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "header",
        "h1",
        "h2",
        "dl",
        "dt",
        "dd",
        "span",
        "main",
        "form",
        "label",
        "input",
        "button",
        "a",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "strong",
        "br",
        "small",
        "code",
        "nav",
        "p",
        "script",
        "noscript",
    ]
)
"""Every element the template makes: no value may add another."""


class Elements(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes |= {name for name, _ in attrs}
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)


def report(
    *,
    problems: tuple[Problem, ...] = (),
    ignored: str = "",
    gateway_api: GatewayStatuses | None = None,
) -> StatusReport:
    source = ObjectRef(kind="Ingress", namespace="default", name="x")
    return StatusReport(
        version="0.1.0",
        mode="files",
        started_at=AT - timedelta(hours=2),
        ready=True,
        last_sync=None,
        last_reload=None,
        last_error=None,
        haproxy_version="2.6.12-1+deb12u3",
        haproxy=None,
        objects={"Ingress": 1},
        ingresses=(IngressReport(source=source, state="ignored", reason=ignored),),
        problems=problems,
        gateway_api=gateway_api or GatewayStatuses(),
    )


def gateway_statuses(value: str) -> GatewayStatuses:
    """One class, one Gateway with a listener, one route with a parent: `value` everywhere a
    tenant's text (or translation's message about it) may go."""
    good = Condition(type="Accepted", status="True", reason=value, message=value)
    bad = Condition(type="ResolvedRefs", status="False", reason="BackendNotFound", message=value)
    conflicted = Condition(type="Conflicted", status="True", reason="HostnameConflict")
    return GatewayStatuses(
        classes=(GatewayClassStatus(name=value, conditions=(good,)),),
        gateways=(
            GatewayStatus(
                namespace="team-a",
                name=value,
                addresses=(GatewayAddressStatus(type="Hostname", value=value),),
                conditions=(good,),
                listeners=(
                    ListenerStatus(
                        name=value, supported_kinds=(), attached_routes=7, conditions=(conflicted,)
                    ),
                ),
            ),
        ),
        routes=(
            RouteStatus(
                kind="HTTPRoute",
                namespace="team-a",
                name=value,
                parents=(
                    ParentStatus(
                        parent=ParentRef(
                            group="gateway.networking.k8s.io",
                            kind="Gateway",
                            namespace="team-a",
                            name=value,
                            section_name=value,
                        ),
                        conditions=(good, bad),
                    ),
                ),
            ),
        ),
    )


def overview(value: str, hosts: int = 1) -> Overview:
    traffic = Traffic(requests=3)
    server = ServerView(name=value, address=value, state="UP", traffic=traffic)
    source = ObjectRef(kind="Ingress", namespace=value, name=value)
    return Overview(
        hosts=tuple(
            HostView(
                host=f"{value}{index}",
                routes=(
                    RouteView(
                        path=value, path_type="Prefix", backend="b", source=value, rule=value
                    ),
                ),
                namespaces=(f"team-{index % 3}",),
                certificate="c",
            )
            for index in range(hosts)
        ),
        backends=(
            BackendView(name="b", service=value, state=value, ready=1, total=1, servers=(server,)),
        ),
        certificates=(
            CertificateView(file="c", subject=value, not_after=AT, days_left=3, names=(value,)),
        ),
        problems=(Problem(source=source, field=value, reason=value),),
        ignored=(IngressReport(source=source, state="ignored", reason=value),),
        runtime_error=value,
    )


HOSTILE = st.one_of(
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "</td></tr></table><b>",
            '"><img src=x onerror=1>',
            "'",
            "&lt;",
        ]
    ),
    st.text(alphabet=st.sampled_from("<>\"'&/=; ascriptonerrorimg\n\t\x00"), max_size=40),
)


@settings(max_examples=150, deadline=None)
@given(value=HOSTILE, query=HOSTILE)
def test_hostile_values_are_text(value: str, query: str) -> None:
    shown = overview(value)
    page = select_hosts(shown.hosts, query="", page=1)
    hostile = report(ignored=value, gateway_api=gateway_statuses(value))
    html = render_page(hostile, shown, page, query=query, at=AT)
    found = Elements(html)
    assert found.tags <= TAGS
    assert not {name for name in found.attributes if name.startswith("on")}
    assert found.scripts == [REFRESH_SCRIPT]
    assert "src" not in found.attributes  # nothing is loaded from anywhere
    if value.strip() and "\x00" not in value and "\r" not in value:
        assert value in "".join(found.text)


def test_expiring_certificate_is_marked_and_days_shown() -> None:
    shown = overview("a")
    html = render_page(report(), shown, select_hosts(shown.hosts, query="", page=1), at=AT)
    assert '<td class="n expiring">3</td>' in html


def test_filter_by_host_or_namespace_and_pages() -> None:
    many = overview("host", hosts=PAGE_SIZE * 2 + 20).hosts
    first = select_hosts(many, query="", page=1)
    assert (len(first.hosts), first.total, first.pages) == (PAGE_SIZE, len(many), 3)
    last = select_hosts(many, query="", page=99)  # clamped to the last page
    assert (last.page, len(last.hosts)) == (3, 20)
    team = select_hosts(many, query="team-1", page=1)
    assert team.total == len([h for h in many if h.namespaces == ("team-1",)])
    assert select_hosts(many, query="host7", page=1).hosts[0].host == "host7"
    assert select_hosts(many, query="HOST12", page=1).total == 1  # case-insensitive


def test_links_keep_the_filter() -> None:
    shown = overview("a&b", hosts=PAGE_SIZE + 1)
    page = select_hosts(shown.hosts, query="a&b", page=1)
    html = render_page(report(), shown, page, query="a&b", at=AT)
    assert 'href="?q=a%26b&amp;page=2"' in html


def test_facts_the_page_does_not_lay_out_show_in_the_list() -> None:
    """Fields /status gains later (HAProxy's restarts...) show without a change here."""
    shown = overview("a")
    extra = report().model_dump(mode="json") | {
        "haproxy": {"restarts": 2, "last_exit": "<killed>", "nested": {"no": 1}},
        "cluster": "c1",
    }
    html = render_page(
        report(), shown, select_hosts(shown.hosts, query="", page=1), at=AT, extra=extra
    )
    assert "<dt>Haproxy restarts</dt><dd>2</dd>" in html
    assert "<dt>Haproxy last exit</dt><dd>&lt;killed&gt;</dd>" in html
    assert "<dt>Cluster</dt><dd>c1</dd>" in html
    assert "nested" not in html and "<dt>Last sync</dt>" in html
    assert html.count("<dt>Mode</dt>") == 1


def test_the_role_follows_the_mode() -> None:
    shown = overview("a")
    page = select_hosts(shown.hosts, query="", page=1)
    extra = report().model_dump(mode="json") | {"role": "follower"}
    html = render_page(report(), shown, page, at=AT, extra=extra)
    assert "<dt>Mode</dt><dd>files (follower)</dd>" in html
    assert "<dt>Role</dt>" not in html
    assert "<dt>Mode</dt><dd>files</dd>" in render_page(report(), shown, page, at=AT)


def rows(html: str, css_class: str) -> list[str]:
    """The text of each table row of a class, cells joined by `|`."""
    found = []
    for row in html.split(f'<tr class="{css_class}">')[1:]:
        cells = row.split("</tr>", 1)[0].split("</td>")[:-1]
        found.append("|".join(" ".join("".join(Elements(cell).text).split()) for cell in cells))
    return found


def test_gateways_show_addresses_listeners_and_routes_with_their_parents_conditions() -> None:
    shown = overview("a")
    page = select_hosts(shown.hosts, query="", page=1)
    html = render_page(report(gateway_api=gateway_statuses("gw")), shown, page, at=AT)
    assert '<h2 id="gateways">Gateways (1)</h2>' in html
    assert rows(html, "gateway") == [
        "team-a/gw|gw|Accepted gw: gw|gw|7|Conflicted HostnameConflict"
    ]
    assert rows(html, "gateway-route") == [
        "HTTPRoute team-a/gw|Gateway team-a/gw gw|Accepted gw: gwResolvedRefs BackendNotFound: gw"
    ]
    states = re.findall(r'<span class="state (\w+)">(\w+)</span>', html.split('id="gateways"')[1])
    assert ("UP", "Accepted") in states
    assert ("DOWN", "Conflicted") in states  # True is the trouble here
    assert ("DOWN", "ResolvedRefs") in states


def test_without_gateway_api_objects_the_page_says_nothing_of_them() -> None:
    shown = overview("a")
    html = render_page(report(), shown, select_hosts(shown.hosts, query="", page=1), at=AT)
    assert 'id="gateways"' not in html and 'id="routes"' not in html


def test_the_gateway_api_part_of_status_matches_its_schema() -> None:
    schema_file = Path(__file__).resolve().parents[2] / "docs" / "status.schema.json"
    whole = json.loads(schema_file.read_text())
    schema = {"$defs": whole["$defs"], **whole["properties"]["gateway_api"]}
    document = report(gateway_api=gateway_statuses("x")).model_dump(mode="json")["gateway_api"]
    jsonschema.validate(document, schema)
    document["routes"][0]["parents"][0]["conditions"][0]["status"] = "Maybe"
    assert not jsonschema.Draft202012Validator(schema).is_valid(document)
    assert "gateway_api" in whole["required"]
