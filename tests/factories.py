"""The one helper module of the tests: the API's address and its problems, polygons in metres, units and officers
created through the API, accounts and logins, what the API answers as a whole, and requests sent at one moment.

Helpers that only one domain's tests share live beside them (tests/<domain>/); the county most tests run in is the
`world` fixture (tests/conftest.py).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Select, text
from sqlalchemy.orm import Session

from api.db import db
from models.accounts.service import create_user
from models.roles import SYSTEM, Role

API = "/api/v1"
PROBLEM_JSON = "application/problem+json"
PASSWORD = "correct horse battery"
MISSING = 999_999  # an id that no table holds

# ---- polygons in metres ---------------------------------------------------------------------------------------------

LON0, LAT0 = 113.0, 28.0
M_PER_DEG_LAT = 110_800.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT0))


def at(x_m: float, y_m: float) -> list[float]:
    """[lon, lat] of the point x_m east and y_m north of (LON0, LAT0)."""
    return [LON0 + x_m / M_PER_DEG_LON, LAT0 + y_m / M_PER_DEG_LAT]


def rect(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    """A GeoJSON Polygon: the rectangle between two corners given in metres from (LON0, LAT0)."""
    return polygon(box_ring(x0, y0, x1, y1))


def box_ring(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    """The closed ring of that rectangle."""
    return [at(x0, y0), at(x1, y0), at(x1, y1), at(x0, y1), at(x0, y0)]


def ring(*corners: tuple[float, float]) -> list[list[float]]:
    """A closed ring through points given in metres from (LON0, LAT0)."""
    positions = [at(x, y) for x, y in corners]
    return [*positions, positions[0]]


def polygon(*rings: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


def multipolygon(*polygons: dict[str, Any]) -> dict[str, Any]:
    return {"type": "MultiPolygon", "coordinates": [p["coordinates"] for p in polygons]}


def assert_same_polygon(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    """The same Polygon to 1e-6 degrees, whatever the ring's start and orientation."""
    assert actual["type"] == expected["type"] == "Polygon"
    got, want = (list(shape(g).normalize().exterior.coords) for g in (actual, expected))
    assert len(got) == len(want)
    for (gx, gy), (wx, wy) in zip(got, want, strict=True):
        assert gx == pytest.approx(wx, abs=1e-6)
        assert gy == pytest.approx(wy, abs=1e-6)


def assert_same_area(actual: dict[str, Any], expected: BaseGeometry) -> None:
    """Two areal geometries match up to the 7 output decimals (~1 cm), whatever their vertex order."""
    got = shape(actual)
    assert got.hausdorff_distance(expected) < 1e-6
    assert got.symmetric_difference(expected).area < expected.area * 1e-4


def assert_point_at(point: dict[str, Any], x_m: float, y_m: float) -> None:
    assert point["type"] == "Point"
    lon, lat = at(x_m, y_m)
    assert point["coordinates"][0] == pytest.approx(lon, abs=1e-6)
    assert point["coordinates"][1] == pytest.approx(lat, abs=1e-6)


# ---- answers and times ----------------------------------------------------------------------------------------------


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    """The JSON body of an answer that must have this status."""
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and code: the media type, and `type`, `title`,
    `status`, `detail`, `code` in the body, which is returned."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["type"] == f"urn:grid-patrol:problem:{code}"
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def moment(value: str | None) -> datetime | None:
    """An ISO 8601 time from an answer, as an aware datetime (None stays None)."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() is not None, f"{value} has no offset"
    return parsed


def assert_recent_aware_time(value: str) -> datetime:
    """A time from an answer, with an offset, within five minutes of now."""
    parsed = moment(value)
    assert abs(datetime.now(UTC) - parsed) < timedelta(minutes=5)
    return parsed


def ago(**delta: float) -> datetime:
    """A whole-second instant at least this long ago."""
    return (datetime.now(UTC) - timedelta(**delta)).replace(microsecond=0)


# ---- units and officers through the API -----------------------------------------------------------------------------

TOWNSHIP_CODE = "430199101"
VILLAGE_CODE = TOWNSHIP_CODE + "201"


def create(client: FlaskClient, path: str, body: dict[str, Any], expect: int = 201) -> dict[str, Any]:
    response = client.post(f"{API}/{path}", json=body)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def township(client: FlaskClient, code: str = TOWNSHIP_CODE, box=(0, 0, 4000, 4000), name: str = "青山镇") -> dict:
    return create(client, "townships", {"code": code, "name": name, "boundary": rect(*box)})


def village(
    client: FlaskClient, township_id: int, code: str = VILLAGE_CODE, box=(0, 0, 2000, 2000), name: str = "张家村"
) -> dict:
    return create(client, "villages", {"township_id": township_id, "code": code, "name": name, "boundary": rect(*box)})


def cell(
    client: FlaskClient,
    village_id: int,
    code: str = VILLAGE_CODE + "001",
    box=(0, 0, 1000, 1000),
    name: str = "第1网格",
) -> dict:
    return create(client, "grid-cells", {"village_id": village_id, "code": code, "name": name, "boundary": rect(*box)})


def officer(
    client: FlaskClient, township_id: int | None, *, name: str = "张伟", mobile: str = "13800138000", **extra: Any
) -> dict:
    """Register an officer (in the caller's own township when a leader leaves township_id None)."""
    body = {"name": name, "mobile": mobile, **extra}
    if township_id is not None:
        body["township_id"] = township_id
    return create(client, "officers", body)


def department(
    client: FlaskClient,
    code: str = "YJJ",
    name: str = "县应急管理局",
    sectors: tuple[str, ...] = ("hazardous_chemicals",),
) -> dict[str, Any]:
    return create(client, "departments", {"code": code, "name": name, "sectors": list(sectors)})


def if_match(client: FlaskClient, path: str) -> dict[str, str]:
    """An If-Match header naming the record's current ETag."""
    got = client.get(f"{API}/{path}")
    assert got.status_code == 200, got.get_json()
    return {"If-Match": got.headers["ETag"]}


# ---- accounts and logins --------------------------------------------------------------------------------------------


def add_user(
    app: Flask,
    role: Role,
    *,
    username: str | None = None,
    township_id: int | None = None,
    officer_id: int | None = None,
    department_id: int | None = None,
    password: str = PASSWORD,
) -> int:
    """Create an account directly (as the system); answer its id."""
    with db.new_session(app) as session:
        session.info["actor"] = SYSTEM
        user = create_user(
            session,
            caller=SYSTEM,
            username=username or f"{role.value}-{township_id or 0}-{officer_id or 0}",
            display_name=f"Test {role.value}",
            password=password,
            role=role,
            township_id=township_id,
            officer_id=officer_id,
            department_id=department_id,
        )
        return user.id


def login(app: Flask, username: str, password: str = PASSWORD) -> Any:
    """The answer to logging in, from a new client."""
    return app.test_client().post(f"{API}/auth/token", json={"username": username, "password": password})


def token_for(client: FlaskClient | Flask, username: str, password: str = PASSWORD) -> dict[str, Any]:
    """The token pair (and user) of a successful login, through this client or a new client of this app."""
    sender = client.test_client() if isinstance(client, Flask) else client
    response = sender.post(f"{API}/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def authorise(client: FlaskClient, access_token: str) -> FlaskClient:
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {access_token}"
    return client


def bearer(app: Flask, access_token: str) -> FlaskClient:
    """A new client that sends this access token."""
    return authorise(app.test_client(), access_token)


def login_as(
    app: Flask,
    role: Role,
    *,
    username: str | None = None,
    township_id: int | None = None,
    officer_id: int | None = None,
    department_id: int | None = None,
) -> FlaskClient:
    """A test client logged in as a new user of this role and scope."""
    username = username or f"{role.value}-{township_id or 0}-{officer_id or 0}"
    add_user(app, role, username=username, township_id=township_id, officer_id=officer_id, department_id=department_id)
    return bearer(app, token_for(app, username)["access_token"])


def my_account(client: FlaskClient) -> dict[str, Any]:
    """GET /auth/me of a logged-in client."""
    return ok(client.get(f"{API}/auth/me"))


# ---- what the API answers, as a whole -------------------------------------------------------------------------------

UNIT_LISTS = (
    ("townships", {"include_retired": "true"}),
    ("villages", {"include_retired": "true"}),
    ("grid-cells", {"include_retired": "true"}),
)
EVERY_LIST = (
    *UNIT_LISTS,
    ("officers", {"include_inactive": "true"}),
    ("grid-assignments", {"include_superseded": "true"}),
    ("users", {"include_inactive": "true"}),
)


def snapshot(admin: FlaskClient, *, units_only: bool = False) -> dict[str, Any]:
    """Everything a county administrator can see: every list and every listed item with its ETag; unless
    `units_only`, also every cell's team with its ETag and the audit trail's size and newest events."""
    state: dict[str, Any] = {}
    for path, query in UNIT_LISTS if units_only else EVERY_LIST:
        listed = admin.get(f"{API}/{path}", query_string={**query, "page_size": 500})
        assert listed.status_code == 200, listed.get_json()
        state[path] = listed.get_json()
        for item in listed.get_json()["items"]:
            one = admin.get(f"{API}/{path}/{item['id']}")
            state[f"{path}/{item['id']}"] = (one.status_code, one.headers.get("ETag"), one.get_json())
    if units_only:
        return state
    for unit in state["grid-cells"]["items"]:
        team = admin.get(f"{API}/grid-cells/{unit['id']}/team")
        state[f"grid-cells/{unit['id']}/team"] = (team.status_code, team.headers.get("ETag"), team.get_json())
    audit = admin.get(f"{API}/audit-events", query_string={"page_size": 5, "count": "true"})
    assert audit.status_code == 200
    state["audit-events"] = (audit.get_json()["total"], audit.get_json()["items"])
    return state


def assert_unchanged(before: dict[str, Any], after: dict[str, Any]) -> None:
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert changed == [], f"changed: {changed}"
    assert after == before


def openapi_path(rule: str) -> str:
    """The OpenAPI path of a URL rule: /townships/<int:unit_id> is /townships/{unit_id}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def query_plan(session: Session, stmt: Select, *, forbid_seqscan: bool = True) -> str:
    """The backend's own plan for `stmt`, as text."""
    dialect = session.get_bind().dialect
    compiled = stmt.compile(dialect=dialect)
    if dialect.name == "sqlite":
        params = tuple(compiled.params[name] for name in compiled.positiontup)
        rows = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params).all()
        return "\n".join(row[-1] for row in rows)
    # A handful of rows would be scanned anyway; forbid the scan to see whether the index *can* answer.
    if forbid_seqscan:
        session.execute(text("SET LOCAL enable_seqscan = off"))
    rows = session.connection().exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).all()
    return "\n".join(row[0] for row in rows)


# ---- at the same moment ---------------------------------------------------------------------------------------------


def same_caller(client: FlaskClient) -> FlaskClient:
    """A new test client with the same credentials (a client serves one thread at a time)."""
    other = client.application.test_client()
    other.environ_base.update(client.environ_base)
    return other


def run_together(*calls: Callable[[], Any]) -> list[Any]:
    """Run each call in its own thread, all released at once; answer their results in order."""
    barrier = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        answers[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(a is not None for a in answers), "a call did not finish"
    return answers


def race(who: FlaskClient | list[FlaskClient], *requests: Callable[[FlaskClient], Any]) -> list[Any]:
    """Send each request at the same moment, each from a test client of its own with the credentials of `who`
    (one logged-in client for all, or a list, one per request); answer the responses in order."""
    senders = who if isinstance(who, list) else [who] * len(requests)

    def sender(i: int) -> Callable[[], Any]:
        client = same_caller(senders[i])
        return lambda: requests[i](client)

    return run_together(*[sender(i) for i in range(len(requests))])


def assignment(client: FlaskClient, cell_id: int, officer_id: int, role: str = "owner", reason: str = "任命") -> dict:
    """Assign an officer to a cell, whatever its team (If-Match: *)."""
    response = client.post(
        f"/api/v1/grid-cells/{cell_id}/assignments",
        json={"officer_id": officer_id, "role": role, "reason": reason},
        headers={"If-Match": "*"},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# ---- enterprises ----------------------------------------------------------------------------------------------------


def credit_code(n: int) -> str:
    """A valid unified social credit code, the n-th of a series (its check character computed)."""
    from models.enterprises.credit_code import check_character

    first17 = f"914301{n:011d}"
    return first17 + check_character(first17)


def enterprise(
    client: FlaskClient, x_m: float, y_m: float, n: int = 1, *, expect: int = 201, **fields: Any
) -> dict[str, Any]:
    """Register enterprise n at (x_m, y_m) metres from the origin (hazardous chemicals unless told otherwise)."""
    lon, lat = at(x_m, y_m)
    body = {
        "name": f"企业{n}",
        "credit_code": credit_code(n),
        "sector": "hazardous_chemicals",
        "position": {"lon": lon, "lat": lat},
    } | fields
    return create(client, "enterprises", body, expect)
