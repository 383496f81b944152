"""Session affinity annotations: a cookie that keeps a client on the server it first reached.

HAProxy inserts the cookie (`insert indirect nocache`) with the server's slot
name as its value. A slot keeps its name when its pod is replaced, so clients
of a replaced pod move to the new one. The cookie attributes are checked
values; SameSite=None without Secure is refused by browsers and warned about.
"""

from __future__ import annotations

from enum import StrEnum

from ingress_ctl.annotations.registry import Reader, Scope, register
from ingress_ctl.annotations.values import boolean, choice, cookie_name, duration, path
from ingress_ctl.model.matching import parse_host
from ingress_ctl.model.policies import Affinity, SameSite

DEFAULT_COOKIE = "INGRESSCOOKIE"


class Mode(StrEnum):
    COOKIE = "cookie"
    NONE = "none"


def domain(text: str) -> str:
    """A cookie Domain: a DNS name, optionally with a leading dot (which browsers ignore)."""
    host = parse_host(text.strip().removeprefix("."))
    if host.startswith("*"):
        raise ValueError(f"{text!r} is a wildcard; a cookie domain covers subdomains already")
    return host


def cookie_path(text: str) -> str:
    """A URL path without `;` or `,`, which would end the cookie's Path attribute."""
    found = path(text)
    if ";" in found or "," in found:
        raise ValueError(f"{text[:80]!r} holds ; or , which would end the cookie attribute")
    return found


def seconds(text: str) -> int:
    """A duration in whole seconds."""
    milliseconds = duration(text)
    if milliseconds % 1000:
        raise ValueError(f"{text!r} is not a whole number of seconds")
    return milliseconds // 1000


def same_site(text: str) -> SameSite:
    """Strict, Lax or None (any case)."""
    for member in SameSite:
        if text.strip().lower() == member.value.lower():
            return member
    raise ValueError(f"{text!r} is not one of Strict, Lax, None")


AFFINITY = register("affinity", choice(Mode), Scope.BACKEND, default="none")
NAME = register(
    "session-cookie-name",
    cookie_name,
    Scope.BACKEND,
    default=DEFAULT_COOKIE,
)
PATH = register("session-cookie-path", cookie_path, Scope.BACKEND, default="none (the request's)")
DOMAIN = register("session-cookie-domain", domain, Scope.BACKEND, default="none (the host)")
MAX_AGE = register(
    "session-cookie-max-age",
    seconds,
    Scope.BACKEND,
    default="none (a session cookie)",
)
SAME_SITE = register(
    "session-cookie-samesite",
    same_site,
    Scope.BACKEND,
    default="none (the browser's default)",
)
SECURE = register("session-cookie-secure", boolean, Scope.BACKEND, default="false")
HTTP_ONLY = register("session-cookie-httponly", boolean, Scope.BACKEND, default="true")
ATTRIBUTES = (NAME, PATH, DOMAIN, MAX_AGE, SAME_SITE, SECURE, HTTP_ONLY)


def affinity(reader: Reader) -> Affinity | None:
    """The cookie asked for; None without `affinity: cookie` (a warning if attributes are set)."""
    if reader.get(AFFINITY) is not Mode.COOKIE:
        for attribute in ATTRIBUTES:
            if reader.given(attribute):
                reader.complain(attribute, "ignored without affinity: cookie", "warning")
        return None
    found = Affinity(
        name=reader.value(NAME, DEFAULT_COOKIE),
        path=reader.get(PATH),
        domain=reader.get(DOMAIN),
        max_age=reader.get(MAX_AGE),
        same_site=reader.get(SAME_SITE),
        secure=reader.value(SECURE, False),
        http_only=reader.value(HTTP_ONLY, True),
    )
    if found.same_site is SameSite.NONE and not found.secure:
        reason = "browsers drop SameSite=None cookies without Secure: set session-cookie-secure"
        reader.complain(SAME_SITE, reason, "warning")
    return found
