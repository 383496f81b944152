"""What translation says about each Ingress: served, ignored, or partly rejected."""

from __future__ import annotations

from typing import Literal

from pydantic.dataclasses import dataclass

from ingress_ctl.model.problems import Problem
from ingress_ctl.model.routing import RECORD, ObjectRef

IngressState = Literal["serving", "ignored"]


@dataclass(frozen=True, slots=True, kw_only=True, config=RECORD)
class IngressReport:
    """One Ingress as /status shows it: the routes it serves, or why it is ignored."""

    source: ObjectRef
    state: IngressState
    reason: str = ""
    routes: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
