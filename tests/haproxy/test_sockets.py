"""The CLI socket client: framing, splitting and refusals, on a fake and a real HAProxy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ingress_ctl.haproxy.process import HAProxyProcess
from ingress_ctl.haproxy.sockets import ReplyMismatchError, send_commands


class FakeCLI:
    """A CLI socket that reads to EOF, records it, then sends `answer`.

    Like the master CLI, it answers only once the client has shut down writing.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.answer = b""
        self.received: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.received.append(await reader.read())
        writer.write(self.answer)
        await writer.drain()
        writer.close()


@pytest.fixture
async def fake_cli(short_dir: Path) -> AsyncIterator[FakeCLI]:
    """A listening FakeCLI."""
    fake = FakeCLI(short_dir / "fake.sock")
    server = await asyncio.start_unix_server(fake.handle, path=str(fake.path))
    yield fake
    server.close()


async def test_a_batch_is_one_line_and_splits_into_one_reply_per_command(
    fake_cli: FakeCLI,
) -> None:
    fake_cli.answer = b"a\nb\n\n\nNo such server.\n\n"

    replies = await send_commands(path=fake_cli.path, commands=["show a", "set b", "set c"])

    assert replies == ["a\nb", "", "No such server."]
    assert fake_cli.received == [b"show a;set b;set c\n"]


async def test_a_batch_answered_short_raises_instead_of_misattributing(
    fake_cli: FakeCLI,
) -> None:
    fake_cli.answer = b"proc\n\nCan't find the target PID matching the prefix '@!9'\n"

    with pytest.raises(ReplyMismatchError, match="sent 3 commands, HAProxy answered 2"):
        await send_commands(
            path=fake_cli.path, commands=["show proc", "@!9 show info", "show proc"]
        )


async def test_a_single_reply_keeps_its_empty_lines(fake_cli: FakeCLI) -> None:
    fake_cli.answer = b"event 1\n\nevent 2\n\n"

    assert await send_commands(path=fake_cli.path, commands=["show errors"]) == [
        "event 1\n\nevent 2"
    ]


async def test_an_empty_batch_sends_nothing(tmp_path: Path) -> None:
    assert await send_commands(path=tmp_path / "absent.sock", commands=[]) == []


async def test_a_silent_socket_times_out(short_dir: Path) -> None:
    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(10)

    path = short_dir / "silent.sock"
    server = await asyncio.start_unix_server(hang, path=str(path))
    try:
        with pytest.raises(TimeoutError):
            await send_commands(path=path, commands=["show info"], timeout=0.2)
    finally:
        server.close()


@pytest.mark.parametrize(
    "command",
    ["show info\nshow env", "show info\r", "show\0info", "", "  ", "set map m k v\\"],
)
async def test_unsafe_commands_are_refused_before_connecting(tmp_path: Path, command: str) -> None:
    with pytest.raises(ValueError):
        await send_commands(path=tmp_path / "absent.sock", commands=["show info", command])


async def test_a_payload_ends_its_line_and_an_empty_line_ends_the_payload(
    fake_cli: FakeCLI,
) -> None:
    fake_cli.answer = b"New\n\nTransaction created\n\nSuccess!\n\nx\n\n"
    commands = ["new ssl cert c", "set ssl cert c <<\nPEM 1\nPEM 2", "commit ssl cert c", "show x"]

    replies = await send_commands(path=fake_cli.path, commands=commands)

    assert replies == ["New", "Transaction created", "Success!", "x"]
    assert fake_cli.received == [
        b"new ssl cert c;set ssl cert c <<\nPEM 1\nPEM 2\n\ncommit ssl cert c;show x\n"
    ]


@pytest.mark.parametrize("payload", ["", "KEY\n\nKEY", "KEY\r\nKEY", "KEY\0", "\nKEY", "KEY\n"])
async def test_unsafe_payloads_are_refused_without_quoting_them(
    tmp_path: Path, payload: str
) -> None:
    with pytest.raises(ValueError) as refused:
        await send_commands(
            path=tmp_path / "absent.sock", commands=[f"set ssl cert c <<\n{payload}"]
        )
    assert "KEY" not in str(refused.value)


async def test_an_escaped_backslash_at_the_end_is_sent(fake_cli: FakeCLI) -> None:
    fake_cli.answer = b"\n\n"

    assert await send_commands(path=fake_cli.path, commands=["set map m k v\\\\", "x"]) == ["", ""]


@pytest.mark.haproxy
async def test_a_real_batch_returns_one_reply_per_command(haproxy: HAProxyProcess) -> None:
    replies = await send_commands(
        path=haproxy.admin_socket,
        commands=["show version", "set server be/s1 state ready", "show backend"],
    )

    assert len(replies) == 3
    assert replies[0].startswith("2.")
    assert replies[1] == ""
    assert replies[2] == "# name\nbe"


@pytest.mark.haproxy
async def test_an_escaped_semicolon_stays_inside_its_command(haproxy: HAProxyProcess) -> None:
    replies = await send_commands(
        path=haproxy.admin_socket,
        commands=["set server be/s1 addr 127.0.0.2\\;show port 1", "show backend"],
    )

    assert replies == ["Invalid addr '127.0.0.2;show' by 'stats socket command'", "# name\nbe"]


@pytest.mark.haproxy
async def test_the_master_cli_answers_and_routes_to_the_worker(
    haproxy: HAProxyProcess,
) -> None:
    proc, version = await send_commands(
        path=haproxy.master_socket, commands=["show proc", "@1 show version"]
    )

    assert proc.startswith("#<PID>")
    assert "\n# workers\n" in proc
    assert version.startswith("2.")
