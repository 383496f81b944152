"""The pure core imports no I/O: translation, rendering and planning stay pure functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ingress_ctl"
PURE = sorted(
    [
        *(PACKAGE / f"{name}.py" for name in (
            "model/objects", "model/routing", "model/matching", "haproxy/escaping",
            "haproxy/naming", "model/snapshot", "model/problems", "model/verdicts",
            "model/settings", "haproxy/slots", "haproxy/planning", "haproxy/rendering",
            "model/globals", "translation/certificates",
        )),
        *(PACKAGE / "translation").glob("*.py"),
        *(PACKAGE / "annotations").glob("*.py"),
    ]
)  # fmt: skip
IO_LIBRARIES = {"asyncio", "aiohttp", "kubernetes_asyncio", "subprocess", "prometheus_client"}
IO_MODULES = {
    "app", "haproxy.applying", "syncing", "serving", "haproxy.process", "haproxy.sockets",
    "sources", "kube", "fallback", "logs", "cli", "model.state", "metrics",
}  # fmt: skip


def imported(path: Path) -> set[str]:
    """Every module a file imports, as written."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def io_imports(names: set[str]) -> set[str]:
    found = set()
    for name in names:
        parts = name.split(".")
        if parts[0] in IO_LIBRARIES:
            found.add(name)
        if parts[0] == "ingress_ctl" and any(
            ".".join(parts[1 : n + 1]) in IO_MODULES for n in range(1, len(parts))
        ):
            found.add(name)
    return found


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_pure_modules_import_no_io(path: Path) -> None:
    assert io_imports(imported(path)) == set()


def test_the_check_sees_io_imports() -> None:
    assert io_imports({"asyncio", "ingress_ctl.haproxy.process", "ingress_ctl.model.routing"}) == {
        "asyncio",
        "ingress_ctl.haproxy.process",
    }
    assert len(PURE) > 20


def escaped_makers(path: Path) -> int:
    """How many times a file calls `Escaped(...)` (text that skips the escaper)."""
    return sum(
        1
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) == "Escaped"
    )


def test_only_rendering_marks_text_as_escaped() -> None:
    sources = [path for path in PACKAGE.rglob("*.py") if escaped_makers(path)]
    assert [path.relative_to(PACKAGE) for path in sources] == [Path("haproxy/rendering.py")]
