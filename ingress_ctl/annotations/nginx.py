"""ingress-nginx compatibility: `nginx.ingress.kubernetes.io/` keys mapped onto ours.

With `--nginx-compat`, each nginx key in `MAPPING` is read as one of our
annotations (its value converted where the syntax differs: nginx timeouts
are bare seconds, protocols are upper case) and then parsed by our parser;
`Similar` keys work, with semantics that `migrate` explains. Snippets and
keys with no counterpart are refused with the reason. Our own key wins over
an nginx key that maps to it; among nginx keys, the first in `MAPPING`
wins. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ingress_ctl.annotations import (
    access,
    affinity,
    auth,
    balancing,
    canary,
    cors,
    headers,
    limits,
    protocol,
    redirects,
    rewrite,
    timeouts,
)
from ingress_ctl.annotations import https as tls
from ingress_ctl.annotations.headers import UPSTREAM_VHOST
from ingress_ctl.annotations.registry import Annotation, Found, Kind, snippet_refusal
from ingress_ctl.annotations.values import MAX_SAFE_REGEX, boolean, size

PREFIX = "nginx.ingress.kubernetes.io/"

Convert = Callable[[str], str | None]
"""An nginx value in our syntax; None when it asks for our default (nothing to set)."""


def same(text: str) -> str:
    return text


def seconds(text: str) -> str:
    """nginx durations are whole seconds without a unit."""
    stripped = text.strip()
    return stripped + "s" if stripped.isascii() and stripped.isdigit() else stripped


def body_size(text: str) -> str | None:
    """`0` disables nginx's limit: our default."""
    return None if text.strip() == "0" else text


_PROTOCOLS = {"HTTP": "http", "HTTPS": "https", "GRPC": "h2c", "GRPCS": "h2"}


def backend_protocol(text: str) -> str:
    """HTTP, HTTPS, GRPC (cleartext HTTP/2) and GRPCS (HTTP/2 over TLS)."""
    found = _PROTOCOLS.get(text.strip().upper())
    if found is None:
        raise ValueError(f"{text[:40]!r}: only {', '.join(_PROTOCOLS)} are supported")
    return found


def blank_is_default(text: str) -> str | None:
    """An empty value asks for our default (as ingress-nginx reads it)."""
    return text if text.strip() else None


def forwarded_prefix(text: str) -> str | None:
    """`x-forwarded-prefix: /p` sets the request header X-Forwarded-Prefix: /p (empty: none)."""
    return f"X-Forwarded-Prefix {text.strip()}" if text.strip() else None


def buffer_size(text: str) -> None:
    """A size nginx buffers request bodies in memory with: checked, with no effect here."""
    size(text)


IDIOM = re.compile(r"^(/[A-Za-z0-9\-._~!&*+,;=:@/]*?)/?\(/\|\$\)\(\.\*\)$")
"""ingress-nginx's documented rewrite idiom: a path `L(/|$)(.*)` with rewrite-target
`/…$2`, which means the Prefix `L` with the rest of the path moved under the target."""


def idiom_prefix(path: str) -> str | None:
    """The Prefix `L` of a path `L(/|$)(.*)`, else None."""
    found = IDIOM.fullmatch(path)
    return (found[1] or "/") if found else None


def rest_capture(text: str) -> str:
    """A rewrite target whose only capture is `$2` at its end (the idiom's rest of the path),
    without it: `/$2` is our `/`, `/new/$2` our `/new/`."""
    if "$" in text and not (text.rstrip().endswith("$2") and text.count("$") == 1):
        raise ValueError(
            "capture references need regular-expression paths, which ingress-ctl does not "
            "match; only ingress-nginx's idiom (a path L(/|$)(.*) with a target ending in $2) "
            "is read; write ingress-ctl.io/path-rewrite instead"
        )
    return text.rstrip().removesuffix("$2")


def boolean_text(text: str) -> None:
    """`true` or `false`, which ask for nothing of ours."""
    boolean(text)


def only(value: str, reason: str) -> Convert:
    """A key accepted only with `value` (any case), which asks for our default behaviour."""

    def check(text: str) -> None:
        if text.strip().lower() != value:
            raise ValueError(f"{text[:40]!r}: {reason}")

    return check


def auth_type(text: str) -> str:
    if text.strip().lower() != "basic":
        raise ValueError(f"{text[:40]!r}: only basic authentication is supported")
    return "basic"


@dataclass(frozen=True)
class Mapped:
    """An nginx key read as one of our annotations (or as our default when `ours` is None)."""

    ours: Annotation[Any] | None
    convert: Convert = same
    differs: str | None = None
    """What is not identical to ingress-nginx (shown by `migrate`)."""
    implies: Mapping[str, str] = field(default_factory=dict)
    """Our keys set along with this one (unless written), e.g. a redirect's default code."""
    requires: str | None = None
    """An nginx key that must be in effect for this one to apply (a code needs its URL)."""


@dataclass(frozen=True)
class Unsupported:
    """An nginx key with no counterpart here."""

    reason: str


Rule = Mapped | Unsupported

TIMEOUT_DIFFERS = "HAProxy has one server timeout for reading and sending; the first key wins"
EXTERNAL_AUTH = "external authentication is not supported; use auth-type: basic"

MAPPING: dict[str, Rule] = {
    "ssl-redirect": Mapped(tls.SSL_REDIRECT),
    "force-ssl-redirect": Mapped(
        tls.SSL_REDIRECT,
        differs="redirects only the hosts in spec.tls (nginx forces it on hosts without TLS too)",
    ),
    "ssl-passthrough": Mapped(tls.SSL_PASSTHROUGH),
    "backend-protocol": Mapped(protocol.PROTOCOL, backend_protocol),
    "rewrite-target": Mapped(
        rewrite.TARGET,
        rest_capture,
        differs=(
            "nginx replaces the whole path the rule's regex matched (with rewrite-target / the "
            "path /api/x becomes /); ingress-ctl replaces the rule's prefix (/api/x becomes /x); "
            "the idiom L(/|$)(.*) with a target ending in $2 is the Prefix L, rewritten alike"
        ),
    ),
    "use-regex": Mapped(
        None,
        boolean_text,
        differs=(
            "paths never match as regular expressions (a regex route table is scanned on every "
            "request of every host): the rewrite idiom L(/|$)(.*) is read as the Prefix L, "
            "other regex paths are rejected and migrate names them; write the prefix each "
            "stands for, and ingress-ctl.io/path-rewrite for captures"
        ),
    ),
    "x-forwarded-prefix": Mapped(headers.REQUEST_SET, forwarded_prefix),
    "custom-headers": Mapped(
        headers.CUSTOM_HEADERS,
        differs=(
            "the ConfigMap must be in the Ingress's namespace; no global-allowed-response-headers "
            "list: names and values are checked as response-set-header's (no %, quotes, "
            "backslash; Host and framing headers refused)"
        ),
    ),
    "upstream-hash-by": Mapped(
        balancing.HASH_BY,
        differs=(
            "one variable: $remote_addr, $request_uri, $http_NAME, $cookie_NAME or $arg_NAME, "
            "hashed consistently by HAProxy (no upstream-hash-by-subset)"
        ),
    ),
    "client-body-buffer-size": Mapped(
        None,
        buffer_size,
        differs="no effect: HAProxy streams request bodies through buffers of its own",
    ),
    "server-alias": Unsupported(
        "write each alias as a host of spec.rules: an alias outside the rules would escape "
        "the checks that keep two Ingresses from claiming the same host"
    ),
    "proxy-body-size": Mapped(limits.BODY_SIZE, body_size),
    "proxy-connect-timeout": Mapped(timeouts.CONNECT, seconds),
    "proxy-read-timeout": Mapped(timeouts.SERVER, seconds, differs=TIMEOUT_DIFFERS),
    "proxy-send-timeout": Mapped(timeouts.SERVER, seconds, differs=TIMEOUT_DIFFERS),
    "allowlist-source-range": Mapped(access.ALLOW),
    "whitelist-source-range": Mapped(access.ALLOW),
    "denylist-source-range": Mapped(access.DENY),
    "affinity": Mapped(affinity.AFFINITY),
    "affinity-mode": Mapped(
        None,
        only("balanced", "only balanced: HAProxy keeps a client on its server while it lives"),
        differs="a client stays on its server until that server leaves (nginx's persistent mode)",
    ),
    "session-cookie-name": Mapped(affinity.NAME),
    "session-cookie-path": Mapped(affinity.PATH),
    "session-cookie-domain": Mapped(affinity.DOMAIN),
    "session-cookie-max-age": Mapped(affinity.MAX_AGE, seconds),
    "session-cookie-expires": Mapped(
        affinity.MAX_AGE, seconds, differs="sets Max-Age (no Expires attribute)"
    ),
    "session-cookie-samesite": Mapped(affinity.SAME_SITE),
    "session-cookie-secure": Mapped(affinity.SECURE),
    "session-cookie-change-on-failure": Unsupported(
        "a client whose server fails is balanced again by HAProxy anyway"
    ),
    "session-cookie-conditional-samesite-none": Unsupported("not supported"),
    "canary": Mapped(canary.CANARY),
    "canary-weight": Mapped(canary.WEIGHT),
    "canary-weight-total": Mapped(canary.WEIGHT_TOTAL),
    "canary-by-header": Mapped(canary.BY_HEADER),
    "canary-by-header-value": Mapped(canary.BY_HEADER_VALUE),
    "canary-by-header-pattern": Mapped(
        canary.BY_HEADER_PATTERN,
        differs=(
            "a safe regular-expression dialect: no repeated group, at most two * + {n,}, "
            f"{MAX_SAFE_REGEX} characters (HAProxy runs it on every request to the route)"
        ),
    ),
    "canary-by-cookie": Mapped(canary.BY_COOKIE),
    "affinity-canary-behavior": Mapped(canary.AFFINITY_BEHAVIOR),
    "auth-type": Mapped(auth.AUTH_TYPE, auth_type),
    "auth-secret": Mapped(
        auth.AUTH_SECRET,
        differs=(
            "the Secret must be in the Ingress's namespace; only crypt(3) hashes are taken; a "
            "missing or unusable Secret answers 401 (nginx: 503): both refuse every request"
        ),
    ),
    "auth-secret-type": Mapped(auth.AUTH_SECRET_TYPE),
    "auth-realm": Mapped(auth.AUTH_REALM),
    "auth-url": Unsupported(EXTERNAL_AUTH),
    "auth-signin": Unsupported(EXTERNAL_AUTH),
    "auth-tls-secret": Unsupported("client certificate authentication is not supported"),
    "enable-cors": Mapped(
        cors.ENABLE,
        differs=(
            "preflights need Access-Control-Request-Method (nginx answers every OPTIONS); under "
            "the origin * (the default) Access-Control-Allow-Credentials is never sent, which "
            "browsers require anyway: list the origins that may send credentials"
        ),
    ),
    "cors-allow-origin": Mapped(
        cors.ALLOW_ORIGIN,
        blank_is_default,
        differs="the origin null is refused (sandboxed pages send it); a wildcard needs two labels",
    ),
    "cors-allow-methods": Mapped(cors.ALLOW_METHODS),
    "cors-allow-headers": Mapped(cors.ALLOW_HEADERS),
    "cors-expose-headers": Mapped(cors.EXPOSE_HEADERS),
    "cors-allow-credentials": Mapped(cors.ALLOW_CREDENTIALS),
    "cors-max-age": Mapped(cors.MAX_AGE),
    "temporal-redirect": Mapped(redirects.REDIRECT, implies={redirects.REDIRECT_CODE.key: "302"}),
    "temporal-redirect-code": Mapped(redirects.REDIRECT_CODE, requires="temporal-redirect"),
    "permanent-redirect": Mapped(redirects.REDIRECT, implies={redirects.REDIRECT_CODE.key: "301"}),
    "permanent-redirect-code": Mapped(redirects.REDIRECT_CODE, requires="permanent-redirect"),
    "app-root": Mapped(redirects.APP_ROOT),
    "from-to-www-redirect": Mapped(
        redirects.FROM_TO_WWW,
        differs="the Location has no default port (nginx writes http://host:80/path)",
    ),
    "upstream-vhost": Mapped(UPSTREAM_VHOST),
    "limit-rps": Mapped(
        limits.REQUESTS,
        implies={limits.PERIOD.key: "1s", limits.STATUS.key: "503"},
        differs="no burst: nginx lets 5 times the rate through at once (limit-burst-multiplier)",
    ),
    "limit-rpm": Mapped(
        limits.REQUESTS,
        implies={limits.PERIOD.key: "1m", limits.STATUS.key: "503"},
        differs="no burst: nginx lets 5 times the rate through at once (limit-burst-multiplier)",
    ),
    "limit-connections": Mapped(limits.CONNECTIONS, implies={limits.STATUS.key: "503"}),
}
"""Every nginx key we read, in order of precedence."""

Verdict = Literal["translated", "differs", "unsupported", "refused", "overridden", "unknown"]


@dataclass(frozen=True)
class Outcome:
    """What became of one nginx key."""

    key: str
    verdict: Verdict
    ours: str | None = None
    note: str = ""


@dataclass
class Translated:
    """Our annotations as the nginx keys ask for them, and what became of each nginx key."""

    found: dict[str, Found] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)


def translate(annotations: Mapping[str, str], *, owner: Kind = "Ingress") -> Translated:
    """Read the nginx keys of `annotations` as ours (our own keys win over them)."""
    result = Translated()
    nginx = {
        key.removeprefix(PREFIX): raw for key, raw in annotations.items() if key.startswith(PREFIX)
    }
    in_effect: set[str] = set()
    for name in MAPPING:
        if name in nginx:
            _apply(result, name, nginx[name], annotations, in_effect, owner)
    for name in sorted(nginx.keys() - MAPPING.keys()):
        refusal = snippet_refusal(name)
        verdict: Verdict = "refused" if refusal else "unknown"
        result.outcomes.append(
            Outcome(PREFIX + name, verdict, note=refusal or "no ingress-ctl counterpart")
        )
    for name, rule in MAPPING.items():
        if name in in_effect and isinstance(rule, Mapped):
            for key, raw in rule.implies.items():
                if key not in result.found and key not in annotations:
                    result.found[key] = Found(raw, PREFIX + name, owner, implied=True)
    return result


def _apply(
    result: Translated,
    name: str,
    raw: str,
    annotations: Mapping[str, str],
    in_effect: set[str],
    owner: Kind,
) -> None:
    key = PREFIX + name
    rule = MAPPING[name]
    if isinstance(rule, Unsupported):
        result.outcomes.append(Outcome(key, "unsupported", note=rule.reason))
        return
    ours = rule.ours.key if rule.ours is not None else None
    if rule.requires is not None and rule.requires not in in_effect:
        note = f"ignored: {PREFIX}{rule.requires} is not in effect"
        result.outcomes.append(Outcome(key, "overridden", ours, note))
        return
    if ours is not None and (ours in annotations or ours in result.found):
        winner = ours if ours in annotations else result.found[ours].key
        result.outcomes.append(Outcome(key, "overridden", ours, f"ignored: {winner} is set"))
        return
    try:
        converted = rule.convert(raw)
    except ValueError as error:
        result.outcomes.append(Outcome(key, "unsupported", ours, str(error)))
        return
    in_effect.add(name)
    if ours is not None and converted is not None:
        result.found[ours] = Found(raw=converted, key=key, owner=owner)
    verdict: Verdict = "differs" if rule.differs else "translated"
    result.outcomes.append(Outcome(key, verdict, ours, rule.differs or ""))


def regex_paths(annotations: Mapping[str, str]) -> bool:
    """Whether ingress-nginx reads the Ingress's paths as regular expressions (use-regex, or a
    rewrite-target with a capture)."""
    regex = annotations.get(PREFIX + "use-regex", "").strip().lower() == "true"
    return regex or "$" in annotations.get(PREFIX + "rewrite-target", "")
