"""Every database test runs on both backends: SQLite + SpatiaLite and PostgreSQL + PostGIS.

The PostgreSQL server is started here (see pg_server.py) unless TEST_POSTGRES_URL names one.
GRIDPATROL_TEST_BACKENDS=spatialite (or postgis) narrows the run; by default both run and neither is skipped.

Every 2xx JSON answer that a test receives from the app is checked against the response schema its operation
declares in /api/v1/openapi.json (`SpecCheckedClient`), so the documented and the real shapes cannot drift apart.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import jsonschema_rs
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from api import create_app
from api.db import db
from models import Base
from models.roles import Role
from models.schema import upgrade
from tests.factories import login_as
from tests.pg_server import postgres_server

BACKENDS = [b.strip() for b in os.environ.get("GRIDPATROL_TEST_BACKENDS", "spatialite,postgis").split(",") if b.strip()]


SPEC_URL = "/api/v1/openapi.json"
_URL_VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")  # werkzeug's <int:unit_id> is OpenAPI's {unit_id}


class ResponseSchemas:
    """The response schemas of one app's spec, each compiled once, on first use."""

    def __init__(self, app: Flask) -> None:
        self.spec = FlaskClient(app, app.response_class).get(SPEC_URL).get_json()  # a client that checks nothing
        self.validators: dict[tuple[str, str, str, str], Any] = {}
        self.lock = threading.Lock()

    def validator(self, method: str, path: str, status: int, mimetype: str) -> Any:
        key = (method, path, str(status), mimetype)
        with self.lock:
            if key not in self.validators:
                operation = self.spec["paths"][path][method]
                responses = operation["responses"]
                assert key[2] in responses, f"{method.upper()} {path} answered {status}, which its spec does not list"
                content = responses[key[2]].get("content", {})
                assert mimetype in content, f"{method.upper()} {path} answered {status} as {mimetype}, not documented"
                schema = {"components": self.spec["components"], **content[mimetype]["schema"]}
                self.validators[key] = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
            return self.validators[key]


_response_schemas: WeakKeyDictionary[Flask, ResponseSchemas] = WeakKeyDictionary()
_response_schemas_lock = threading.Lock()


def response_schemas(app: Flask) -> ResponseSchemas:
    with _response_schemas_lock:
        if app not in _response_schemas:
            _response_schemas[app] = ResponseSchemas(app)
        return _response_schemas[app]


def check_against_spec(app: Flask, response: Any) -> None:
    """A 2xx JSON answer fits the schema that its operation declares for its status and content type."""
    if not (200 <= response.status_code < 300 and response.is_json and response.data):
        return
    request = response.request
    try:
        rule, _ = app.url_map.bind("localhost").match(request.path, request.method, return_rule=True)
    except HTTPException:
        return
    path = _URL_VARIABLE.sub(r"{\1}", rule.rule)
    schemas = response_schemas(app)
    if path not in schemas.spec["paths"]:  # the spec itself, and its docs page
        return
    validator = schemas.validator(request.method.lower(), path, response.status_code, response.mimetype)
    errors = [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(response.get_json())]
    assert not errors, f"{request.method} {request.path} answered {response.status_code} off its spec: {errors}"


class SpecCheckedClient(FlaskClient):
    """The test client of the suite: each answer it receives is checked against the spec."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        check_against_spec(self.application, response)
        return response


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
    app.test_client_class = SpecCheckedClient
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
