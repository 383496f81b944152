"""Rendering: the routing model as haproxy.cfg and map files, from Jinja2 templates.

Templates only loop and print. Every printed value passes through the escaping
function of its sink (chosen by the template's name) as the environment's
`finalize` hook, so no template can print a raw value. Output is
deterministic: the same model gives byte-identical files.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2

from ingress_ctl import escaping, naming
from ingress_ctl.matching import ANY_HOST, build_table
from ingress_ctl.routing import Routing
from ingress_ctl.settings import Settings
from ingress_ctl.slots import Layout, assign_slots

TEMPLATES = Path(
    os.environ.get("INGRESS_CTL_TEMPLATES", Path(__file__).parent.parent / "templates")
)


@cache
def _environment(finalize: Callable[[object], str]) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def _render(template: str, finalize: Callable[[object], str], **context: object) -> str:
    return _environment(finalize).get_template(template).render(**context)


@dataclass(frozen=True)
class Rendered:
    """Every file HAProxy reads, plus the values they were made from (for planning)."""

    files: dict[str, str]
    """File contents by path relative to the state directory."""
    maps: dict[str, dict[str, str]]
    """Entries of each map file, in file order."""
    layout: Layout


def render(routing: Routing, *, settings: Settings) -> dict[str, str]:
    """Every file HAProxy reads, by path relative to the state directory (fresh slots)."""
    return render_state(routing, settings=settings).files


def render_state(
    routing: Routing, *, settings: Settings, previous: Layout | None = None
) -> Rendered:
    """The files for routing, keeping the server slots of `previous` where possible."""
    table = build_table(routing)
    layout = assign_slots(routing, previous=previous)
    config = _render(
        "haproxy.cfg.j2",
        escaping.config_word,
        routing=routing,
        slots=layout.backends,
        names=naming,
        any_host=ANY_HOST,
        resolvers=any(backend.resolve for backend in routing.backends),
        http_bind=naming.server_address(str(settings.bind_address), settings.http_port),
    )
    maps = {
        naming.EXACT_MAP: {key: route.backend for key, route in table.exact.items()},
        naming.PREFIX_MAP: {key: route.backend for key, route in table.prefix},
        naming.HOSTS_MAP: dict(table.hosts),
    }
    files = {naming.CONFIG_FILE: config}
    files.update((name, _map(entries.items())) for name, entries in maps.items())
    return Rendered(files=files, maps=maps, layout=layout)


def _map(entries: Iterable[tuple[str, str]]) -> str:
    return _render("map.j2", escaping.map_word, entries=entries)
