"""One SQLAlchemy session per request, on the engine chosen by `DATABASE_URL`."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from geo.engine import make_engine
from models.accounts.callers import remember_callers


class Database:
    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"])
        reads = (
            engine.execution_options(isolation_level="AUTOCOMMIT") if engine.dialect.name == "postgresql" else engine
        )
        app.extensions["db"] = (
            engine,
            sessionmaker(engine, expire_on_commit=False),  # outside requests: CLI, tests
            sessionmaker(reads, expire_on_commit=False),  # a request's session
        )
        app.teardown_appcontext(self._close)
        remember_callers(
            engine, directory=Path(app.config["CALLER_CACHE_DIR"]), seconds=float(app.config["CALLER_CACHE_SECONDS"])
        )

    @staticmethod
    def engine(app: Flask | None = None) -> Engine:
        return (app or current_app).extensions["db"][0]

    @staticmethod
    def new_session(app: Flask | None = None) -> Session:
        """A session outside any request (CLI commands, tests)."""
        return (app or current_app).extensions["db"][1]()

    @staticmethod
    def session() -> Session:
        """The request's session, opened on first use and closed at teardown.

        On PostgreSQL it reads in autocommit: no BEGIN and ROLLBACK around a request that only reads (two round
        trips saved; each statement sees committed data, as under READ COMMITTED anyway). A write starts its own
        transaction (`models.base.write_transaction`), with its locks, and commits it. (SQLite runs in-process:
        nothing to save there.) `api.auth` puts the caller in its `info["actor"]`, the audit trail's "who"."""
        if "db_session" not in g:
            g.db_session = current_app.extensions["db"][2]()
        return g.db_session

    @staticmethod
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


db = Database()
