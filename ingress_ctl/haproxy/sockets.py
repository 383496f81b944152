"""Client for HAProxy's UNIX-socket CLIs: the master CLI and the admin stats socket.

Both speak the same non-interactive protocol (verified on HAProxy 2.6.12). A batch uses one
connection. The commands are joined by `;` on one line that ends in `\\n`, because HAProxy
ignores an unterminated last line. We then `shutdown(SHUT_WR)`, because the master CLI
otherwise waits for more input, and read to EOF.

HAProxy follows every command's output with one extra `\\n`. Each output is empty or ends in
`\\n`, so each reply ends at the first empty line. The split is checked: if a batch does not
come back as one reply per command, `ReplyMismatchError` is raised. Those commands have already
run. A single command's answer is never split, so a command whose output holds empty lines
must be sent alone.

A command may carry a multi-line payload, written `<command> <<\\n<payload>` (e.g. `set ssl
cert` with a PEM file). On the wire it ends its line of `;`-joined commands with ` <<`, its
payload follows, and an empty line ends the payload; the next commands start a new line
(verified on 2.6.12). So a payload holds no empty line, and is never quoted in errors: it may
be a private key.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path

from ingress_ctl.haproxy.escaping import PAYLOAD

_FORBIDDEN = frozenset("\n\r\0")


class ReplyMismatchError(RuntimeError):
    """HAProxy's answer to a batch does not split into one reply per command."""


async def send_commands(*, path: Path, commands: Sequence[str], timeout: float = 5.0) -> list[str]:
    """Run `commands` over one connection to the CLI socket at `path`.

    Returns one reply per command, in order. Each reply has its trailing newlines removed,
    and a command that prints nothing gets `""`. Each command must already be escaped, with
    `;` and `\\` backslashed. A command holding a line break or NUL (outside its payload), or
    that is empty, or that ends in an unpaired backslash (which would swallow the `;`
    separator), or whose payload is empty or holds an empty line, a CR or a NUL, raises
    ValueError before anything is sent.
    """
    for command in commands:
        _check_command(command)
    if not commands:
        return []
    async with asyncio.timeout(timeout):
        raw = await _exchange(path=path, line=_wire(commands))
    return _split_replies(raw, count=len(commands))


def _wire(commands: Sequence[str]) -> str:
    """The bytes to send: `;`-joined lines, each payload command ending its line."""
    lines: list[str] = []
    pending: list[str] = []
    for command in commands:
        head, marker, payload = command.partition(PAYLOAD)
        if marker:
            lines.append(";".join([*pending, head + " <<"]) + "\n" + payload + "\n\n")
            pending = []
        else:
            pending.append(command)
    if pending:
        lines.append(";".join(pending) + "\n")
    return "".join(lines)


def _check_command(command: str) -> None:
    head, marker, payload = command.partition(PAYLOAD)
    if marker:
        _check_payload(head, payload)
    _check_line(head)


def _check_payload(head: str, payload: str) -> None:
    lines = payload.split("\n")
    if not payload or "" in lines or {"\r", "\0"} & set(payload):
        raise ValueError(f"the payload of {head!r} is empty or holds an empty line, CR or NUL")


def _check_line(command: str) -> None:
    if _FORBIDDEN.intersection(command):
        raise ValueError(f"CLI command {command!r} holds a line break or NUL")
    if not command.strip():
        raise ValueError("empty CLI command")
    if (len(command) - len(command.rstrip("\\"))) % 2:
        raise ValueError(f"CLI command {command!r} ends in an unpaired backslash")


async def _exchange(*, path: Path, line: str) -> str:
    reader, writer = await asyncio.open_unix_connection(path)
    try:
        writer.write(line.encode())
        await writer.drain()
        writer.write_eof()
        raw = await reader.read()
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return raw.decode(errors="replace")


def _split_replies(raw: str, *, count: int) -> list[str]:
    if count == 1:
        return [raw.removesuffix("\n").removesuffix("\n")]
    replies = _replies(raw)
    if len(replies) != count:
        raise ReplyMismatchError(
            f"sent {count} commands, HAProxy answered {len(replies)} replies: {raw[:300]!r}"
        )
    return replies


def _replies(raw: str) -> list[str]:
    replies: list[str] = []
    current: list[str] = []
    for line in raw.removesuffix("\n").split("\n") if raw else []:
        if line:
            current.append(line)
        else:
            replies.append("\n".join(current))
            current = []
    if current:
        replies.append("\n".join(current))
    return replies
