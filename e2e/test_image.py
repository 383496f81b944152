"""The image from the Dockerfile (built by e2e/build-image.sh): HAProxy 3.0 accepts every golden
configuration, and the image runs as uid 10001 with a read-only root filesystem."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from e2e.cluster import CACHE_DIR, build_script

pytestmark = pytest.mark.e2e

GOLDEN = Path(__file__).parent.parent / "tests" / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "expected" / "haproxy.cfg").exists())


@pytest.fixture(scope="module")
def image() -> str:
    """The controller image's name in podman's storage (built when its inputs changed)."""
    _, name = build_script("build-image.sh")
    return str(name)


def podman_run(image: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`podman run` with build-image.sh's podman configuration, no network, read-only root."""
    env = {
        **os.environ,
        "CONTAINERS_CONF": str(CACHE_DIR / "podman" / "containers.conf"),
        "CONTAINERS_STORAGE_CONF": str(CACHE_DIR / "podman" / "storage.conf"),
    }
    return subprocess.run(
        ["podman", "run", "--rm", "--network", "none", "--read-only", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("case", CASES)
def test_haproxy_3_0_in_the_image_accepts_the_golden_configuration(image: str, case: str) -> None:
    expected = GOLDEN / case / "expected"

    result = podman_run(
        image, "-v", f"{expected}:/golden:ro", "--entrypoint", "haproxy",
        image, "-c", "-C", "/golden", "-f", "haproxy.cfg",
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "deprecated" not in (result.stdout + result.stderr).lower()


def test_the_image_runs_haproxy_3_0_as_uid_10001(image: str) -> None:
    version = podman_run(image, "--entrypoint", "haproxy", image, "-v")
    user = podman_run(image, "--entrypoint", "id", image, "-u")
    controller = podman_run(image, image, "--version")

    assert version.stdout.startswith("HAProxy version 3.0.")
    assert user.stdout.strip() == "10001"
    assert controller.returncode == 0, controller.stderr
