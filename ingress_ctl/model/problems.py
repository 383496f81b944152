"""Problems: what was wrong with an object, where, and why.

Translation never raises on a user's mistake; it reports a problem naming
the object and the field, and serves everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ingress_ctl.model.records import fast_init
from ingress_ctl.model.routing import ObjectRef

Severity = Literal["error", "warning"]


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One thing wrong with one object; errors reject a part of it, warnings do not."""

    source: ObjectRef
    field: str
    reason: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.source}: {self.field}: {self.reason}"
