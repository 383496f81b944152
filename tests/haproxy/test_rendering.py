"""Golden files for rendering; every golden configuration is checked by the real `haproxy -c`.

Set UPDATE_GOLDEN=1 to rewrite the expected files after a deliberate change.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from ingress_ctl.haproxy.applying import write_files
from ingress_ctl.haproxy.rendering import render
from ingress_ctl.model.routing import Certificate
from ingress_ctl.model.settings import Settings, parse_service_port
from ingress_ctl.model.snapshot import Snapshot
from ingress_ctl.sources.files import load_manifests
from ingress_ctl.translation import translate
from ingress_ctl.translation.certificates import parse_pem

GOLDEN = Path(__file__).parent.parent / "golden"
EXAMPLES = Path(__file__).parent.parent.parent / "examples"
CASES = {
    "demo": (EXAMPLES / "demo.yaml", Settings()),
    "external": (
        GOLDEN / "external" / "input.yaml",
        Settings(
            default_backend_service=parse_service_port("ext/fallback:8080"),
            allow_external_name=True,
        ),
    ),
    "empty": (GOLDEN / "empty" / "input.yaml", Settings(http_port=8080)),
    "tls": (
        GOLDEN / "tls" / "input.yaml",
        Settings(configmap="ingress/ingress-ctl", tcp_services_configmap="ingress/tcp-services"),
    ),
    "passthrough": (
        GOLDEN / "passthrough" / "input.yaml",
        Settings(configmap="ingress/ingress-ctl", https_port=8443),
    ),
    "annotations": (GOLDEN / "annotations" / "input.yaml", Settings(nginx_compat=True)),
}
RESOLVED = {"example.org": ("192.0.2.80", "2001:db8::80")}
"""What the ExternalNames of the inputs resolve to (as `resolving` would hand them over)."""
FALLBACK = "fallback.pem"
"""A case with this file next to its input serves HTTPS with it as the fallback certificate."""


def rendered(case: str, placeholder: Certificate | None = None) -> dict[str, str]:
    """The files of a case; HTTPS with `placeholder` unless the case has its fallback file."""
    source, settings = CASES[case]
    loaded = load_manifests([source])
    assert loaded.problems == ()
    fallback = source.parent / FALLBACK
    certificate = (
        parse_pem(fallback.read_bytes(), fallback.read_bytes())
        if fallback.exists()
        else placeholder
    )
    translation = translate(
        replace(Snapshot.of(loaded.objects), resolved=RESOLVED),
        settings=settings,
        fallback_certificate=certificate,
    )
    return render(translation.routing, settings=settings)


def assert_golden(case: str, files: dict[str, str]) -> None:
    """The rendered files are exactly the golden files of `case` (UPDATE_GOLDEN=1 rewrites them)."""
    expected_dir = GOLDEN / case / "expected"
    if os.environ.get("UPDATE_GOLDEN"):
        write_files(expected_dir, files)
    for name, content in files.items():
        assert (expected_dir / name).read_text() == content, f"{case}: {name} differs"
    on_disk = {str(p.relative_to(expected_dir)) for p in expected_dir.rglob("*") if p.is_file()}
    assert on_disk == set(files)


def assert_haproxy_accepts_golden(case: str, haproxy_bin: str) -> None:
    """The real `haproxy -c` accepts the golden configuration of `case`."""
    expected_dir = GOLDEN / case / "expected"
    result = subprocess.run(
        [haproxy_bin, "-c", "-C", str(expected_dir), "-f", "haproxy.cfg"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("case", sorted(CASES))
def test_rendering_matches_golden_files(case: str) -> None:
    assert_golden(case, rendered(case))


@pytest.mark.haproxy
@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_configuration_passes_haproxy_check(case: str, haproxy_bin: str) -> None:
    assert_haproxy_accepts_golden(case, haproxy_bin)


@pytest.mark.parametrize("case", sorted(CASES))
def test_rendering_is_deterministic(case: str) -> None:
    assert rendered(case) == rendered(case)
