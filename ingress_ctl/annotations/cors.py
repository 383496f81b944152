"""CORS annotations: cross-origin requests answered at the edge.

With `cors-enable: "true"`, HAProxy answers preflight requests (OPTIONS with
Access-Control-Request-Method) itself with 204 and the allowed methods,
headers and max-age, and adds Access-Control-Allow-Origin (and -Credentials,
-Expose-Headers) to the pods' answers. Origins are `*` or exact
`scheme://host[:port]` values; an allowed origin is echoed back (so is any
origin under `*` with credentials, which browsers require). The defaults
are ingress-nginx's.
"""

from __future__ import annotations

import re

from ingress_ctl.annotations.registry import Reader, Scope, register
from ingress_ctl.annotations.values import boolean, header_name, integer, listing, origin
from ingress_ctl.model.policies import Cors

DEFAULTS = Cors()
_METHOD = re.compile(r"^[A-Z]{1,16}$")


def method(text: str) -> str:
    """An HTTP method name (letters, upper-cased)."""
    upper = text.strip().upper()
    if not _METHOD.fullmatch(upper):
        raise ValueError(f"{text[:80]!r} is not an HTTP method")
    return upper


def origins(text: str) -> tuple[str, ...]:
    """`*`, or a comma-separated list of origins."""
    found = listing(origin)(text)
    if "*" in found and len(found) > 1:
        raise ValueError("`*` cannot be combined with other origins")
    return found


def allowed_header(text: str) -> str:
    """A header name, or `*`."""
    return "*" if text.strip() == "*" else header_name(text)


ENABLE = register("cors-enable", boolean, Scope.ROUTE, default="false")
ALLOW_ORIGIN = register(
    "cors-allow-origin",
    origins,
    Scope.ROUTE,
    default="*",
)
ALLOW_METHODS = register(
    "cors-allow-methods",
    listing(method),
    Scope.ROUTE,
    default=", ".join(DEFAULTS.methods),
)
ALLOW_HEADERS = register(
    "cors-allow-headers",
    listing(allowed_header),
    Scope.ROUTE,
    default=", ".join(DEFAULTS.headers),
)
EXPOSE_HEADERS = register(
    "cors-expose-headers",
    listing(header_name),
    Scope.ROUTE,
    default="none",
)
ALLOW_CREDENTIALS = register("cors-allow-credentials", boolean, Scope.ROUTE, default="true")
MAX_AGE = register(
    "cors-max-age",
    integer(0, 2**31 - 1),
    Scope.ROUTE,
    default=str(DEFAULTS.max_age),
)
SETTINGS = (ALLOW_ORIGIN, ALLOW_METHODS, ALLOW_HEADERS, EXPOSE_HEADERS, ALLOW_CREDENTIALS, MAX_AGE)


def cors(reader: Reader) -> Cors | None:
    """The CORS policy asked for; None unless `cors-enable: "true"`."""
    if not reader.get(ENABLE):
        for key in SETTINGS:
            if reader.given(key):
                reader.complain(key, "ignored without cors-enable: true", "warning")
        return None
    return Cors(
        origins=reader.value(ALLOW_ORIGIN, DEFAULTS.origins),
        methods=reader.value(ALLOW_METHODS, DEFAULTS.methods),
        headers=reader.value(ALLOW_HEADERS, DEFAULTS.headers),
        expose=reader.value(EXPOSE_HEADERS, DEFAULTS.expose),
        credentials=reader.value(ALLOW_CREDENTIALS, DEFAULTS.credentials),
        max_age=reader.value(MAX_AGE, DEFAULTS.max_age),
    )
