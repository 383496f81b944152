"""What deciding the Gateway API status writes costs after each sync, at 10,000 routes.

`GatewayStatusWriter.submit` runs on the event loop after every sync (as the leader): for
every route in the store it computes the status translation wants and compares it with
the one the API server holds, in a thread. The figures are the best of 5 submits when nothing
differs (the steady state: nothing is queued) and when every route differs (all queued),
each route holding one parent entry of ours and one of another controller, and the longest
the event loop (HAProxy's runtime updates, probes, /status) went unserved meanwhile. No
I/O: the writer is never started. Target: no stall of the loop over 100 ms.
"""

from __future__ import annotations

import asyncio
import gc
from time import perf_counter

from kubernetes_asyncio import client

from bench.reporting import report
from ingress_ctl.kube.gateway_status import desired_status
from ingress_ctl.kube.gateway_writing import GatewayStatusWriter
from ingress_ctl.metrics import Metrics
from ingress_ctl.model.conditions import (
    Condition,
    GatewayStatuses,
    ParentRef,
    ParentStatus,
    RouteStatus,
)
from ingress_ctl.model.gateway_api import GROUP
from ingress_ctl.model.objects import parse_object
from ingress_ctl.model.snapshot import Snapshot

ROUTES = 10_000
TARGET_S = 0.1
OURS, THEIRS = "ingress-ctl.io/haproxy", "example.net/other"
NOW = "2026-01-01T00:00:00Z"


def statuses(reason: str) -> GatewayStatuses:
    parent = ParentRef(group=GROUP, kind="Gateway", namespace="ns", name="gw")
    conditions = tuple(
        Condition(type=kind, status="True", reason=reason, observed_generation=1)
        for kind in ("Accepted", "ResolvedRefs")
    )
    return GatewayStatuses(
        routes=tuple(
            RouteStatus(
                kind="HTTPRoute",
                namespace="ns",
                name=f"r{index}",
                parents=(ParentStatus(parent=parent, conditions=conditions),),
            )
            for index in range(ROUTES)
        )
    )


def snapshot(held: GatewayStatuses) -> Snapshot:
    """Every route holding what `held` says, after another controller's entry."""
    theirs = desired_status(held.routes[0], {}, controller=THEIRS, now=NOW)["parents"]
    objects = []
    for route in held.routes:
        ours = desired_status(route, {}, controller=OURS, now=NOW)["parents"]
        raw = {
            "apiVersion": f"{GROUP}/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": route.name, "namespace": "ns", "resourceVersion": "1"},
            "spec": {"parentRefs": [{"name": "gw"}]},
            "status": {"parents": theirs + ours},
        }
        objects.append(parse_object(raw))
    return Snapshot.of([found for found in objects if found is not None])


async def best_submit(
    writer: GatewayStatusWriter, wanted: GatewayStatuses, held: Snapshot
) -> tuple[float, float, int]:
    """Seconds of the best submit, the longest the event loop went unserved meanwhile, and
    how many objects were queued."""
    times, stalls, queued = [], [], 0
    for _ in range(5):
        stall = [0.0]
        ticking = asyncio.create_task(tick(stall))
        started = perf_counter()
        queued = await writer.submit(wanted, held)
        times.append(perf_counter() - started)
        ticking.cancel()
        stalls.append(stall[0])
    return min(times), max(stalls), queued


async def tick(stall: list[float]) -> None:
    """Record the longest gap between 1 ms sleeps (how long the loop could not run)."""
    last = perf_counter()
    while True:
        await asyncio.sleep(0.001)
        stall[0] = max(stall[0], perf_counter() - last - 0.001)
        last = perf_counter()


async def measure() -> dict[str, object]:
    configuration = client.Configuration(host="http://127.0.0.1:9")
    async with client.ApiClient(configuration=configuration) as api:
        writer = GatewayStatusWriter(  # never started: no request is made
            api=api, metrics=Metrics(), controller_name=OURS, is_leader=lambda: True
        )
        same = statuses("Accepted")
        held = snapshot(same)
        gc.collect()
        gc.freeze()  # as `building.building` leaves what lives after a sync
        steady_s, steady_stall, steady_queued = await best_submit(writer, same, held)
        changed_s, changed_stall, changed_queued = await best_submit(
            writer, statuses("Changed"), held
        )
    return {
        "routes": ROUTES,
        "nothing_differs_s": round(steady_s, 3),
        "queued": steady_queued,
        "all_differ_s": round(changed_s, 3),
        "queued_all": changed_queued,
        "max_loop_stall_ms": round(max(steady_stall, changed_stall) * 1000, 1),
        "target": f"loop stall < {TARGET_S * 1000:.0f} ms: "
        + ("met" if max(steady_stall, changed_stall) < TARGET_S else "MISSED"),
    }


def main() -> None:
    report(
        "gateway_status",
        f"Deciding Gateway API status writes at {ROUTES:,} routes (best of 5 submits)",
        [asyncio.run(measure())],
    )


if __name__ == "__main__":
    main()
