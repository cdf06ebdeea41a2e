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
from sqlalchemy import insert, text
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from api import create_app
from api.db import db
from models import Base
from models.accounts.callers import forget_callers
from models.base import utcnow
from models.departments.model import Sector, seeded_sector_rows
from models.roles import Role
from models.schema import upgrade
from tests import factories as f
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under `pytest -n 2 --dist loadgroup` (`make test`), the tests of one backend run on one worker, in their order:
    each worker builds one backend's database (and only the PostGIS one starts a server)."""
    for item in items:
        backend = getattr(item, "callspec", None) and item.callspec.params.get("app")
        if backend:
            item.add_marker(pytest.mark.xdist_group(name=backend))


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
    epochs = _resources.enter_context(tempfile.TemporaryDirectory(prefix="gridpatrol-epochs-"))
    files = _resources.enter_context(tempfile.TemporaryDirectory(prefix="gridpatrol-files-"))
    app = create_app({"DATABASE_URL": url, "TESTING": True, "PASSWORD_HASH_COST": "fast", "CALLER_CACHE_DIR": epochs,
                      "FILE_STORE": f"filesystem:{files}"})  # fmt: skip
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
        conn.execute(insert(Sector.__table__), seeded_sector_rows(utcnow()))  # what the migration seeds
    forget_callers(engine)  # accounts emptied by hand: no process may remember a caller from before


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


# ---- the county most tests run in (the `world` fixture) --------------------------------------------------------------

# name, list, parent, code, name, box in metres east and north of (113°E, 28°N)
LAND = (
    ("tA", "townships", None, "430199101", "青山镇", (0, 0, 4000, 4000)),
    ("tB", "townships", None, "430199102", "Green Hill Town", (4000, 0, 8000, 4000)),
    ("vA1", "villages", "tA", "430199101201", "张家村", (0, 0, 2000, 2000)),
    ("vA2", "villages", "tA", "430199101202", "李家村", (2000, 0, 4000, 2000)),
    ("vB1", "villages", "tB", "430199102201", "王家村", (4000, 0, 6000, 2000)),
    ("cA1", "grid-cells", "vA1", "430199101201001", "第1网格", (0, 0, 1000, 1000)),
    ("cA2", "grid-cells", "vA1", "430199101201002", "第2网格", (1000, 0, 2000, 1000)),
    ("cA3", "grid-cells", "vA2", "430199101202001", "第1网格", (2000, 0, 3000, 1000)),
    ("cB1", "grid-cells", "vB1", "430199102201001", "第1网格", (4000, 0, 5000, 1000)),
    ("cB2", "grid-cells", "vB1", "430199102201002", "第2网格", (5000, 0, 6000, 1000)),
)
# name, township, officer's name, mobile
OFFICERS = (
    ("oA1", "tA", "张伟", "13800138001"),
    ("oA2", "tA", "李强", "13800138002"),
    ("oB1", "tB", "王芳", "13800138003"),
    ("oB2", "tB", "赵敏", "13800138004"),
)
# name, cell, officer, role
TEAMS = (("aA1", "cA1", "oA1", "owner"), ("aA2", "cA1", "oA2", "member"), ("aB1", "cB1", "oB1", "owner"))
# caller: role, township, officer; the account is u_<caller>, its username the caller's with "-" for "_"
ACCOUNTS: dict[str, tuple[Role, str | None, str | None]] = {
    "leader_a": (Role.TOWNSHIP_LEADER, "tA", None),
    "leader_b": (Role.TOWNSHIP_LEADER, "tB", None),
    "officer_a": (Role.GRID_OFFICER, None, "oA1"),
    "officer_b": (Role.GRID_OFFICER, None, "oB1"),
    "viewer_a": (Role.VIEWER, "tA", None),
    "viewer_b": (Role.VIEWER, "tB", None),
    "viewer_county": (Role.VIEWER, None, None),
}


class World:
    """A county of two townships side by side, built through the API by its administrator ("root"); everything in
    it is known by name (`world["cA2"]` is an id, `world.record("cA2")` the answer that created it).

    The land: township tA 青山镇 (0..4000 m east) with villages vA1 张家村 (cells cA1, cA2) and vA2 李家村 (cell
    cA3); township tB Green Hill Town (4000..8000 m) with village vB1 王家村 (cells cB1, cB2). Cells are 1000 m
    squares along the southern edge, in that order from the west (LAND).

    The people: officers oA1, oA2 of tA and oB1, oB2 of tB; cell cA1's team is owner oA1 (assignment aA1) and
    member oA2 (aA2), cB1's owner is oB1 (aB1); cA2, cA3 and cB2 have nobody. Accounts, by caller: leader_a and
    leader_b lead a township, officer_a is officer oA1 (officer_b oB1), viewer_a and viewer_b see a township,
    viewer_county the whole county; admin is the administrator (u_<caller> is the account's id).

    Callers log in the first time a test asks for them (`world.as_("leader_a")`). The fixtures `land` and
    `one_of_each` build a part of the world, for tests that need no more: its land alone, nobody in charge; its
    township tA, village vA1 and cell cA1 alone.
    """

    def __init__(
        self, app: Flask, admin: FlaskClient, *, units: tuple[str, ...] | None = None, people: bool = True
    ) -> None:
        """Build the land (only the `units` named, if any) and then, unless told not to, the people (who need the
        whole land)."""
        self.app, self.admin, self.complete = app, admin, units is None and people
        self.records: dict[str, dict[str, Any]] = {}
        self._callers: dict[str, FlaskClient] = {"admin": admin}
        for name, path, parent, code, title, box in LAND:
            if units is not None and name not in units:
                continue
            body = {"code": code, "name": title, "boundary": f.rect(*box)}
            if parent is not None:
                body["township_id" if path == "villages" else "village_id"] = self[parent]
            self.records[name] = f.create(admin, path, body)
        if self.complete:
            self._add_people()

    def _add_people(self) -> None:
        admin = self.admin
        for name, township, title, mobile in OFFICERS:
            self.records[name] = f.officer(admin, self[township], name=title, mobile=mobile)
        for name, unit, officer, role in TEAMS:
            response = admin.post(
                f"{f.API}/grid-cells/{self[unit]}/assignments",
                json={"officer_id": self[officer], "role": role, "reason": "村两委会议决定"},
                headers={"If-Match": "*"},
            )
            self.records[name] = f.ok(response, 201)
        for who, (role, township, officer) in ACCOUNTS.items():
            township_id = self[township] if township else None
            officer_id = self[officer] if officer else None
            user_id = f.add_user(
                self.app, role, username=self.username(who), township_id=township_id, officer_id=officer_id
            )
            self.records[f"u_{who}"] = {"id": user_id}
        self.records["u_admin"] = f.my_account(admin)

    def __getitem__(self, name: str) -> int:
        """The id of the thing of this name."""
        return self.record(name)["id"]

    def record(self, name: str) -> dict[str, Any]:
        """The answer that created the thing of this name (for an account, at least its id)."""
        if name not in self.records and not self.complete:
            raise KeyError(f"{name}: this fixture builds a part of the world only (use `world`)")
        return self.records[name]

    @property
    def ids(self) -> dict[str, int]:
        """The id of everything, by name."""
        return {name: record["id"] for name, record in self.records.items()}

    @staticmethod
    def username(who: str) -> str:
        """The username of this caller's account."""
        return who.replace("_", "-")

    def as_(self, who: str) -> FlaskClient:
        """A client logged in as this caller (logged in on first use)."""
        if who not in self._callers:
            self._callers[who] = f.bearer(self.app, f.token_for(self.app, self.username(who))["access_token"])
        return self._callers[who]

    def names(self, items: list[dict[str, Any]], prefix: str) -> list[str]:
        """The world's names of listed rows (e.g. ["cA1", "cB2"]), sorted; an unknown row shows as "?<id>"."""
        by_id = {r["id"]: name for name, r in self.records.items() if name.startswith(prefix)}
        return sorted(by_id.get(item["id"], f"?{item['id']}") for item in items)

    def resolve(self, value: Any) -> Any:
        """Replace "{name}" placeholders (whole strings, or inside strings such as paths) by the world's ids."""
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, str):
            whole = re.fullmatch(r"\{(\w+)\}", value)
            if whole:
                return self[whole.group(1)]
            return re.sub(r"\{(\w+)\}", lambda m: str(self[m.group(1)]), value)
        return value


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    """The county of `World`: its land and its people."""
    return World(app, client)


@pytest.fixture
def land(app: Flask, client: FlaskClient) -> World:
    """The county of `World` without its people: its townships, villages and cells alone, nobody in charge."""
    return World(app, client, people=False)


@pytest.fixture
def one_of_each(app: Flask, client: FlaskClient) -> World:
    """Of the county of `World`, township tA, its village vA1 and that village's cell cA1 alone."""
    return World(app, client, units=("tA", "vA1", "cA1"))


# ---- the OpenAPI document --------------------------------------------------------------------------------------------


@pytest.fixture
def spec(anonymous: FlaskClient) -> dict[str, Any]:
    """The OpenAPI document, as anyone may read it (no token needed)."""
    response = anonymous.get(f"{f.API}/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()
