"""Building the routing model and its HAProxy files, under one garbage-collector policy.

Every path that builds a model goes through `building`: the sync loop (`build`,
`rebuild`), `render`, `explain` and `migrate`, and the benchmarks. Kept apart from
`syncing` so that the commands import none of the sync loop's machinery (asyncio).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ingress_ctl.haproxy.rendering import Rendered, render_state
from ingress_ctl.haproxy.slots import Layout
from ingress_ctl.model.routing import Certificate, Routing
from ingress_ctl.model.settings import Settings
from ingress_ctl.model.snapshot import Snapshot
from ingress_ctl.translation import Translation, translate

if TYPE_CHECKING:
    from ingress_ctl.translation.incremental import Translator


@contextmanager
def building() -> Iterator[None]:
    """The garbage-collector policy of every path that builds a model (run, render, explain,
    bench): parsing, translating and rendering make millions of small objects and hold none
    in cycles, so the cyclic collector is paused; what survives is then frozen out of its
    sight, so that later collections (during the fast endpoint passes) scan only new objects
    instead of the whole model. Objects without cycles are still freed by reference counting."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def build(
    snapshot: Snapshot,
    settings: Settings,
    layout: Layout | None,
    fallback_certificate: Certificate | None = None,
    *,
    translator: Translator | None = None,
) -> tuple[Translation, Rendered]:
    """Translate (through `translator`, which patches its last result when it can) and
    render, under the `building` policy."""
    with building():
        translation = (
            translator.translate(snapshot)
            if translator is not None
            else translate(snapshot, settings=settings, fallback_certificate=fallback_certificate)
        )
        rendered = render_state(translation.routing, settings=settings, previous=layout)
    return translation, rendered


def rebuild(routing: Routing, settings: Settings, layout: Layout | None) -> Rendered:
    """Render again for a reload (pools of spare backends resized), under `building`."""
    with building():
        return render_state(routing, settings=settings, previous=layout, reloading=True)
