"""Every database test runs on both backends: SQLite + SpatiaLite and PostgreSQL + PostGIS.

The PostgreSQL server is started here (see pg_server.py) unless TEST_POSTGRES_URL names one.
GRIDPATROL_TEST_BACKENDS=spatialite (or postgis) narrows the run; by default both run and neither is skipped.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from api import create_app
from api.db import db
from models import Base
from models.roles import Role
from models.schema import upgrade
from tests.factories import login_as
from tests.pg_server import postgres_server

BACKENDS = [b.strip() for b in os.environ.get("GRIDPATROL_TEST_BACKENDS", "spatialite,postgis").split(",") if b.strip()]


@pytest.fixture(scope="session")
def _resources() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


@pytest.fixture(scope="session", params=BACKENDS)
def app(request: pytest.FixtureRequest, _resources: ExitStack) -> Iterator[Flask]:
    """The app on a migrated, empty database of one backend."""
    if request.param == "spatialite":
        directory = _resources.enter_context(tempfile.TemporaryDirectory(prefix="gridpatrol-test-"))
        url = f"sqlite:///{Path(directory) / 'test.sqlite'}"
    elif request.param == "postgis":
        url = os.environ.get("TEST_POSTGRES_URL") or _resources.enter_context(postgres_server())
    else:
        raise ValueError(f"unknown backend {request.param!r}")
    app = create_app({"DATABASE_URL": url, "TESTING": True, "PASSWORD_HASH_COST": "fast"})
    upgrade(db.engine(app))
    yield app
    db.engine(app).dispose()


@pytest.fixture
def backend(app: Flask) -> str:
    return db.engine(app).dialect.name


@pytest.fixture(autouse=True)
def _empty_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each database test, every table is emptied again (the schema stays)."""
    yield
    if "app" not in request.fixturenames:
        return
    app: Flask = request.getfixturevalue("app")
    engine = db.engine(app)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def anonymous(app: Flask) -> FlaskClient:
    """A client that sends no token."""
    return app.test_client()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A client logged in as a county administrator (the whole county, every verb)."""
    return login_as(app, Role.COUNTY_ADMIN, username="root")


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session of its own (not a request's), for checking what the database holds."""
    with db.new_session(app) as session:
        yield session
