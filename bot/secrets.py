"""Secrets the servers share on one machine: taken from settings when set, else generated once
into `var/` (owner-only file) so every process of this install reads the same value."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def local_secret(var_dir: Path, name: str, given: str | None = None) -> str:
    """`given` if set; else the secret kept in `var_dir/<name>.secret`, made on first use."""
    if given:
        return given
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / f"{name}.secret"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text().strip()
        if value:
            return value
        # A file left empty by a process killed mid-write: make it anew.
        path.unlink(missing_ok=True)
        return local_secret(var_dir, name)
    value = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value
