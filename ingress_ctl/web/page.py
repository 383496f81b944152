"""The status page: the HTML people read at `/` on the status port.

Rendered on the server from a Jinja2 template shipped inside the package, autoescaped (every
host, path, name and reason shown is tenant-written), with no external asset. It reads
without JavaScript; a small inline script (allowed by its hash in the Content-Security-Policy,
nothing else may run) refreshes it in place. Hosts are filtered by the `q` query parameter
(host or namespace) and shown PAGE_SIZE at a time (`page`).
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ingress_ctl.model.conditions import Condition
from ingress_ctl.model.overview import HostView, Overview
from ingress_ctl.model.state import StatusReport

TEMPLATES = Path(__file__).parent / "templates"
PAGE_SIZE = 50
"""Hosts per page."""
REFRESH_SECONDS = 5

REFRESH_SCRIPT = f"""
setInterval(function () {{
  var box = document.querySelector("input[name=q]");
  if (document.hidden || document.activeElement === box) return;
  fetch(location.href, {{headers: {{"Accept": "text/html"}}}})
    .then(function (r) {{ return r.ok ? r.text() : null; }})
    .then(function (text) {{
      if (!text) return;
      var fresh = new DOMParser().parseFromString(text, "text/html");
      ["header", "main"].forEach(function (tag) {{
        document.querySelector(tag).replaceWith(fresh.querySelector(tag));
      }});
      var root = document.documentElement;
      root.dataset.refreshed = String(Number(root.dataset.refreshed || 0) + 1);
    }}).catch(function () {{}});
}}, {REFRESH_SECONDS * 1000});
"""
SCRIPT_HASH = base64.b64encode(hashlib.sha256(REFRESH_SCRIPT.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; "
    f"script-src 'sha256-{SCRIPT_HASH}'; connect-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
"""Only the refresh script may run, and the page loads nothing from anywhere."""

_LAID_OUT = frozenset(
    {"version", "mode", "role", "started_at", "ready", "last_sync", "last_reload", "last_error"}
    | {"objects", "ingresses", "problems", "dataplane", "gateway_api"}
)
"""/status fields the page lays out itself; any other (HAProxy's restarts, version...)
shows in the list of facts."""

_ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=False,
)


class Shown(NamedTuple):
    """The hosts of one page of the filtered list."""

    hosts: tuple[HostView, ...]
    total: int
    page: int
    pages: int


def select_hosts(hosts: tuple[HostView, ...], *, query: str, page: int) -> Shown:
    """Hosts whose name contains `query` or that a namespace named `query` routes, one page."""
    needle = query.strip().lower()
    matching = (
        [host for host in hosts if needle in host.host.lower() or needle in host.namespaces]
        if needle
        else list(hosts)
    )
    pages = max(1, math.ceil(len(matching) / PAGE_SIZE))
    page = min(max(page, 1), pages)
    start = (page - 1) * PAGE_SIZE
    return Shown(tuple(matching[start : start + PAGE_SIZE]), len(matching), page, pages)


def render_page(
    report: StatusReport,
    overview: Overview,
    shown: Shown,
    *,
    query: str = "",
    at: datetime,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """The HTML of the status page showing the `shown` hosts (see select_hosts) of the
    overview; `extra` holds /status fields this page does not know."""
    return _ENVIRONMENT.get_template("status.html.j2").render(
        report=report,
        overview=overview,
        facts=_facts(extra or {}),
        role=(extra or {}).get("role"),
        uptime=_duration(at - report.started_at),
        shown=shown,
        backends={backend.name: backend for backend in overview.backends},
        certificates={cert.file: cert for cert in overview.certificates},
        problems=overview.problems,
        ignored=overview.ignored,
        query=query,
        link=lambda number: urlencode({"q": query, "page": number}),
        at=at,
        refresh_script=REFRESH_SCRIPT,
        condition_class=condition_class,
    )


TROUBLE_WHEN_TRUE = frozenset({"Conflicted"})
"""Gateway API conditions that say something is wrong when True (the others, when False)."""


def condition_class(condition: Condition) -> str:
    """The style of a Gateway API condition: UP when all is well, DOWN when not, else UNKNOWN."""
    if condition.status == "Unknown":
        return "UNKNOWN"
    well = (condition.status == "True") != (condition.type in TROUBLE_WHEN_TRUE)
    return "UP" if well else "DOWN"


def shown_backends(shown: Shown) -> set[str]:
    """The backends the shown hosts' routes reach."""
    return {route.backend for host in shown.hosts for route in host.routes}


def _facts(extra: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Scalar facts /status holds besides those the page lays out (HAProxy version, restarts,
    ...), one level of nesting flattened: `haproxy.restarts` reads `Haproxy restarts`."""
    facts: list[tuple[str, str]] = []
    for key, value in extra.items():
        if key in _LAID_OUT:
            continue
        if isinstance(value, Mapping):
            facts += [
                (f"{key} {inner}", str(item)) for inner, item in value.items() if _scalar(item)
            ]
        elif _scalar(value):
            facts.append((key, str(value)))
    return [(name.replace("_", " ").capitalize(), value) for name, value in facts]


def _scalar(value: object) -> bool:
    return value is not None and isinstance(value, str | int | float | bool)


def _duration(delta: timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {seconds}s"
