"""Rendering: the routing model as haproxy.cfg and map files, from Jinja2 templates.

Templates only loop and print. Every printed value passes through the escaping
function of its sink (chosen by the template's name) as the environment's
`finalize` hook, so no template can print a raw value. Output is
deterministic: the same model gives byte-identical files.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

import jinja2

from ingress_ctl import escaping, naming
from ingress_ctl.matching import ANY_HOST, build_table
from ingress_ctl.routing import Routing
from ingress_ctl.settings import Settings

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


def render(routing: Routing, *, settings: Settings) -> dict[str, str]:
    """Every file HAProxy reads, by path relative to the state directory."""
    table = build_table(routing)
    config = _render(
        "haproxy.cfg.j2",
        escaping.config_word,
        routing=routing,
        names=naming,
        any_host=ANY_HOST,
        resolvers=any(backend.resolve for backend in routing.backends),
        http_bind=naming.server_address(str(settings.bind_address), settings.http_port),
    )
    return {
        naming.CONFIG_FILE: config,
        naming.EXACT_MAP: _map((key, route.backend) for key, route in table.exact.items()),
        naming.PREFIX_MAP: _map((key, route.backend) for key, route in table.prefix),
        naming.HOSTS_MAP: _map(table.hosts.items()),
    }


def _map(entries: Iterable[tuple[str, str]]) -> str:
    return _render("map.j2", escaping.map_word, entries=entries)
