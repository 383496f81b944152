"""Redirect annotations: routes that answer with a redirect instead of reaching the pods.

`redirect` sends every request of the routes to one URL with `redirect-code`
(the path is not appended). `app-root` redirects requests for `/` only.
`from-to-www-redirect` makes `www.<host>` redirect to `<host>` (or the
reverse, for rules whose host starts with `www.`), keeping path and query.
HTTPS redirects are `ssl-redirect` (annotations/https.py).
"""

from __future__ import annotations

from ingress_ctl.annotations.registry import Reader, Scope, register
from ingress_ctl.annotations.values import boolean, integer, path, url
from ingress_ctl.model.policies import Redirect

CODES = (301, 302, 303, 307, 308)


def code(text: str) -> int:
    value = integer(300, 399)(text)
    if value not in CODES:
        raise ValueError(f"{value} is not one of {', '.join(map(str, CODES))}")
    return value


REDIRECT = register(
    "redirect",
    url,
    Scope.ROUTE,
    default="none",
)
REDIRECT_CODE = register("redirect-code", code, Scope.ROUTE, default="302")
APP_ROOT = register("app-root", path, Scope.ROUTE, default="none")
FROM_TO_WWW = register("from-to-www-redirect", boolean, Scope.INGRESS, default="false")


def redirect(reader: Reader) -> Redirect | None:
    location = reader.get(REDIRECT)
    if location is None:
        if reader.given(REDIRECT_CODE):
            reader.complain(REDIRECT_CODE, "ignored without redirect", "warning")
        return None
    return Redirect(location=location, code=reader.value(REDIRECT_CODE, 302))


def app_root(reader: Reader) -> str | None:
    found = reader.get(APP_ROOT)
    if found == "/":
        reader.complain(APP_ROOT, "ignored: / would redirect to itself", "warning")
        return None
    return found


def from_to_www(reader: Reader) -> bool:
    return reader.value(FROM_TO_WWW, False)
