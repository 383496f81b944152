"""The state directory: created private, refused when someone else could write it."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from ingress_ctl.app import run
from ingress_ctl.cli import parse_command_line
from ingress_ctl.model.settings import Settings
from ingress_ctl.state_dir import (
    SYSTEM_STATE_DIR,
    UnsafeStateDir,
    default_state_dir,
    prepare_state_dir,
    state_dir_problem,
)


def test_a_missing_state_dir_is_created_private(tmp_path: Path) -> None:
    made = tmp_path / "a" / "state"
    prepare_state_dir(made)
    assert stat.S_IMODE(made.stat().st_mode) == 0o700


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o1777, 0o722])
def test_a_state_dir_others_can_write_is_refused(tmp_path: Path, mode: int) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(mode)
    with pytest.raises(UnsafeStateDir, match="is writable by its group or by everyone"):
        prepare_state_dir(shared)


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(UnsafeStateDir, match="is not a directory"):
        prepare_state_dir(tmp_path / "link")


def test_a_state_dir_of_another_user_is_refused() -> None:
    mode = stat.S_IFDIR | 0o700
    assert state_dir_problem(mode, 1000, os.geteuid() + 1) == (
        f"is owned by user 1000, not by this user ({os.geteuid() + 1})"
    )
    assert state_dir_problem(mode, 1000, 1000) is None


def test_the_default_is_private_never_tmp() -> None:
    assert default_state_dir({"XDG_RUNTIME_DIR": "/run/user/1000"}) == Path(
        "/run/user/1000/ingress-ctl"
    )
    assert default_state_dir({}) == SYSTEM_STATE_DIR == Path("/var/run/ingress-ctl")
    _, settings = parse_command_line(["run", "--manifests", "."])
    assert not str(settings.state_dir).startswith("/tmp")


def test_run_refuses_a_shared_state_dir(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    settings = Settings(manifests=tmp_path, state_dir=shared)
    assert asyncio.run(run(settings)) == 2
    assert list(shared.iterdir()) == []  # nothing written there


def test_run_refuses_a_state_dir_of_another_user(tmp_path: Path) -> None:
    """As root (the test machine), a directory handed to `nobody` is another user's."""
    other = tmp_path / "other"
    other.mkdir(mode=0o700)
    os.chown(other, 65534, 65534)
    with pytest.raises(UnsafeStateDir, match="is owned by user 65534"):
        prepare_state_dir(other)
