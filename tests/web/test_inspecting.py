"""`ingress-ctl status` output: kubectl-like tables, exit conditions, no terminal control."""

from __future__ import annotations

import io
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ingress_ctl.web.inspecting import failing, print_status


def document(*, ready: int = 1, reason: str = "bad", host: str = "a.test") -> dict[str, Any]:
    server = {"name": "s1", "address": "10.0.0.1:80", "state": "UP" if ready else "DOWN"}
    return {
        "problems": [
            {
                "source": {"kind": "Ingress", "namespace": "ns", "name": "x"},
                "field": "spec.rules[0].host",
                "reason": reason,
                "severity": "warning",
            }
        ],
        "ingresses": [
            {"source": {"kind": "Ingress", "namespace": "ns", "name": "y"}, "state": "ignored"}
        ],
        "dataplane": {
            "hosts": [
                {
                    "host": host,
                    "routes": [{"path": "/", "backend": "be_ns_web_80", "source": "Ingress ns/x"}],
                }
            ],
            "backends": [
                {
                    "name": "be_ns_web_80",
                    "service": "ns/web:80",
                    "ready": ready,
                    "total": 1,
                    "servers": [server],
                }
            ],
        },
    }


def table(found: dict[str, Any], output: str = "table") -> list[str]:
    out = io.StringIO()
    print_status(found, output=output, out=out)
    return out.getvalue().splitlines()


def columns(line: str) -> list[str]:
    """A table line's cells: kubectl separates columns by three spaces or more."""
    return re.split(r" {3,}", line)


def test_table_columns_line_up() -> None:
    lines = table(document())
    assert lines[:2] == [
        "HOST     PATH   BACKEND     READY   STATE",
        "a.test   /      ns/web:80   1/1     serving",
    ]
    assert columns(lines[3]) == ["OBJECT", "FIELD", "SEVERITY", "REASON"]


def test_wide_adds_servers_and_ignored() -> None:
    lines = table(document(ready=0), "wide")
    assert columns(lines[1]) == [
        "a.test",
        "/",
        "ns/web:80",
        "0/1",
        "not serving",
        "Ingress ns/x",
        "10.0.0.1:80(DOWN)",
        "be_ns_web_80",
    ]
    assert [columns(line) for line in lines[-2:]] == [["IGNORED", "REASON"], ["Ingress/ns/y"]]


def test_failing_names_rejected_objects_and_backends_without_servers() -> None:
    assert failing(document()) == []  # a warning rejects nothing
    rejected = document()
    rejected["problems"][0]["severity"] = "error"
    assert failing(rejected) == ["Ingress ns/x is rejected: spec.rules[0].host"]
    assert failing(document(ready=0)) == ["backend ns/web:80 is not serving: no ready server"]


@given(reason=st.text(), host=st.text())
def test_no_value_reaches_the_terminal_raw(reason: str, host: str) -> None:
    for line in table(document(reason=reason, host=host), "wide"):
        assert line.isprintable(), line
