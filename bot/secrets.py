"""Secrets the servers share on one machine: taken from settings when set, else generated once
into `var/` (owner-only file) so every process of this install reads the same value."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def local_secret(var_dir: Path, name: str, given: str | None = None) -> str:
    """`given` if set; else the secret kept in `var_dir/<name>.secret`, made on first use.

    The file appears whole or not at all (written aside, then hard-linked into place), so two
    processes starting at once (make run-prod's Rasa servers) always read the same secret."""
    if given:
        return given
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / f"{name}.secret"
    for _ in range(3):
        try:
            value = path.read_text().strip()
        except FileNotFoundError:
            value = ""
        else:
            if value:
                return value
            path.unlink(missing_ok=True)  # left empty by an older version killed mid-write
        value = secrets.token_urlsafe(32)
        aside = var_dir / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value + "\n")
        try:
            os.link(aside, path)
            return value
        except FileExistsError:
            continue  # another process was first: read theirs
        finally:
            aside.unlink(missing_ok=True)
    raise RuntimeError(f"could not read or create {path}")
