"""Embedded PostgreSQL for machines with no DATABASE_URL (development, tests, `make run`).

pgserver ships PostgreSQL binaries in a wheel. The cluster lives in a git-ignored data folder and
keeps running after the process exits, so the next run reuses it in about a second.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import warnings
from pathlib import Path


def embedded_database_url(data_dir: Path) -> str:
    """Start (or reuse) the embedded cluster under `data_dir` and return a libpq URL for it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    # Two processes starting at once (pytest-xdist, runserver's reloader) must not both initdb.
    with open(data_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
            warnings.simplefilter("ignore")
            import pgserver  # imported late: production never loads the embedded server

        server = pgserver.get_server(str(data_dir / "pg"), cleanup_mode=None)
        uri = server.get_uri()
    # pgserver answers with "postgresql://postgres:@/postgres?host=<socket dir>"
    return uri


def dev_secret_key(data_dir: Path) -> str:
    """A per-checkout development key, generated once and never committed."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()
