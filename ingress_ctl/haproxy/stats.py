"""HAProxy's runtime counters: `show stat` over the admin socket, parsed into typed rows.

`show stat` answers CSV, one header line starting with `# ` then one line per frontend,
backend and server (verified on HAProxy 2.6.12). Only the columns the status page and
/metrics show are kept; an empty cell (a counter that does not apply to the row's type)
reads as 0.
"""

from __future__ import annotations

import csv
from collections.abc import Container
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

from ingress_ctl.haproxy.naming import EMPTY_SLOT
from ingress_ctl.haproxy.sockets import send_commands


class Kind(StrEnum):
    """The `type` column of `show stat`."""

    FRONTEND = "0"
    BACKEND = "1"
    SERVER = "2"
    LISTENER = "3"


class ServerState(StrEnum):
    """A server's state as people read it, from HAProxy's `status` column."""

    UP = "UP"
    DOWN = "DOWN"
    MAINT = "MAINT"
    DRAIN = "DRAIN"


COUNTERS = (
    "qcur",
    "scur",
    "smax",
    "stot",
    "bin",
    "bout",
    "ereq",
    "econ",
    "eresp",
    "act",
    "bck",
    "hrsp_1xx",
    "hrsp_2xx",
    "hrsp_3xx",
    "hrsp_4xx",
    "hrsp_5xx",
    "hrsp_other",
    "req_tot",
    "rtime",
)
"""The numeric columns kept, named as `show stat` names them."""


class StatRow(NamedTuple):
    """One line of `show stat`: a frontend, a backend or a server, and its counters."""

    proxy: str
    name: str
    """`FRONTEND`, `BACKEND`, or the server's name."""
    kind: Kind
    status: str
    """HAProxy's own status text (`UP`, `DOWN 1/2`, `no check`, `MAINT (via x/y)`...)."""
    address: str
    counters: dict[str, int]

    @property
    def state(self) -> ServerState:
        """UP, DOWN, MAINT or DRAIN; a server without health checks (`no check`) is UP."""
        word = self.status.split(" ", 1)[0]
        if word in {"MAINT", "DRAIN", "DOWN"}:
            return ServerState(word)
        if word == "NOLB":
            return ServerState.DRAIN
        return ServerState.UP

    @property
    def empty_slot(self) -> bool:
        """A disabled spare slot (see haproxy/slots): not a server of the Service."""
        return self.kind is Kind.SERVER and self.address == EMPTY_SLOT


def parse_show_stat(text: str, *, proxies: Container[str] | None = None) -> tuple[StatRow, ...]:
    """The rows of a `show stat` reply (only those of `proxies`, if given: our proxy names
    hold no comma); ValueError if it is not one."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("# pxname,svname,"):
        raise ValueError(f"not a `show stat` reply: {text[:200]!r}")
    columns = {name: index for index, name in enumerate(lines[0].removeprefix("# ").split(","))}
    kept = [(name, columns.get(name)) for name in COUNTERS]
    kind, status, address = columns["type"], columns.get("status"), columns.get("addr")
    rows = []
    body = lines[1:]
    if proxies is not None:
        body = [line for line in body if line.partition(",")[0] in proxies]
    for cells in csv.reader(body):
        if len(cells) < len(columns) - 1 or not cells[0]:
            continue
        rows.append(
            StatRow(
                proxy=cells[0],
                name=cells[1],
                kind=Kind(cells[kind]),
                status=cells[status] if status is not None else "",
                address=cells[address] if address is not None else "",
                counters={
                    name: _number(cells[index]) if index is not None else 0 for name, index in kept
                },
            )
        )
    return tuple(rows)


def _number(cell: str) -> int:
    return int(cell) if cell.isdigit() else 0


async def read_stats(
    admin_socket: Path, *, proxies: Container[str] | None = None, timeout: float = 2.0
) -> tuple[StatRow, ...]:
    """`show stat` of the running worker, parsed (the rows of `proxies` only, if given)."""
    [reply] = await send_commands(path=admin_socket, commands=["show stat"], timeout=timeout)
    return parse_show_stat(reply, proxies=proxies)
