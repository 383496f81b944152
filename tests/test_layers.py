"""The layers, as import-linter contracts over whole packages (pyproject's [tool.importlinter]).

`make lint` runs `lint-imports`; these tests run the same contracts, and show
they fail when a module imports across a layer, imports I/O into the pure core,
or spells HAProxy outside haproxy/. No module list lives here.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ingress_ctl"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` with the project's contracts, on the `ingress_ctl` found in `cwd`."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_package_keeps_its_contracts() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("model/routing.py", "from ingress_ctl.kube import client", "-> model"),
        ("translation/tls.py", "from ingress_ctl import syncing", "-> model"),
        ("haproxy/slots.py", "from ingress_ctl.kube import events", "-> model"),
        ("translation/fold.py", "import asyncio", "import no I/O"),
        ("annotations/values.py", "import subprocess", "import no I/O"),
        ("model/problems.py", "from ingress_ctl import store", "import no I/O"),
        ("kube/events.py", "from ingress_ctl.haproxy import escaping", "spells HAProxy"),
        ("sources/files.py", "from ingress_ctl.haproxy import rendering", "spells HAProxy"),
        ("model/verdicts.py", "from ingress_ctl.haproxy import naming", "haproxy/naming"),
        ("newcomer.py", '"""A module in no layer."""', "-> model"),
    ],
)
def test_a_wrong_import_breaks_a_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    shutil.copytree(PACKAGE, tmp_path / "ingress_ctl", ignore=shutil.ignore_patterns("*.j2"))
    target = tmp_path / "ingress_ctl" / module
    target.write_text((target.read_text() if target.exists() else "") + f"\n{line}\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout


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
