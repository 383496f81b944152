"""What translation says about each Ingress: served, ignored, or partly rejected."""

from __future__ import annotations

from typing import Literal

from ingress_ctl.problems import Problem
from ingress_ctl.routing import ObjectRef, Value

IngressState = Literal["serving", "ignored"]


class IngressReport(Value):
    """One Ingress as /status shows it: the routes it serves, or why it is ignored."""

    source: ObjectRef
    state: IngressState
    reason: str = ""
    routes: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
