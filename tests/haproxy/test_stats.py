"""`show stat` parsing: rows, counters, and the four states people read."""

from __future__ import annotations

import pytest

from ingress_ctl.haproxy.stats import Kind, ServerState, parse_show_stat

HEADER = "# pxname,svname,qcur,scur,smax,stot,status,type,hrsp_2xx,req_tot,addr,rtime"
REPLY = "\n".join(
    [
        HEADER,
        "http,FRONTEND,,2,5,40,OPEN,0,30,40,,",
        "be_default_web_80,s1,0,1,3,20,UP,2,20,,127.0.0.41:8080,4",
        "be_default_web_80,s2,0,0,0,0,MAINT,2,,,127.0.0.1:1,",
        "be_default_web_80,BACKEND,0,1,3,20,UP,1,20,20,,4",
    ]
)


def test_rows_and_counters() -> None:
    rows = parse_show_stat(REPLY)
    assert [(row.proxy, row.name, row.kind) for row in rows] == [
        ("http", "FRONTEND", Kind.FRONTEND),
        ("be_default_web_80", "s1", Kind.SERVER),
        ("be_default_web_80", "s2", Kind.SERVER),
        ("be_default_web_80", "BACKEND", Kind.BACKEND),
    ]
    assert rows[0].counters["req_tot"] == 40
    assert rows[1].counters["scur"] == 1 and rows[1].counters["hrsp_4xx"] == 0  # absent: 0
    assert rows[1].address == "127.0.0.41:8080"
    assert [row.empty_slot for row in rows] == [False, False, True, False]


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("UP", ServerState.UP),
        ("UP 1/3", ServerState.UP),
        ("no check", ServerState.UP),
        ("DOWN", ServerState.DOWN),
        ("DOWN 1/2", ServerState.DOWN),
        ("MAINT", ServerState.MAINT),
        ("MAINT (via be/s1)", ServerState.MAINT),
        ("DRAIN", ServerState.DRAIN),
        ("NOLB", ServerState.DRAIN),
    ],
)
def test_states(status: str, state: ServerState) -> None:
    line = f"be,s1,0,0,0,0,{status},2,,,10.0.0.1:80,"
    [row] = parse_show_stat(f"{HEADER}\n{line}")
    assert row.state is state


@pytest.mark.parametrize("reply", ["", "Unknown command.", "pxname,svname\nx,y"])
def test_not_a_reply(reply: str) -> None:
    with pytest.raises(ValueError, match="not a `show stat` reply"):
        parse_show_stat(reply)
