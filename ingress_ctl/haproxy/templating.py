"""Templating: the Jinja2 environment of each sink, and where its compiled templates are kept.

Compiling the templates (lexing, parsing, generating and compiling Python) costs more than
rendering them once does, so each process does it once per template, and keeps the
compiled code for the next process where Python keeps the package's own bytecode, as Python
does: under `sys.pycache_prefix` when set (PYTHONPYCACHEPREFIX), else in the templates'
`__pycache__`; read but never written when Python writes no bytecode
(PYTHONDONTWRITEBYTECODE, as in the image); a place that cannot be written only costs the
compile. A kept template is used only when its source, Jinja2's version and the escaping
and templating code it was compiled with are unchanged (Jinja2 escapes a template's
constants while compiling it), and by the same Python. Only compiled code is kept, never a
rendered file.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path

import jinja2
import jinja2.bccache

from ingress_ctl.haproxy import escaping

TEMPLATES = Path(__file__).parent / "templates"

_COMPILED_WITH = (Path(escaping.__file__), Path(__file__))
"""The code a compiled template depends on besides its source: the escaping functions (the
`finalize` hook and the filters, which Jinja2 applies to constants while compiling) and this
module (the environment's options)."""


class CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Compiled templates in `directory`, each valid only for the `salt` it was compiled
    with (see `salt`) and its source; written (best effort) only when Python writes
    bytecode."""

    def __init__(self, directory: Path, salt: str) -> None:
        super().__init__(str(directory), "%s.cache")
        self.salt = salt

    def get_source_checksum(self, source: str) -> str:
        return hashlib.sha256(f"{self.salt}\0{source}".encode()).hexdigest()

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # a damaged file: compiled again, and replaced
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if sys.dont_write_bytecode:
            return
        try:
            Path(self.directory).mkdir(parents=True, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:  # read-only, full or missing: the next process compiles again
            pass


def salt(finalize: Callable[[object], str]) -> str:
    """What a compiled template depends on besides its source: Jinja2's version, the
    `finalize` hook's name, and the code of `_COMPILED_WITH`."""
    digest = hashlib.sha256(f"{jinja2.__version__}\0{finalize.__qualname__}".encode())
    for path in _COMPILED_WITH:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _kept(finalize: Callable[[object], str], compiled: Path | None) -> CompiledTemplates | None:
    """Compiled templates kept in `compiled`, if any; none when the code they depend on cannot
    be read (a package installed without its sources)."""
    if compiled is None:
        return None
    try:
        return CompiledTemplates(compiled, salt(finalize))
    except OSError:
        return None


def cache_directory(templates: Path = TEMPLATES) -> Path:
    """Where Python keeps the bytecode of a module in `templates`."""
    if sys.pycache_prefix:
        return Path(sys.pycache_prefix, os.path.abspath(templates).lstrip(os.sep))
    return templates / "__pycache__"


def make_environment(
    finalize: Callable[[object], str],
    *,
    templates: Path = TEMPLATES,
    compiled: Path | None = None,
) -> jinja2.Environment:
    """The environment printing every value of `templates` through `finalize`, keeping
    compiled templates in `compiled` (None: compiled by every process)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        auto_reload=False,
        bytecode_cache=_kept(finalize, compiled),
    )
    environment.filters["log_format_literal"] = escaping.log_format_literal
    environment.filters["sample_argument"] = escaping.sample_argument
    return environment


@cache
def environment(finalize: Callable[[object], str]) -> jinja2.Environment:
    """The package's templates printing through `finalize`: one environment per sink."""
    return make_environment(finalize, compiled=cache_directory())


def render(template: str, finalize: Callable[[object], str], **context: object) -> str:
    """`template` rendered with `context`, every printed value through `finalize`."""
    return environment(finalize).get_template(template).render(**context)
