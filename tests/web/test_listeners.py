"""The status listeners: probes on --bind-address, /status and /metrics on
--status-bind-address only (real HTTP to both)."""

from __future__ import annotations

import asyncio
from ipaddress import IPv4Address

from ingress_ctl.metrics import Metrics
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.state import ControllerStatus
from ingress_ctl.web.serving import start_listeners
from tests.conftest import free_port
from tests.http import get


async def statuses(settings: Settings) -> dict[str, tuple[int | None, int | None]]:
    """For each path: its status on (bind address: status port, status address: metrics port)."""
    runners = await start_listeners(
        settings,
        status=ControllerStatus(mode="files"),
        metrics=Metrics(),
        liveness=lambda: None,
    )
    probe, internal = str(settings.bind_address), str(settings.status_bind_address)

    def one(address: str, port: int, target: str) -> int | None:
        try:
            return get(port, target, address=address, timeout=2).status
        except OSError:
            return None  # nothing listens there

    try:
        return {
            target: await asyncio.to_thread(
                lambda t=target: (  # type: ignore[misc]
                    one(probe, settings.status_port, t),
                    one(internal, settings.metrics_port, t),
                )
            )
            for target in ("/healthz", "/readyz", "/status", "/metrics")
        }
    finally:
        for runner in runners:
            await runner.cleanup()


async def test_status_and_metrics_are_not_served_on_the_probe_address() -> None:
    settings = Settings(
        bind_address=IPv4Address("127.0.0.2"),
        status_port=free_port("127.0.0.2"),
        metrics_port=free_port(),
    )  # status_bind_address: 127.0.0.1 by default
    assert await statuses(settings) == {
        "/healthz": (200, 200),
        "/readyz": (503, 503),
        "/status": (404, 200),
        "/metrics": (404, 200),
    }


async def test_one_listener_when_both_addresses_are_the_same() -> None:
    port = free_port()
    settings = Settings(bind_address=IPv4Address("127.0.0.1"), status_port=port, metrics_port=port)
    assert await statuses(settings) == {
        "/healthz": (200, 200),
        "/readyz": (503, 503),
        "/status": (200, 200),
        "/metrics": (200, 200),
    }
