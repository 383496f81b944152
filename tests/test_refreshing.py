"""The Resolver: the sync loop's ExternalNames, cached, refreshed and forgotten."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest

from ingress_ctl import syncing
from ingress_ctl.model.objects import parse_object
from ingress_ctl.refreshing import Resolver
from tests.conftest import EchoBackends, free_port
from tests.http import get_or_none, wait_for
from tests.manifests import (
    ingress,
    ingress_class,
    path,
    rule,
    service,
    service_port,
    snapshot,
)
from tests.test_resolving import OWN
from tests.test_zero_downtime import Controller


async def test_the_resolver_caches_refreshes_and_forgets() -> None:
    resolver = Resolver(own=OWN)
    first = await resolver.with_resolved(
        snapshot([service("a", external_name="localhost"), service("b", external_name="x.invalid")])
    )
    assert first.resolved["localhost"] == "resolves to 127.0.0.1, a loopback address; refused"
    assert str(first.resolved["x.invalid"]).startswith("does not resolve")
    assert resolver.names == 2
    assert await resolver.refresh() is False  # same answers
    second = await resolver.with_resolved(snapshot([service("a", external_name="localhost")]))
    assert set(second.resolved) == {"localhost"} and resolver.names == 1


class Answers(Resolver):
    """A resolver whose answers the test sets (addresses, unchecked: they are on 127.0.0.x)."""

    def __init__(self, answers: dict[str, tuple[str, ...] | str]) -> None:
        super().__init__(own=OWN)
        self.answers = answers

    async def _resolve(self, name: str) -> tuple[str, ...] | str:
        return self.answers.get(name, "does not resolve")


async def test_a_changed_answer_reaches_haproxy_without_a_reload(
    haproxy_bin: str, echo_backends: EchoBackends, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The syncing loop resolves the names again every REFRESH_S (shortened here) and
    moves the ExternalName's slot to the new address through the runtime API."""
    monkeypatch.setattr(syncing, "REFRESH_S", 0.1)
    port = free_port()
    for name, address in (("old", "127.0.0.71"), ("new", "127.0.0.72")):
        echo_backends.start(name=name, host=address, port=port)
    answers: dict[str, tuple[str, ...] | str] = {"db.example.com": ("127.0.0.71",)}
    with tempfile.TemporaryDirectory(prefix="icrs") as state:
        controller = Controller(
            haproxy_bin=haproxy_bin,
            state_dir=Path(state),
            http_port=free_port(),
            resolver=Answers(answers),
            allow_external_name=True,
        )
        objects = [
            parse_object(raw)
            for raw in (
                ingress_class(),
                ingress("ext", rule("ext.test", path("/", "db", port))),
                service("db", service_port(port), external_name="db.example.com"),
            )
        ]
        controller.store.replace_all([found for found in objects if found is not None], ())
        task = asyncio.create_task(controller.syncer.run())
        try:

            def answered_by() -> str | None:
                found = get_or_none(controller.settings.http_port, "/", host="ext.test")
                return found.backend if found is not None else None

            assert await asyncio.to_thread(wait_for, answered_by, timeout=10) == "old"
            answers["db.example.com"] = ("127.0.0.72",)
            await asyncio.to_thread(wait_for, lambda: answered_by() == "new" or None, timeout=10)
            assert controller.syncer.last_outcome is not None
            assert controller.syncer.last_outcome.action == "runtime"
        finally:
            task.cancel()
            await controller.process.stop()
