"""Parsers for the text values of annotations and ConfigMap keys.

Each takes the raw string and returns a typed value, or raises ValueError
with a reason a user can act on. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)

MAX_TIMEOUT_MS = 2**31 - 1
"""HAProxy refuses longer timeouts (about 24.8 days)."""
_DURATION = re.compile(r"^([0-9]{1,10})(ms|s|m|h|d)?$")
_UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
MAX_CIDRS = 64


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
