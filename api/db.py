"""One SQLAlchemy session per request, on the engine chosen by `DATABASE_URL`."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from geo.engine import make_engine


class Database:
    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"])
        app.extensions["db"] = (engine, sessionmaker(engine, expire_on_commit=False))
        app.teardown_appcontext(self._close)

    @staticmethod
    def engine(app: Flask | None = None) -> Engine:
        return (app or current_app).extensions["db"][0]

    @staticmethod
    def new_session(app: Flask | None = None) -> Session:
        """A session outside any request (CLI commands, tests)."""
        return (app or current_app).extensions["db"][1]()

    @staticmethod
    def session() -> Session:
        """The request's session, opened on first use and closed (rolled back if uncommitted) at teardown."""
        if "db_session" not in g:
            g.db_session = current_app.extensions["db"][1]()
        return g.db_session

    @staticmethod
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


db = Database()
