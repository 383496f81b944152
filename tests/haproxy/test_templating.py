"""Compiled templates kept across processes: used only while nothing they were made from has
changed, never a reason for a render to fail."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import jinja2
import pytest

from ingress_ctl.haproxy import escaping, templating
from tests.haproxy.test_rendering import CASES, assert_golden, rendered

TEMPLATE = '{{ "a b" }} {{ value }}\n'
"""A constant (escaped while compiling) and a value (escaped while rendering)."""


def shout(value: object) -> str:
    return str(value).upper()


@pytest.fixture(autouse=True)
def python_writes_bytecode(monkeypatch: pytest.MonkeyPatch) -> None:
    """As without PYTHONDONTWRITEBYTECODE (which this machine sets)."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "t.j2").write_text(TEMPLATE)
    return folder


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates compiled from their source from now on."""
    names: list[str] = []
    compile_source = jinja2.Environment.compile

    def counted(
        self: jinja2.Environment, source: str, name: str | None = None, *a: object
    ) -> object:
        names.append(str(name))
        return compile_source(self, source, name, *a)  # type: ignore[call-overload]

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    return names


def render(
    templates: Path, compiled: Path | None, finalize: Callable[[object], str] = escaping.config_word
) -> str:
    """t.j2 rendered by a new environment: as a new process would."""
    environment = templating.make_environment(finalize, templates=templates, compiled=compiled)
    return environment.get_template("t.j2").render(value="c'd")


def test_a_template_is_compiled_by_the_first_process_only(
    templates: Path, tmp_path: Path, compiles: list[str]
) -> None:
    compiled = tmp_path / "compiled" / "deep"
    assert render(templates, compiled) == "'a b' 'c'\\''d'\n"
    assert render(templates, compiled) == "'a b' 'c'\\''d'\n"
    assert compiles == ["t.j2"]
    assert len(list(compiled.iterdir())) == 1


def test_without_a_place_every_process_compiles(templates: Path, compiles: list[str]) -> None:
    assert render(templates, None) == render(templates, None)
    assert compiles == ["t.j2", "t.j2"]


def test_a_changed_template_is_compiled_again(
    templates: Path, tmp_path: Path, compiles: list[str]
) -> None:
    render(templates, tmp_path / "compiled")
    (templates / "t.j2").write_text("new {{ value }}\n")
    assert render(templates, tmp_path / "compiled") == "new 'c'\\''d'\n"
    assert compiles == ["t.j2", "t.j2"]


def test_another_escaping_function_is_never_served_code_compiled_for_one(
    templates: Path, tmp_path: Path
) -> None:
    """The constant `"a b"` is escaped while compiling: each function gets its own code."""
    render(templates, tmp_path / "compiled")
    assert render(templates, tmp_path / "compiled", shout) == "A B C'D\n"
    assert render(templates, tmp_path / "compiled") == "'a b' 'c'\\''d'\n"


def test_changed_escaping_code_is_compiled_again(
    templates: Path, tmp_path: Path, compiles: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "escaping.py"
    code.write_text("one")
    monkeypatch.setattr(templating, "_COMPILED_WITH", (code,))
    render(templates, tmp_path / "compiled")
    code.write_text("two")
    render(templates, tmp_path / "compiled")
    render(templates, tmp_path / "compiled")
    assert compiles == ["t.j2", "t.j2"]


def test_without_the_sources_it_depends_on_nothing_is_kept(
    templates: Path, tmp_path: Path, compiles: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(templating, "_COMPILED_WITH", (tmp_path / "missing.py",))
    assert render(templates, tmp_path / "compiled") == render(templates, tmp_path / "compiled")
    assert compiles == ["t.j2", "t.j2"]
    assert not (tmp_path / "compiled").exists()


def test_a_place_that_cannot_be_written_only_costs_the_compile(
    templates: Path, tmp_path: Path, compiles: list[str]
) -> None:
    (tmp_path / "file").write_text("")
    assert render(templates, tmp_path / "file" / "compiled") == "'a b' 'c'\\''d'\n"
    assert render(templates, tmp_path / "file" / "compiled") == "'a b' 'c'\\''d'\n"
    assert compiles == ["t.j2", "t.j2"]


@pytest.mark.parametrize("kept_bytes", [0, 20, 200], ids=["empty", "in-checksum", "in-code"])
def test_a_damaged_file_is_compiled_again_and_replaced(
    templates: Path, tmp_path: Path, compiles: list[str], kept_bytes: int
) -> None:
    """A file cut short (a crash while writing it by hand, a disk error)."""
    compiled = tmp_path / "compiled"
    render(templates, compiled)
    (kept,) = compiled.iterdir()
    good = kept.read_bytes()
    kept.write_bytes(good[:kept_bytes])
    assert render(templates, compiled) == "'a b' 'c'\\''d'\n"
    assert kept.read_bytes() == good
    assert compiles == ["t.j2", "t.j2"]


def test_compiled_templates_are_kept_where_python_keeps_bytecode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "pycache_prefix", None)
    assert templating.cache_directory(Path("/pkg/templates")) == Path("/pkg/templates/__pycache__")
    monkeypatch.setattr(sys, "pycache_prefix", "/tmp/pyc")
    assert templating.cache_directory(Path("/pkg/templates")) == Path("/tmp/pyc/pkg/templates")


def test_where_python_writes_no_bytecode_kept_templates_are_read_and_none_written(
    templates: Path, tmp_path: Path, compiles: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    render(templates, tmp_path / "compiled")
    assert not (tmp_path / "compiled").exists()
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    render(templates, tmp_path / "compiled")
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert render(templates, tmp_path / "compiled") == "'a b' 'c'\\''d'\n"
    assert compiles == ["t.j2", "t.j2"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_files_from_kept_templates(
    case: str, tmp_path: Path, compiles: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The package's templates, compiled by one process and loaded by the next, render every
    golden file byte for byte."""

    def environment(finalize: Callable[[object], str]) -> jinja2.Environment:
        return templating.make_environment(finalize, compiled=tmp_path)

    monkeypatch.setattr(templating, "environment", environment)
    assert_golden(case, rendered(case))
    compiled = len(compiles)
    assert compiled > 0
    assert_golden(case, rendered(case))
    assert len(compiles) == compiled
