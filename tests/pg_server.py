"""A throw-away PostgreSQL + PostGIS server for the test session.

PostgreSQL refuses to run as root: when the tests run as root (CI here does), the server runs as the `postgres`
user on a data directory that user owns. Debian keeps the server binaries in `pg_config --bindir`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bindir() -> Path:
    try:
        bindir = Path(
            subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        raise RuntimeError("pg_config not found: install PostgreSQL and PostGIS (`make deps` does)") from exc
    if not (bindir / "initdb").exists():
        raise RuntimeError(f"no initdb in {bindir}: install the PostgreSQL server (`make deps` does)")
    return bindir


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server on a free loopback port; yield the URL of an empty database; stop and remove it afterwards."""
    bindir = _bindir()
    workdir = Path(tempfile.mkdtemp(prefix="gridpatrol-pg-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, port = workdir / "data", _free_port()
    run = lambda *args: subprocess.run([*as_postgres, *map(str, args)], check=True, capture_output=True, text=True)  # noqa: E731
    try:
        run(bindir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8")
        options = (
            f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"  # a test server: speed over durability
        )
        run(bindir / "pg_ctl", "-D", data, "-o", options, "-l", workdir / "server.log", "-w", "-t", "60", "start")
        run(bindir / "createdb", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "gridpatrol_test")
        yield f"postgresql://postgres@127.0.0.1:{port}/gridpatrol_test"
    except subprocess.CalledProcessError as exc:
        log = workdir / "server.log"
        raise RuntimeError(f"{exc.cmd} failed: {exc.stderr}\n{log.read_text() if log.exists() else ''}") from exc
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True
            )
        shutil.rmtree(workdir, ignore_errors=True)
