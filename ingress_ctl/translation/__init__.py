"""Translation: a pure function from a snapshot of objects to the routing model.

`translate` never raises on a user's mistake. Whatever cannot be served is
reported as a problem on the object and field that caused it; everything
else is served.
"""

from ingress_ctl.translation.translate import Translation, translate

__all__ = ["Translation", "translate"]
