"""Parsers of the text values of annotations and ConfigMap keys.

Each takes the raw text and returns a typed value, or raises ValueError with
a reason a user can act on. Pure. What a value may hold is decided here, once
per kind, so that no annotation ever needs escaping beyond `config_word`:

- booleans, whole numbers in a range, enumerations, IP networks;
- durations: a number with unit ms, s, m, h or d (bare numbers are ms);
- sizes: bytes with an optional `k`, `m` or `g` (powers of 1024);
- header names: an RFC 7230 token without `%` (`!#$&'*+-.^_`|~`, letters,
  digits): they are printed in log-format strings (CORS headers);
- header values, realms, cookie attributes: printable ASCII without quotes,
  backslash or `%` (HAProxy reads `%` as a log-format tag);
- URLs: `http` or `https`, a DNS name or IP address, an optional port, and a
  path and query of URL characters without `%`;
- regular expressions: a subset that Python's `re` and HAProxy's PCRE2 read
  alike: no quotes, whitespace, `%`, `#`, no `(?` other than `(?:`, no
  back-references, escapes only of punctuation and `d w s D W S`.

Control characters and newlines are refused everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import TypeVar
from urllib.parse import urlsplit

from ingress_ctl.model.matching import parse_host, parse_path

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)

MAX_TIMEOUT_MS = 2**31 - 1
"""HAProxy refuses longer timeouts (about 24.8 days)."""
_DURATION = re.compile(r"^([0-9]{1,10})(ms|s|m|h|d)?$")
_UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
MAX_CIDRS = 64

MAX_TEXT = 1024
MAX_ITEMS = 32
MAX_REGEX = 256
MAX_SIZE = 2**40
"""A terabyte: larger bodies are not limited by anyone."""

_TOKEN = re.compile(r"^[!#$&'*+\-.^_`|~0-9A-Za-z]{1,128}$")
_TEXT = re.compile(r"^[\x20-\x7e]*$")
_TEXT_FORBIDDEN = frozenset("\"'\\%")
_COOKIE_NAME = re.compile(r"^[!#$&*+\-.^_`|~0-9A-Za-z]{1,64}$")
"""A token without `%` and `'`: cookie names reach log-format strings and the config."""
_SIZE = re.compile(r"^([0-9]{1,13})([kmg]?)$")
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_REGEX_CHARS = re.compile(r"^[A-Za-z0-9/._~!$&()*+,;=:@^?|\[\]{}\\-]+$")
_REGEX_ESCAPE = re.compile(r"\\(.)")
_ESCAPABLE = frozenset("dwsDWS./\\-_~!$&()*+,;=:@^?|[]{}")
_SECRET = re.compile(
    r"^(?:([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)/)?([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)$"
)


def boolean(text: str) -> bool:
    """`true` or `false` (any case)."""
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise ValueError(f"{text!r} is not true or false")
    return lowered == "true"


def integer(low: int, high: int) -> Callable[[str], int]:
    """A parser of decimal integers from `low` to `high`."""

    def parse(text: str) -> int:
        stripped = text.strip()
        if not stripped.isascii() or not stripped.isdigit() or len(stripped) > 12:
            raise ValueError(f"{text!r} is not a whole number")
        value = int(stripped)
        if not low <= value <= high:
            raise ValueError(f"{value} is not between {low} and {high}")
        return value

    return parse


def duration(text: str) -> int:
    """A duration in milliseconds: a number with unit ms, s, m, h or d (bare numbers are ms)."""
    found = _DURATION.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"{text!r} is not a duration like 500ms, 30s, 5m, 1h or 1d")
    value = int(found[1]) * _UNIT_MS[found[2] or "ms"]
    if not 1 <= value <= MAX_TIMEOUT_MS:
        raise ValueError(f"{text!r} is not between 1ms and {MAX_TIMEOUT_MS}ms")
    return value


def choice(kind: type[E]) -> Callable[[str], E]:
    """A parser of one of an enumeration's values."""

    def parse(text: str) -> E:
        try:
            return kind(text.strip())
        except ValueError:
            allowed = ", ".join(member.value for member in kind)
            raise ValueError(f"{text!r} is not one of {allowed}") from None

    return parse


def cidrs(text: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """Comma-separated IP networks (`10.0.0.0/8`) or addresses, normalised."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if len(items) > MAX_CIDRS:
        raise ValueError(f"more than {MAX_CIDRS} networks")
    networks = []
    for item in items:
        try:
            if "%" in item:  # an IPv6 scope: meaningless to HAProxy's map_ip
                raise ValueError(item)
            networks.append(ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP network like 10.0.0.0/8") from None
    return tuple(dict.fromkeys(networks))


def listing(parse: Callable[[str], T], *, separator: str = ",") -> Callable[[str], tuple[T, ...]]:
    """A parser of `separator`-separated items (blanks skipped), each read by `parse`."""

    def parse_all(text: str) -> tuple[T, ...]:
        items = [item.strip() for item in text.split(separator) if item.strip()]
        if not items:
            raise ValueError("is empty")
        if len(items) > MAX_ITEMS:
            raise ValueError(f"has more than {MAX_ITEMS} items")
        return tuple(dict.fromkeys(parse(item) for item in items))

    return parse_all


def text(value: str) -> str:
    """Printable ASCII, at most MAX_TEXT characters, without quotes, backslash or `%`."""
    stripped = value.strip()
    if not stripped or len(stripped) > MAX_TEXT or not _TEXT.fullmatch(stripped):
        raise ValueError(f"{value[:80]!r} is not 1 to {MAX_TEXT} printable ASCII characters")
    bad = sorted(_TEXT_FORBIDDEN.intersection(stripped))
    if bad:
        raise ValueError(f"{value[:80]!r} holds {' '.join(bad)} (quotes, backslash, %)")
    return stripped


def header_name(value: str) -> str:
    """An HTTP header name (RFC 7230 token without `%`), lowercase."""
    stripped = value.strip()
    if not _TOKEN.fullmatch(stripped):
        raise ValueError(f"{value[:80]!r} is not a header name (RFC 7230 token without %)")
    return stripped.lower()


def cookie_name(value: str) -> str:
    """A cookie name: a token of at most 64 characters, without `%` or `'`."""
    stripped = value.strip()
    if not _COOKIE_NAME.fullmatch(stripped):
        raise ValueError(f"{value[:80]!r} is not a cookie name (letters, digits, -_.!#$&*+^`|~)")
    return stripped


def size(value: str) -> int:
    """Bytes: a number with an optional unit k, m or g (any case, powers of 1024)."""
    found = _SIZE.fullmatch(value.strip().lower())
    if found is None:
        raise ValueError(f"{value[:80]!r} is not a size like 512k, 10m or 1g")
    result = int(found[1]) * _SIZE_UNITS[found[2]]
    if not 1 <= result <= MAX_SIZE:
        raise ValueError(f"{value!r} is not between 1 byte and 1024g")
    return result


def path(value: str) -> str:
    """A URL path (as Ingress paths are checked), without `%`: it reaches log-format strings."""
    if not value.strip():
        raise ValueError("is empty; a path starts with '/'")
    found = parse_path(value.strip())
    if "%" in found:
        raise ValueError(f"{value[:80]!r} holds %, which this annotation cannot carry")
    return found


def host_and_port(value: str) -> str:
    """A DNS name or an IP address (IPv6 in brackets), optionally with `:port`; lowercase."""
    stripped = value.strip().lower()
    host, port = _split_port(stripped)
    if host.startswith("["):
        address = ip_address(host[1:-1]) if host.endswith("]") else None
        if address is None or address.version != 6:
            raise ValueError(f"{value[:80]!r}: only IPv6 addresses go in brackets")
        host = f"[{address}]"
    else:
        try:
            host = str(ip_address(host))
        except ValueError:
            host = parse_host(host)
            if host.startswith("*"):
                raise ValueError(f"{value[:80]!r} is a wildcard") from None
    return host if port is None else f"{host}:{port}"


def _split_port(text: str) -> tuple[str, str | None]:
    """`host` and `port` of `host[:port]` (IPv6 hosts in brackets)."""
    if text.startswith("["):
        head, bracket, tail = text.partition("]")
        host, rest = head + bracket, tail
    elif text.count(":") > 1:
        raise ValueError(f"{text[:80]!r}: IPv6 addresses go in brackets")
    else:
        host, colon, port = text.partition(":")
        rest = colon + port
    if not rest:
        return host, None
    port = rest.removeprefix(":")
    if not rest.startswith(":") or not (port.isascii() and port.isdigit()) or len(port) > 5:
        raise ValueError(f"{text[:80]!r}: {rest!r} is not a :port")
    if not 1 <= int(port) <= 65535:
        raise ValueError(f"{text[:80]!r}: port {port} is out of range")
    return host, str(int(port))


def url(value: str) -> str:
    """An absolute http(s) URL: host checked, path and query of URL characters, no `%`."""
    stripped = value.strip()
    if not _TEXT.fullmatch(stripped) or " " in stripped or len(stripped) > MAX_TEXT:
        raise ValueError(f"{value[:80]!r} is not a URL")
    parts = urlsplit(stripped)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{value[:80]!r} is not an http:// or https:// URL")
    if "@" in parts.netloc:
        raise ValueError(f"{value[:80]!r} holds user information")
    if parts.fragment or "#" in stripped:
        raise ValueError(f"{value[:80]!r} holds a fragment")
    location = f"{parts.scheme}://{host_and_port(parts.netloc)}"
    if parts.path:
        location += path(parts.path)
    if parts.query or stripped.endswith("?"):
        location += "?" + _query(parts.query)
    return location


_QUERY = re.compile(r"^[A-Za-z0-9\-._~!$&()*+,;=:@/?]*$")


def _query(query: str) -> str:
    if not _QUERY.fullmatch(query):
        raise ValueError(f"{query[:80]!r} is not a query of URL characters (without %)")
    return query


_ORIGIN = re.compile(r"^([a-z][a-z0-9+.-]{0,31})://(\*\.)?([^/?#@]+)$")


def origin(value: str) -> str:
    """A CORS origin: `*`, or `scheme://host[:port]` where the host may start with `*.` (one
    label of letters, digits and `-`, as ingress-nginx reads it); lowercase, no path."""
    stripped = value.strip().lower()
    if stripped == "*":
        return stripped
    if stripped == "null":
        raise ValueError(
            "'null' is refused: every sandboxed page and local file sends Origin: null"
        )
    found = _ORIGIN.fullmatch(stripped) if _TEXT.fullmatch(stripped) else None
    if found is None:
        raise ValueError(f"{value[:80]!r} is not an origin like https://a.example.com[:port]")
    scheme, wildcard, authority = found.groups()
    host = host_and_port(authority)
    if wildcard:
        name = host.rpartition(":")[0] if ":" in host else host
        if name.startswith("[") or _is_address(name) or "." not in name:
            raise ValueError(
                f"{value[:80]!r}: a wildcard needs a DNS name of two labels or more after *."
            )
        return f"{scheme}://*.{host}"
    return f"{scheme}://{host}"


def _is_address(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True


def regex(value: str) -> str:
    """A regular expression both Python and PCRE2 read alike (see the module docstring)."""
    stripped = value.strip()
    if not stripped or len(stripped) > MAX_REGEX or not _REGEX_CHARS.fullmatch(stripped):
        raise ValueError(
            f"{value[:80]!r} is not a regular expression of 1 to {MAX_REGEX} characters among "
            r"letters, digits and /._~!$&()*+,;=:@^?|[]{}\-"
        )
    for escaped in _REGEX_ESCAPE.findall(stripped):
        if escaped not in _ESCAPABLE:
            raise ValueError(
                f"{value[:80]!r}: \\{escaped} is not allowed (only \\d\\w\\s, \\. ...)"
            )
    if "(?" in stripped.replace("(?:", ""):
        raise ValueError(f"{value[:80]!r}: only (?: groups are allowed")
    try:
        re.compile(stripped)
    except re.error as error:
        raise ValueError(f"{value[:80]!r} is not a regular expression: {error}") from None
    return stripped


MAX_SAFE_REGEX = 128
MAX_UNBOUNDED = 2
_QUANTIFIED_GROUP = re.compile(r"\)(?:[*+]|\{)")
_UNBOUNDED = re.compile(r"(?<!\\)(?:[*+]|\{[0-9]+,\})")


def safe_regex(value: str) -> str:
    """A regular expression HAProxy may run on every request without backtracking for long:
    `regex`'s dialect, at most MAX_SAFE_REGEX characters, no group repeated (`(...)*`,
    `(...)+`, `(...){n}`; `(...)?` is fine) and at most MAX_UNBOUNDED `*`, `+` or `{n,}`."""
    found = regex(value)
    if len(found) > MAX_SAFE_REGEX:
        raise ValueError(f"{value[:80]!r} is longer than {MAX_SAFE_REGEX} characters")
    if _QUANTIFIED_GROUP.search(found):
        raise ValueError(
            f"{value[:80]!r} repeats a group, which can make matching take exponential time"
        )
    if len(_UNBOUNDED.findall(found)) > MAX_UNBOUNDED:
        raise ValueError(f"{value[:80]!r} has more than {MAX_UNBOUNDED} of * + {{n,}}")
    return found


def groups(pattern: str) -> int:
    """The capture groups of a regex that `regex` accepted."""
    return re.compile(pattern).groups


def reference(kind: str) -> Callable[[str], tuple[str | None, str]]:
    """A parser of references to an object of `kind`: `name`, or `namespace/name`."""

    def parse(value: str) -> tuple[str | None, str]:
        found = _SECRET.fullmatch(value.strip())
        if found is None:
            raise ValueError(f"{value[:80]!r} is not a {kind} name (or namespace/name)")
        return found[1], found[3]

    return parse


secret = reference("Secret")
"""A Secret reference: `name`, or `namespace/name`."""
