"""The global ConfigMap (`--configmap ns/name`): its keys parsed into a GlobalConfig.

Every key has one parser. A value that does not parse is a problem on
`data.<key>` naming the reason, and that setting keeps its default; an
unknown key is a warning. Cipher lists are checked against an allow-list
of OpenSSL names and then by OpenSSL itself, as HAProxy would. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ingress_ctl.annotations.values import boolean, choice, cidrs, duration, integer
from ingress_ctl.model.globals import HSTS, GlobalConfig, LogFormat, Timeouts, TLSVersion
from ingress_ctl.model.objects import ConfigMap
from ingress_ctl.model.problems import Problem
from ingress_ctl.model.routing import ObjectRef

_CIPHER = r"[!+-]?(?:[A-Za-z0-9][A-Za-z0-9_+-]*|@STRENGTH|@SECLEVEL=[0-5])"
_CIPHERS = re.compile(rf"^{_CIPHER}(?::{_CIPHER})*$")
TLS13_SUITES = frozenset(
    {
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_CCM_SHA256",
        "TLS_AES_128_CCM_8_SHA256",
    }
)
MAX_CIPHERS_LENGTH = 1024


def ciphers(text: str) -> str:
    """An OpenSSL cipher list (TLS 1.2 and older): allow-listed names that select a cipher."""
    value = text.strip()
    if len(value) > MAX_CIPHERS_LENGTH or not _CIPHERS.fullmatch(value):
        raise ValueError(
            f"{text[:80]!r} is not a ':'-separated list of OpenSSL cipher names "
            "(letters, digits, _+-, optionally prefixed by !, + or -)"
        )
    import ssl  # noqa: PLC0415 (OpenSSL's bindings: only for a ConfigMap that sets ciphers)

    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).set_ciphers(value)
    except ssl.SSLError:
        raise ValueError(f"{value!r} selects no cipher OpenSSL knows") from None
    return value


def ciphersuites(text: str) -> str:
    """TLS 1.3 cipher suites: ':'-separated names of the five that OpenSSL implements."""
    suites = text.strip().split(":")
    unknown = [suite for suite in suites if suite not in TLS13_SUITES]
    if unknown or len(set(suites)) != len(suites):
        raise ValueError(
            f"{text[:200]!r} is not a ':'-separated list of distinct TLS 1.3 suites "
            f"({', '.join(sorted(TLS13_SUITES))})"
        )
    return ":".join(suites)


def optional_duration(text: str) -> int | None:
    """A duration, or `off` (None)."""
    return None if text.strip().lower() == "off" else duration(text)


Parser = Callable[[str], Any]

KEYS: Mapping[str, tuple[tuple[str, ...], Parser]] = {
    "timeout-connect": (("timeouts", "connect"), duration),
    "timeout-client": (("timeouts", "client"), duration),
    "timeout-server": (("timeouts", "server"), duration),
    "timeout-http-request": (("timeouts", "http_request"), duration),
    "timeout-http-keep-alive": (("timeouts", "http_keep_alive"), duration),
    "timeout-tunnel": (("timeouts", "tunnel"), duration),
    "timeout-queue": (("timeouts", "queue"), duration),
    "maxconn": (("maxconn",), integer(1, 1_000_000)),
    "max-connections-per-source": (("max_connections_per_source",), integer(0, 1_000_000)),
    "nbthread": (("nbthread",), integer(1, 64)),
    "log-format": (("log_format",), choice(LogFormat)),
    "ssl-min-version": (("ssl_min_version",), choice(TLSVersion)),
    "ssl-ciphers": (("ssl_ciphers",), ciphers),
    "ssl-ciphersuites": (("ssl_ciphersuites",), ciphersuites),
    "ssl-redirect": (("ssl_redirect",), boolean),
    "hsts": (("hsts", "enabled"), boolean),
    "hsts-max-age": (("hsts", "max_age"), integer(0, 2**31 - 1)),
    "hsts-include-subdomains": (("hsts", "include_subdomains"), boolean),
    "hsts-preload": (("hsts", "preload"), boolean),
    "trusted-proxy-cidrs": (("trusted_proxy_cidrs",), cidrs),
    "use-proxy-protocol": (("use_proxy_protocol",), boolean),
    "timeout-client-hs": (("tls_handshake_timeout",), optional_duration),
    "hard-stop-after": (("hard_stop_after",), duration),
}
"""ConfigMap key -> (where in GlobalConfig, parser)."""


def global_config(
    configmap: ConfigMap | None, *, source: ObjectRef
) -> tuple[GlobalConfig, list[Problem]]:
    """The GlobalConfig a ConfigMap asks for, and a problem per key that was not taken."""
    if configmap is None:
        return GlobalConfig(), []
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {"timeouts": {}, "hsts": {}}
    problems = []
    for key, raw in sorted(configmap.data.items()):
        try:
            where, value = _parse(key, raw)
        except ValueError as error:
            problems.append(_problem(source, key, error))
            continue
        if len(where) == 2:
            nested[where[0]][where[1]] = value
        else:
            top[where[0]] = value
    config = GlobalConfig(
        timeouts=Timeouts(**nested["timeouts"]), hsts=HSTS(**nested["hsts"]), **top
    )
    return config, problems


class UnknownKey(ValueError):
    """A key that the ConfigMap does not know (a warning: everything else still applies)."""


def _parse(key: str, raw: str) -> tuple[tuple[str, ...], Any]:
    entry = KEYS.get(key)
    if entry is None:
        raise UnknownKey(f"unknown key; known keys are {', '.join(sorted(KEYS))}")
    where, parse = entry
    return where, parse(raw)


def _problem(source: ObjectRef, key: str, error: ValueError) -> Problem:
    if isinstance(error, UnknownKey):
        return Problem(source=source, field=f"data.{key}", reason=str(error), severity="warning")
    return Problem(source=source, field=f"data.{key}", reason=f"{error}; the default is kept")
