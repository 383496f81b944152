"""`ingress-ctl status`: a running controller's /status, read over HTTP and shown as a table.

Reads with urllib only (no aiohttp, no Kubernetes client: the command starts at once).
Output follows kubectl's conventions: upper-case headers, columns aligned with three spaces,
`-o wide` adds columns, `-o json|yaml` prints the document itself. Tenant-written strings
are shown with control characters escaped, so no value can drive the terminal.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

import yaml

TIMEOUT_S = 10.0


class UnreachableError(RuntimeError):
    """The controller's /status could not be read."""


def fetch_status(url: str) -> dict[str, Any]:
    """The /status document of the controller at `url` (its base URL or /status itself)."""
    target = url if url.rstrip("/").endswith("/status") else url.rstrip("/") + "/status"
    try:
        with urllib.request.urlopen(target, timeout=TIMEOUT_S) as response:
            document = json.load(response)
    except (OSError, ValueError) as error:
        raise UnreachableError(f"cannot read {target}: {error}") from error
    if not isinstance(document, dict):
        raise UnreachableError(f"{target} did not answer a JSON object")
    return document


def failing(document: dict[str, Any]) -> list[str]:
    """What is wrong: rejected objects (error problems) and Service backends not serving."""
    found = [
        f"{problem['source']['kind']} {_where(problem['source'])} is rejected: {problem['field']}"
        for problem in document.get("problems", ())
        if problem.get("severity") == "error"
    ]
    found += [
        f"backend {backend['service']} is not serving: no ready server"
        for backend in _backends(document).values()
        if backend.get("service") and not backend.get("ready")
    ]
    return found


def print_status(document: dict[str, Any], *, output: str, out: TextIO) -> None:
    """Print the document as `output` (table, wide, json, yaml)."""
    if output == "json":
        out.write(json.dumps(document, indent=2) + "\n")
    elif output == "yaml":
        out.write(yaml.safe_dump(document, sort_keys=False))
    else:
        out.write(_tables(document, wide=output == "wide"))


def _tables(document: dict[str, Any], *, wide: bool) -> str:
    backends = _backends(document)
    rows: list[list[str]] = []
    for host in document.get("dataplane", {}).get("hosts", ()):
        for route in host["routes"]:
            backend = backends.get(route["backend"], {})
            row = [
                host["host"] or "*",
                route["path"],
                backend.get("service") or route["backend"],
                f"{backend.get('ready', 0)}/{backend.get('total', 0)}",
                _serving(backend),
            ]
            if wide:
                row += [route["source"], _servers(backend), route["backend"]]
            rows.append(row)
    headers = ["HOST", "PATH", "BACKEND", "READY", "STATE"]
    if wide:
        headers += ["INGRESS", "SERVERS", "HAPROXY BACKEND"]
    parts = [_table(headers, rows) if rows else "No hosts are routed.\n"]
    problems = [
        [
            f"{problem['source']['kind']}/{_where(problem['source'])}",
            problem["field"],
            problem["severity"],
            problem["reason"],
        ]
        for problem in document.get("problems", ())
    ]
    if problems:
        parts.append("\n" + _table(["OBJECT", "FIELD", "SEVERITY", "REASON"], problems))
    ignored = [
        [f"Ingress/{_where(ingress['source'])}", ingress.get("reason", "")]
        for ingress in document.get("ingresses", ())
        if ingress.get("state") == "ignored"
    ]
    if ignored and wide:
        parts.append("\n" + _table(["IGNORED", "REASON"], ignored))
    return "".join(parts)


def _backends(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        backend["name"]: backend for backend in document.get("dataplane", {}).get("backends", ())
    }


def _serving(backend: dict[str, Any]) -> str:
    if not backend:
        return "unknown"
    if not backend.get("service"):
        return "built-in"
    return "serving" if backend.get("ready") else "not serving"


def _servers(backend: dict[str, Any]) -> str:
    servers = backend.get("servers", ())
    return ",".join(f"{server['address']}({server['state']})" for server in servers) or "<none>"


def _where(source: dict[str, Any]) -> str:
    namespace = source.get("namespace") or ""
    return f"{namespace}/{source['name']}" if namespace else str(source["name"])


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    cells = [[_printable(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]
    return "".join(
        "   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        + "\n"
        for row in cells
    )


def _printable(value: object) -> str:
    """The value as text, each control character written as its escape (`\\x1b`)."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def status_command(*, url: str, output: str, out: TextIO = sys.stdout) -> int:
    """Run `ingress-ctl status`: 0 when all is served, 1 when something is rejected or not
    serving (or the controller cannot be read)."""
    try:
        document = fetch_status(url)
    except UnreachableError as error:
        print(f"ingress-ctl status: {error}", file=sys.stderr)
        return 1
    print_status(document, output=output, out=out)
    wrong = failing(document)
    if output in {"table", "wide"}:
        for line in wrong:
            print(f"error: {_printable(line)}", file=sys.stderr)
    return int(bool(wrong))
