"""Escaping at the sinks: the only way a value reaches a file or a socket.

One function per sink, each tested with hostile input:

- `config_word` for haproxy.cfg: a word that HAProxy's parser reads back as
  exactly the given text (bare when harmless, else single-quoted);
- `map_word` for map files: a key or value with no whitespace or escapes;
- `socket_word` for runtime API commands: `;` and `\\` escaped.

Control characters, newlines and non-ASCII text are refused everywhere:
nothing a tenant writes can end a directive or start a new one.
"""

from __future__ import annotations

import re

_BARE = re.compile(r"^[A-Za-z0-9_.:/@+\-\[\]]+$")
_PRINTABLE = re.compile(r"^[\x20-\x7e]*$")
_MAP_WORD = re.compile(r"^[\x21-\x7e]+$")


class UnsafeValue(ValueError):
    """A value that cannot be written safely to its sink."""


def _printable(value: str, sink: str) -> str:
    if not _PRINTABLE.fullmatch(value):
        raise UnsafeValue(f"{sink}: {value!r} holds control or non-ASCII characters")
    return value


def config_word(value: object) -> str:
    """One haproxy.cfg word that the parser reads back as exactly `value`."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise UnsafeValue(f"haproxy.cfg: {value!r} is not a string or an integer")
    text = _printable(str(value), "haproxy.cfg")
    if _BARE.fullmatch(text):
        return text
    return "'" + text.replace("'", "'\\''") + "'"


def map_word(value: object) -> str:
    """A map-file key or value: printable ASCII, no whitespace, no escapes, no comment."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _MAP_WORD.fullmatch(text) or "\\" in text:
        raise UnsafeValue(f"map file: {value!r} is not a plain printable word")
    if text.startswith("#"):
        raise UnsafeValue(f"map file: {value!r} would start a comment")
    return text


def socket_word(value: str) -> str:
    """A runtime-API argument: printable, no whitespace, `;` and `\\` backslash-escaped."""
    if not _MAP_WORD.fullmatch(value):
        raise UnsafeValue(f"runtime API: {value!r} is not a plain printable word")
    return value.replace("\\", "\\\\").replace(";", "\\;")
