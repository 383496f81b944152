"""The wheel is the product: built, installed in a fresh venv, it renders the demo.

The package is built with pip from a copy of the project (the checkout stays
clean), installed with its dependencies (pip's cache, else PyPI) into a new
venv, and its `ingress-ctl render` runs from outside the project: the result
must pass the real `haproxy -c`. Slow (about a minute): marked, still in `make test`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("ingress_ctl", "pyproject.toml", "README.md")


def _run(*args: str | Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh venv with the built wheel installed."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in SHIPPED:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, source / name)
    shutil.rmtree(source / "ingress_ctl" / "__pycache__", ignore_errors=True)
    dist = work / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, source, cwd=work)
    [wheel] = dist.glob("ingress_ctl-*.whl")
    env = work / "venv"
    venv.create(env, with_pip=True)
    _run(env / "bin" / "python", "-m", "pip", "install", "-q", wheel, cwd=work)
    return env / "bin"


@pytest.mark.slow
@pytest.mark.haproxy
def test_the_installed_wheel_renders_a_config_haproxy_accepts(
    installed: Path, tmp_path: Path, haproxy_bin: str
) -> None:
    out = tmp_path / "out"
    demo = ROOT / "examples" / "demo.yaml"
    _run(installed / "ingress-ctl", "render", "-f", demo, "--out", out, cwd=tmp_path)
    assert "frontend http" in (out / "haproxy.cfg").read_text()
    _run(haproxy_bin, "-c", "-C", out, "-f", "haproxy.cfg", cwd=tmp_path)


@pytest.mark.slow
def test_the_installed_wheel_is_the_package_not_the_checkout(
    installed: Path, tmp_path: Path
) -> None:
    found = _run(
        installed / "python", "-c", "import ingress_ctl; print(ingress_ctl.__file__)", cwd=tmp_path
    )
    assert not Path(found.stdout.strip()).is_relative_to(ROOT)
    templates = _run(
        installed / "python",
        "-c",
        "from ingress_ctl.haproxy.rendering import TEMPLATES; print(sorted(p.name for p in TEMPLATES.glob('*.j2')))",
        cwd=tmp_path,
    )
    assert "haproxy.cfg.j2" in templates.stdout


@pytest.mark.slow
def test_the_installed_wheel_holds_every_file_of_the_package(
    installed: Path, tmp_path: Path
) -> None:
    """Templates and other data files ship wherever they live in the package (the status
    page's template too, not only HAProxy's)."""
    found = _run(
        installed / "python", "-c", "import ingress_ctl; print(ingress_ctl.__file__)", cwd=tmp_path
    )
    package = Path(found.stdout.strip()).parent
    assert _files(package) == _files(ROOT / "ingress_ctl")


def _files(package: Path) -> set[str]:
    return {
        str(path.relative_to(package))
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
