"""Escaping at the sinks: the only way a value reaches a file or a socket.

One function per sink, each tested with hostile input:

- `config_word` for haproxy.cfg: a word that HAProxy's parser reads back as
  exactly the given text (bare when harmless, else single-quoted);
- `map_word` for map files: a key or value with no whitespace or escapes;
- `socket_word` for runtime API commands: `;` and `\\` escaped;
- `socket_payload` for the multi-line payload of a runtime API command
  (a PEM file, a crt-list line): printable lines, none of them empty;
- `sample_argument` for an argument of a sample fetch or converter (a header or query
  parameter name): double-quoted, backslash-escaped, then `config_word`;
- `log_format_literal` for literal text inside a log-format argument (`%` doubled), then
  `config_word`;
- `crt_list_line` for crt-list lines (in the file and in `add ssl crt-list`
  payloads): a certificate file, then SNI filters, each a plain word.

Control characters, newlines and non-ASCII text are refused everywhere:
nothing a tenant writes can end a directive or start a new one.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

_BARE_CHARACTER = r"[A-Za-z0-9_.:/@+\-\[\]]"
_BARE = re.compile(f"^{_BARE_CHARACTER}+$")
_BARE_TEXT = re.compile(f"{_BARE_CHARACTER}*")
_PRINTABLE = re.compile(r"^[\x20-\x7e]*$")
_MAP_WORD = re.compile(r"^[\x21-\x7e]+$")
_PLAIN = r"[\x21\x22\x24-\x5b\x5d-\x7e][\x21-\x5b\x5d-\x7e]*"
_PLAIN_MAP_WORD = re.compile(f"^{_PLAIN}$")
"""A map word that needs no further check: no backslash, no leading `#`."""
_MAP_TEXT = bytes(range(0x21, 0x7F)).replace(b"\\", b"") + b" \n"
"""The bytes of a map file of plain words: their characters, the spaces and newlines between."""
_WORD_STARTS = ("\n ", " \n", "\n#", " #")
"""A word of a map line left empty, or starting a comment."""
_CRT_LIST_WORD = re.compile(r"^!?[A-Za-z0-9*][A-Za-z0-9*._/-]*$")


PAYLOAD = " <<\n"
"""Separates a runtime API command from its payload (see haproxy/sockets.py)."""


class Escaped(str):
    """Text a template already rendered for haproxy.cfg, every value in it escaped by
    `config_word`: printed again as it is. Only `rendering` makes these (a block rendered
    once and printed in many places); nothing a tenant writes is one."""


class UnsafeValue(ValueError):
    """A value that cannot be written safely to its sink."""


def _printable(value: str, sink: str) -> str:
    if not _PRINTABLE.fullmatch(value):
        raise UnsafeValue(f"{sink}: {value!r} holds control or non-ASCII characters")
    return value


def config_word(value: object) -> str:
    """One haproxy.cfg word that the parser reads back as exactly `value`."""
    if type(value) is str and _BARE.fullmatch(value):
        return value  # the common case, first: bare words are printable ASCII already
    if type(value) is int:
        return str(value)  # digits and a sign: always bare (bool is not int's type)
    if type(value) is Escaped:
        return value
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise UnsafeValue(f"haproxy.cfg: {value!r} is not a string or an integer")
    text = _printable(str(value), "haproxy.cfg")
    if _BARE.fullmatch(text):
        return text
    return "'" + text.replace("'", "'\\''") + "'"


def config_words(values: Sequence[str]) -> Sequence[str]:
    """`config_word` of each value (a property test holds the two equal), checked at once: no
    value is empty and their characters, joined, are all a bare word's (`bare_text`). One check
    instead of a call per word: haproxy.cfg holds 100,000 server addresses at scale."""
    if all(values) and bare_text("".join(values)):
        return values
    return [config_word(value) for value in values]


def bare_text(text: str) -> bool:
    """Whether every character of `text` may stand in a bare word ("" too): a word joined from
    such texts, not empty, is printed by `config_word` as it is (a property test holds it).
    Checks the parts of many words at once: the addresses of a backend's servers, joined."""
    return _BARE_TEXT.fullmatch(text) is not None


def sample_argument(value: str) -> str:
    """An argument inside `fetch(...)`, read back by HAProxy's argument parser as exactly `value`:
    double-quoted, its `"` and backslashes backslash-escaped (commas, parentheses, spaces and
    `$` are then plain text); the word holding it still goes through `config_word`."""
    if not isinstance(value, str) or not value:
        raise UnsafeValue(f"sample argument: {value!r} is not a non-empty string")
    text = _printable(value, "sample argument")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def log_format_literal(value: str) -> str:
    """Text inside a log-format argument (set-path, a redirect) that HAProxy prints as it is:
    every `%` doubled, so nothing in it reads as a sample expression."""
    return value.replace("%", "%%")


def map_word(value: object) -> str:
    """A map-file key or value: printable ASCII, no whitespace, no escapes, no comment."""
    if type(value) is str and _PLAIN_MAP_WORD.fullmatch(value):
        return value  # the common case, first
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _MAP_WORD.fullmatch(text) or "\\" in text:
        raise UnsafeValue(f"map file: {value!r} is not a plain printable word")
    if text.startswith("#"):
        raise UnsafeValue(f"map file: {value!r} would start a comment")
    return text


def map_lines(entries: Collection[tuple[str, str]]) -> str:
    """A map file: a `key value` line per entry, each word `map_word` (a property test holds
    the two equal), checked at once: the file is lines of two plain words, and its spaces
    and newlines are only those put between them (no plain word holds one). One check of
    the text instead of two calls per entry, and the lines joined without a Python call per
    entry: a map holds 100,000 entries at scale."""
    try:
        text = "\n".join(map(" ".join, entries)) + "\n" if entries else ""
    except TypeError:  # a word that is not a string: `map_word` prints it (an integer) or not
        pass
    else:
        if _plain_map_lines(text, len(entries)):
            return text
    return "".join([f"{map_word(key)} {map_word(value)}\n" for key, value in entries])


def _plain_map_lines(text: str, count: int) -> bool:
    """Whether `text` is `count` lines of two plain map words (`map_word` keeps each as it is),
    checked by counts and searches in C, cheaper than a regex over each character of it:
    a space and a newline a line, so no word holds one; every byte a plain word's or those;
    no line starting with a space or `#`, no word after a space empty or starting with `#`."""
    return (
        text.count(" ") == text.count("\n") == count
        and text.isascii()
        and not text.encode().translate(None, _MAP_TEXT)
        and not text.startswith((" ", "#"))
        and not any(map(text.__contains__, _WORD_STARTS))
    )


def socket_word(value: str) -> str:
    """A runtime-API argument: printable, no whitespace, `;` and `\\` backslash-escaped."""
    if not _MAP_WORD.fullmatch(value):
        raise UnsafeValue(f"runtime API: {value!r} is not a plain printable word")
    return value.replace("\\", "\\\\").replace(";", "\\;")


def socket_payload(value: str) -> str:
    """A payload: printable ASCII lines, none empty (an empty line ends a payload early).

    Never quoted in the error: a payload may be a private key.
    """
    lines = value.removesuffix("\n").split("\n")
    if not all(line and _PRINTABLE.fullmatch(line) for line in lines):
        raise UnsafeValue("runtime API: a payload holds an empty line or a control character")
    return "\n".join(lines)


def crt_list_line(words: object) -> str:
    """A crt-list line from its words: file names and (negated) SNI filters, nothing else.

    No word may open a `[ssl options]` block, start a comment, or hold
    whitespace: each is a name, a path or `!*`.
    """
    if not isinstance(words, tuple) or not words:
        raise UnsafeValue(f"crt-list: {words!r} is not a non-empty tuple of words")
    for word in words:
        if not isinstance(word, str) or not _CRT_LIST_WORD.fullmatch(word):
            raise UnsafeValue(f"crt-list: {word!r} is not a file name or an SNI filter")
    return " ".join(words)
