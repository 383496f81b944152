"""The HAProxy version the controller reads at start (bookworm 2.6 on hosts, trixie 3.0 in the image)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest

from ingress_ctl.haproxy.process import HAProxyError, HAProxyProcess, parse_version

# `haproxy -v` first lines, as printed by Debian bookworm's and trixie's packages.
BOOKWORM = (
    "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/\n"
    "Status: long-term supported branch - will stop receiving fixes around Q2 2027.\n"
)
TRIXIE = (
    "HAProxy version 3.0.11-1+deb13u4 2026/09/02 - https://haproxy.org/\n"
    "Status: long-term supported branch - will stop receiving fixes around Q2 2029.\n"
)


@pytest.mark.parametrize(
    ("text", "version"),
    [
        (BOOKWORM, "2.6.12-1+deb12u4"),
        (TRIXIE, "3.0.11-1+deb13u4"),
        ("HA-Proxy version 1.8.30 x", "1.8.30"),
    ],
)
def test_the_version_line_is_parsed(text: str, version: str) -> None:
    assert parse_version(text) == version


@pytest.mark.parametrize("text", ["", "haproxy: command not found\n", "Status: x\n"])
def test_output_without_a_version_is_an_error(text: str) -> None:
    with pytest.raises(HAProxyError, match="no version"):
        parse_version(text)


@pytest.mark.haproxy
def test_the_real_binary_reports_what_haproxy_v_prints(tmp_path: Path) -> None:
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    first = subprocess.run([binary, "-v"], capture_output=True, text=True, check=True).stdout
    process = HAProxyProcess(binary=binary, state_dir=tmp_path)

    found = asyncio.run(process.version())

    assert found == first.split()[2]


def test_a_missing_binary_is_an_error(tmp_path: Path) -> None:
    process = HAProxyProcess(binary=str(tmp_path / "no-haproxy"), state_dir=tmp_path)

    with pytest.raises(HAProxyError, match="cannot run"):
        asyncio.run(process.version())
