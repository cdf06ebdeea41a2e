"""Engine set-up per backend: SQLite + SpatiaLite (embedded default) or PostgreSQL + PostGIS."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

# GeoAlchemy2 loads the extension by this name; Debian's libsqlite3-mod-spatialite provides it.
os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")


def _sqlite_module() -> Any:
    """The DB-API module for SQLite: the stdlib one only if it can load extensions."""
    import sqlite3

    if hasattr(sqlite3.Connection, "enable_load_extension"):
        return sqlite3
    import pysqlite3.dbapi2 as pysqlite3  # type: ignore[import-untyped]

    return pysqlite3


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def normalise_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL and pick the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class _NoResultRows(logging.Filter):
    """SQLAlchemy logs every fetched row at DEBUG: rows hold password hashes and token digests. Never log them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Row "))


def _silence_result_rows() -> None:
    for name in ("sqlalchemy.engine", "sqlalchemy.engine.Engine"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoResultRows) for f in logger.filters):
            logger.addFilter(_NoResultRows())


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for `url` with the spatial extension loaded and the backend tuned."""
    url = normalise_url(url)
    parsed = make_url(url)
    # Parameters and rows never go into error messages or logs: they may hold password hashes or token digests.
    kwargs.setdefault("hide_parameters", True)
    _silence_result_rows()
    if parsed.get_backend_name() == "sqlite":
        return _make_sqlite_engine(url, **kwargs)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    raise ValueError(f"unsupported database URL {parsed.render_as_string()!r}: use sqlite:/// or postgresql://")


def _make_sqlite_engine(url: str, **kwargs: Any) -> Engine:
    from geoalchemy2.admin.dialects.sqlite import load_spatialite

    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, module=_sqlite_module(), **kwargs)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # WGS84 init mode: metadata in well under a second instead of ~9 s for all EPSG codes.
        load_spatialite(dbapi_connection, init_mode="WGS84")
        # SQLite's own lower() folds A-Z only; PostgreSQL's folds all of Unicode (full-width Ａ, É...). Same answers.
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
        dbapi_connection.execute("PRAGMA foreign_keys = ON")
        dbapi_connection.execute("PRAGMA journal_mode = WAL")
        dbapi_connection.execute("PRAGMA synchronous = NORMAL")
        dbapi_connection.execute("PRAGMA busy_timeout = 10000")
        # Let SQLAlchemy emit BEGIN itself (the driver's implicit BEGIN is deferred and skips DDL).
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # A write transaction takes the write lock up front, so that a check-then-write is atomic.
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine
