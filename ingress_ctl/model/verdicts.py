"""What translation says about each Ingress: served, ignored, or partly rejected."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ingress_ctl.model.problems import Problem
from ingress_ctl.model.records import fast_init
from ingress_ctl.model.routing import ObjectRef

IngressState = Literal["serving", "ignored"]


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class BackendReport:
    """A backend an Ingress sends to: the servers HAProxy routes to, out of every endpoint."""

    name: str
    service: str
    """`namespace/name:port`."""
    ready: int
    """Servers requests go to (ready endpoints; serving, terminating ones when none is)."""
    total: int
    """Every endpoint of the Service port, ready or not."""
    reason: str = ""
    """Why it has no server: the Service or its port is missing, ..."""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class IngressReport:
    """One Ingress as /status shows it: the routes it serves, or why it is ignored."""

    source: ObjectRef
    state: IngressState
    reason: str = ""
    routes: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    backends: tuple[BackendReport, ...] = ()
    not_serving: str = ""
    """Empty when each of its backends has a server; else which do not, and why: their
    requests answer 503."""
