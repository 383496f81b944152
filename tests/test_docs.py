"""The documents that messages and help texts point at exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HINT = re.compile(r"docs/[\w-]+\.md")


def test_every_docs_file_a_message_names_exists() -> None:
    named = {
        hint
        for path in (ROOT / "ingress_ctl").rglob("*.py")
        for hint in HINT.findall(path.read_text())
    }
    assert "docs/annotations.md" in named
    assert sorted(hint for hint in named if not (ROOT / hint).is_file()) == []
