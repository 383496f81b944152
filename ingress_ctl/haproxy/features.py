"""What the HAProxy in use supports, decided from its version string (`haproxy -v`).

The controller runs on Debian bookworm's 2.6 (hosts) and trixie's 3.0 (the image). The
configuration uses a newer directive only when the version says HAProxy knows it; an
unknown version gets the 2.6 configuration.
"""

from __future__ import annotations

import re

_MAJOR_MINOR = re.compile(r"^(\d+)\.(\d+)")


def major_minor(version: str | None) -> tuple[int, int] | None:
    """`(3, 0)` for `3.0.11-1+deb13u4`; None when unknown or unparsable."""
    found = _MAJOR_MINOR.match(version or "")
    return None if found is None else (int(found[1]), int(found[2]))


def idle_close_on_response(version: str | None) -> bool:
    """HAProxy ≥ 2.7 can keep idle keep-alive connections open through a soft stop until
    their next response (sent with `Connection: close`) instead of closing them under a
    client that is sending a request: no request lost when a replica stops."""
    found = major_minor(version)
    return found is not None and found >= (2, 7)
