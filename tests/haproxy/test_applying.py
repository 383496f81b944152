"""Applying on the real HAProxy: a configuration that fails never replaces a serving one.

Each test starts HAProxy through the Applier (`pipeline` fixture) on files that
route `app.test` to an echo backend, then applies something else and checks
what serves, what is on disk, what the status says and what the metrics count.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ingress_ctl.haproxy.applying import Outcome
from ingress_ctl.haproxy.rendering import Rendered
from tests.conftest import (
    EchoBackends,
    Pipeline,
    TinyFilesystem,
    echo_service,
    free_port,
    short_tmp_dir,
    tiny_filesystem,
)
from tests.manifests import Manifest, ingress, path, rule

pytestmark = pytest.mark.haproxy

ECHO_ADDRESS = "127.0.0.31"
BOGUS = "    bogus_keyword x\n"


@pytest.fixture
def v1(echo_backends: EchoBackends) -> tuple[Manifest, Manifest]:
    """Service `v1` and its EndpointSlice: the echo backend `v1`, started."""
    port = free_port(ECHO_ADDRESS)
    echo_backends.start(name="v1", host=ECHO_ADDRESS, port=port)
    return echo_service("v1", ECHO_ADDRESS, port)


@pytest.fixture
def app(pipeline: Pipeline, v1: tuple[Manifest, Manifest]) -> Rendered:
    """Files routing app.test to the echo backend `v1` (not applied yet)."""
    return pipeline.render(ingress("app", rule("app.test", path("/", "v1"))), *v1)


async def test_a_relative_state_directory_serves(
    haproxy_bin: str, v1: tuple[Manifest, Manifest], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make run` passes `--state-dir .state`: the staged check and the start must both
    find their files although HAProxy changes into its directory first."""
    with short_tmp_dir() as folder:
        monkeypatch.chdir(folder.parent)
        pipeline = Pipeline(haproxy_bin=haproxy_bin, state_dir=Path(folder.name))
        try:
            rendered = pipeline.render(ingress("app", rule("app.test", path("/", "v1"))), *v1)
            outcome = await pipeline.apply(rendered)
            assert outcome.action == "start", outcome
            assert pipeline.get("app.test").status == 200
        finally:
            await pipeline.process.stop()


def on_disk(pipeline: Pipeline, rendered: Rendered) -> dict[str, str]:
    """The state directory's version of every file of `rendered`."""
    return {name: (pipeline.state_dir / name).read_text() for name in rendered.files}


def with_config(rendered: Rendered, config: str) -> Rendered:
    return dataclasses.replace(rendered, files={**rendered.files, "haproxy.cfg": config})


def binding(pipeline: Pipeline, rendered: Rendered, port: int) -> Rendered:
    """`rendered` with HAProxy's HTTP port replaced by `port`."""
    bind = f"bind 127.0.0.1:{pipeline.port}\n"
    assert bind in rendered.files["haproxy.cfg"]
    config = rendered.files["haproxy.cfg"].replace(bind, f"bind 127.0.0.1:{port}\n")
    return with_config(rendered, config)


def metric(pipeline: Pipeline, name: str, **labels: str) -> float:
    """A sample of the pipeline's metrics; 0 when never counted."""
    return float(pipeline.metrics.registry.get_sample_value(name, labels) or 0.0)


async def test_a_config_that_fails_the_check_never_replaces_the_serving_one(
    pipeline: Pipeline, app: Rendered
) -> None:
    assert (await pipeline.apply(app)).action == "start"
    before = await pipeline.process.status()
    broken = pipeline.render(ingress("app", rule("app.test", path("/", "gone"))))
    broken = with_config(broken, broken.files["haproxy.cfg"] + BOGUS)

    outcome = await pipeline.apply(broken)

    assert outcome.action == "rejected"
    assert "unknown keyword 'bogus_keyword'" in outcome.detail
    assert pipeline.get("app.test").backend == "v1"
    assert pipeline.status.last_error is not None
    assert "bogus_keyword" in pipeline.status.last_error
    assert metric(pipeline, "ingress_ctl_config_check_failures_total") == 1
    assert on_disk(pipeline, app) == app.files
    assert (await pipeline.process.status()).reloads == before.reloads
    assert (await pipeline.apply(app)).action == "none"  # the good files are still current


async def test_identical_files_do_not_reload(pipeline: Pipeline, app: Rendered) -> None:
    await pipeline.apply(app)
    before = await pipeline.process.status()

    outcome = await pipeline.apply(dataclasses.replace(app, files=dict(app.files)))

    assert outcome.action == "none"
    after = await pipeline.process.status()
    assert (after.reloads, after.workers) == (before.reloads, before.workers)
    assert metric(pipeline, "ingress_ctl_runtime_updates_total") == 0  # nor runtime commands


LEASTCONN = {"ingress-ctl.io/load-balance": "leastconn"}
"""A backend policy that no pool of spare backends holds at first."""


def with_policy(*v1: Manifest) -> tuple[Manifest, ...]:
    """The app, and a Service `missing` (no endpoints) with a policy of its own at /missing."""
    return (
        ingress("app", rule("app.test", path("/", "v1"))),
        ingress("other", rule("app.test", path("/missing", "missing")), annotations=LEASTCONN),
        *v1,
    )


async def test_a_new_backend_without_a_spare_of_its_policy_reloads(
    pipeline: Pipeline, app: Rendered, v1: tuple[Manifest, Manifest]
) -> None:
    await pipeline.apply(app)
    before = await pipeline.process.status()
    changed = pipeline.render(*with_policy(*v1))

    outcome = await pipeline.apply(changed)

    assert outcome == Outcome("reload", "spares")
    assert (await pipeline.process.status()).reloads == before.reloads + 1
    assert metric(pipeline, "ingress_ctl_reloads_total", reason="spares") == 1
    assert pipeline.status.last_reload is not None
    assert pipeline.status.last_reload.ok
    assert pipeline.get("app.test", "/missing").status == 503
    assert pipeline.get("app.test").backend == "v1"
    assert on_disk(pipeline, changed) == changed.files


async def test_a_reload_that_does_not_take_puts_the_good_files_back(
    pipeline: Pipeline, app: Rendered, busy_port: int
) -> None:
    await pipeline.apply(app)

    outcome = await pipeline.apply(binding(pipeline, app, busy_port))  # passes `haproxy -c`

    assert outcome.action == "rejected"
    assert pipeline.get("app.test").backend == "v1"
    assert on_disk(pipeline, app) == app.files
    assert pipeline.status.last_error is not None
    assert pipeline.status.last_error.startswith("reload failed")
    assert metric(pipeline, "ingress_ctl_reload_failures_total", reason="config") == 1
    assert pipeline.status.last_reload is not None
    assert not pipeline.status.last_reload.ok
    assert metric(pipeline, "ingress_ctl_config_check_failures_total") == 0


async def test_a_first_start_that_fails_is_rejected_and_not_ready(
    pipeline: Pipeline, app: Rendered, busy_port: int
) -> None:
    outcome = await pipeline.apply(binding(pipeline, app, busy_port))

    assert outcome.action == "rejected"
    assert not pipeline.status.ready
    assert pipeline.status.last_error is not None
    assert pipeline.status.last_error.startswith("haproxy did not start")
    assert (await pipeline.apply(app)).action == "start"
    assert pipeline.status.ready
    assert pipeline.get("app.test").backend == "v1"


@contextlib.asynccontextmanager
async def serving_on_a_tiny_disk(
    haproxy_bin: str, v1: tuple[Manifest, Manifest]
) -> AsyncIterator[tuple[TinyFilesystem, Pipeline, Rendered]]:
    """HAProxy started with app.test -> v1, its state directory on a 4 MB tmpfs."""
    with tiny_filesystem() as disk:
        pipeline = Pipeline(haproxy_bin=haproxy_bin, state_dir=disk.path / "state")
        try:
            app = pipeline.render(ingress("app", rule("app.test", path("/", "v1"))), *v1)
            assert (await pipeline.apply(app)).action == "start"
            yield disk, pipeline, app
        finally:
            await pipeline.process.stop()


async def test_a_full_disk_keeps_the_last_good_config_serving_until_it_frees(
    haproxy_bin: str, v1: tuple[Manifest, Manifest]
) -> None:
    async with serving_on_a_tiny_disk(haproxy_bin, v1) as (disk, pipeline, app):
        changed = pipeline.render(*with_policy(*v1))
        disk.fill()

        outcome = await pipeline.apply(changed)

        assert (outcome.action, outcome.retry) == ("rejected", True)
        assert "No space left on device" in outcome.detail
        assert pipeline.status.last_error == outcome.detail
        assert pipeline.status.readiness() == (
            True,
            f"ready: serving the last good configuration; {outcome.detail}",
        )
        assert metric(pipeline, "ingress_ctl_apply_failures_total", stage="write") == 1
        assert pipeline.process.alive
        assert pipeline.get("app.test").backend == "v1"
        assert pipeline.get("app.test", "/missing").backend == "v1"
        assert on_disk(pipeline, app) == app.files
        disk.free()
        assert (await pipeline.apply(changed)) == Outcome("reload", "spares")
        assert pipeline.get("app.test", "/missing").status == 503
        assert on_disk(pipeline, changed) == changed.files


async def test_files_a_full_disk_kept_from_a_runtime_update_are_written_later(
    haproxy_bin: str, v1: tuple[Manifest, Manifest]
) -> None:
    async with serving_on_a_tiny_disk(haproxy_bin, v1) as (disk, pipeline, _):
        moved = pipeline.render(ingress("app", rule("app.test", path("/v1", "v1"))), *v1)
        disk.fill()

        outcome = await pipeline.apply(moved)

        assert (outcome.action, outcome.retry) == ("rejected", True)
        assert pipeline.get("app.test", "/").status == 404  # the runtime update took
        assert on_disk(pipeline, moved) != moved.files
        disk.free()
        assert await pipeline.apply(moved) == Outcome("none", "the state directory caught up")
        assert on_disk(pipeline, moved) == moved.files
        assert await pipeline.apply(moved) == Outcome("none")
