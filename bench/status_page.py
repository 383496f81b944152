"""The status page and /status at 10,000 Ingresses: what one request costs the controller.

A generated cluster (10,000 Ingresses, 3 endpoints each) is translated once; then each
figure is the best of 5 runs of what a request does: parse HAProxy's `show stat` reply
(generated for every backend and server, as HAProxy would answer), join it with the routing
model, and render the first page, a filtered page, or the /status `dataplane` JSON.
The host views are made once per routing model (as `Observer.hosts` does), so the page
costs a filter over them, one `show stat` and the join of one page's backends. Target: the
page under 1 s.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from time import perf_counter

from bench.clusters import cluster
from bench.reporting import report
from ingress_ctl.haproxy.naming import server_address, server_name
from ingress_ctl.haproxy.stats import parse_show_stat
from ingress_ctl.model.objects import parse_object
from ingress_ctl.model.routing import Routing
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import Snapshot
from ingress_ctl.model.state import ControllerStatus, now
from ingress_ctl.translation import translate
from ingress_ctl.web.observing import build_overview, dataplane, host_views
from ingress_ctl.web.page import render_page, select_hosts, shown_backends

INGRESSES = 10_000
ENDPOINTS = 3
TARGET_S = 1.0
HEADER = "# pxname,svname,qcur,scur,smax,stot,bin,bout,status,type,hrsp_2xx,hrsp_4xx,hrsp_5xx,req_tot,addr,rtime"


def show_stat(routing: Routing) -> str:
    """A `show stat` reply for every backend and server of the routing model."""
    lines = [HEADER, "http,FRONTEND,0,3,9,900,1000,2000,OPEN,0,800,50,5,900,,"]
    for backend in routing.backends:
        for index, server in enumerate(backend.servers, start=1):
            address = server_address(server.address, server.port)
            lines.append(
                f"{backend.name},{server_name(index)},0,1,2,30,10,20,UP,2,25,3,1,,{address},2"
            )
        lines.append(f"{backend.name},BACKEND,0,3,6,90,30,60,UP,1,75,9,3,90,,2")
    return "\n".join(lines) + "\n"


def best(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = perf_counter()
        work()
        times.append(perf_counter() - started)
    return min(times)


def measure(ingresses: int = INGRESSES) -> dict[str, object]:
    objects = [parse_object(raw) for raw in cluster(ingresses, endpoints=ENDPOINTS)]
    settings = Settings(bind_address="127.0.0.1")
    translation = translate(
        Snapshot.of([obj for obj in objects if obj is not None]), settings=settings
    )
    status = ControllerStatus(mode="files")
    status.ready, status.routing = True, translation.routing
    status.ingresses, status.problems = translation.ingresses, translation.problems
    reply = show_stat(translation.routing)
    report_ = status.report()

    hosts = host_views(translation.routing)  # made once per routing model, as Observer does

    def page(query: str = "") -> str:
        shown = select_hosts(hosts, query=query, page=1)
        wanted = shown_backends(shown)
        rows = parse_show_stat(reply, proxies=wanted)
        overview = build_overview(
            report_, status.routing, rows, at=now(), hosts=hosts, backends=wanted
        )
        return render_page(report_, overview, shown, query=query, at=now())

    def status_json() -> str:
        overview = build_overview(report_, status.routing, parse_show_stat(reply), at=now())
        document = report_.model_dump(mode="json") | {"dataplane": dataplane(overview)}
        return json.dumps(document)

    page_s = best(5, page)
    return {
        "ingresses": ingresses,
        "servers": ingresses * ENDPOINTS,
        "show_stat_parse_s": round(best(5, lambda: parse_show_stat(reply)), 3),
        "host_views_s": round(best(3, lambda: host_views(translation.routing)), 3),
        "page_s": round(page_s, 3),
        "filtered_page_s": round(best(5, lambda: page("host9999")), 3),
        "status_json_s": round(best(3, status_json), 3),
        "page_KB": round(len(page()) / 1024),
        "target": f"page < {TARGET_S} s: {'met' if page_s < TARGET_S else 'MISSED'}",
    }


def main() -> None:
    report(
        "status_page",
        f"Status page and /status at {INGRESSES:,} Ingresses (best of 5; show stat parse + join + render)",
        [measure()],
    )


if __name__ == "__main__":
    main()
