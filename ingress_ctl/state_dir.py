"""The state directory: HAProxy's configuration, maps, certificates and admin sockets.

Whoever can write there can make HAProxy load a configuration of theirs (and
read private keys): the directory must be the controller user's own and
writable by nobody else. It is created so (mode 0700) when missing; an
existing one that is owned by another user, group- or world-writable, or not
a directory is refused with the reason, never repaired. The default is a
private runtime path, not a shared one like /tmp.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

SYSTEM_STATE_DIR = Path("/var/run/ingress-ctl")


def default_state_dir(environ: Mapping[str, str]) -> Path:
    """`$XDG_RUNTIME_DIR/ingress-ctl` when the session has one (a private, per-user tmpfs),
    else /var/run/ingress-ctl (the container image makes it for the controller's user)."""
    runtime = environ.get("XDG_RUNTIME_DIR")
    return Path(runtime) / "ingress-ctl" if runtime else SYSTEM_STATE_DIR


class UnsafeStateDir(Exception):
    """The state directory could be written by someone other than the controller's user."""


def prepare_state_dir(path: Path) -> None:
    """Create `path` (0700) if missing, then check that only this user can write it."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.lstat()
    except OSError as error:
        raise UnsafeStateDir(f"state directory {path}: {error.strerror or error}") from None
    problem = state_dir_problem(info.st_mode, info.st_uid, os.geteuid())
    if problem is not None:
        raise UnsafeStateDir(f"state directory {path} {problem}; choose another with --state-dir")


def state_dir_problem(mode: int, owner: int, user: int) -> str | None:
    """Why a directory of this mode and owner is unsafe for `user`; None when it is safe."""
    if not stat.S_ISDIR(mode):
        return "is not a directory (a symbolic link?)"
    if owner != user:
        return f"is owned by user {owner}, not by this user ({user})"
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"is writable by its group or by everyone (mode {stat.S_IMODE(mode):o})"
    return None
