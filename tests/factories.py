"""Test data: polygons in metres around a point, and units created through the API."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from api.db import db
from models.accounts.service import create_user
from models.roles import SYSTEM, Role

PROBLEM_JSON = "application/problem+json"
LON0, LAT0 = 113.0, 28.0
M_PER_DEG_LAT = 110_800.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT0))


def at(x_m: float, y_m: float) -> list[float]:
    """[lon, lat] of the point x_m east and y_m north of (LON0, LAT0)."""
    return [LON0 + x_m / M_PER_DEG_LON, LAT0 + y_m / M_PER_DEG_LAT]


def rect(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    """A GeoJSON Polygon: the rectangle between two corners given in metres from (LON0, LAT0)."""
    ring = [at(x0, y0), at(x1, y0), at(x1, y1), at(x0, y1), at(x0, y0)]
    return {"type": "Polygon", "coordinates": [ring]}


TOWNSHIP_CODE = "430199101"
VILLAGE_CODE = TOWNSHIP_CODE + "201"


def create(client: FlaskClient, path: str, body: dict[str, Any], expect: int = 201) -> dict[str, Any]:
    response = client.post(f"/api/v1/{path}", json=body)
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


PASSWORD = "correct horse battery"


def add_user(
    app: Flask,
    role: Role,
    *,
    username: str | None = None,
    township_id: int | None = None,
    officer_id: int | None = None,
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
        )
        return user.id


def token_for(client: FlaskClient, username: str, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def authorise(client: FlaskClient, access_token: str) -> FlaskClient:
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {access_token}"
    return client


def login_as(
    app: Flask,
    role: Role,
    *,
    username: str | None = None,
    township_id: int | None = None,
    officer_id: int | None = None,
) -> FlaskClient:
    """A test client logged in as a new user of this role and scope."""
    username = username or f"{role.value}-{township_id or 0}-{officer_id or 0}"
    add_user(app, role, username=username, township_id=township_id, officer_id=officer_id)
    client = app.test_client()
    return authorise(client, token_for(client, username)["access_token"])


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
        client = senders[i].application.test_client()
        client.environ_base.update(senders[i].environ_base)
        return lambda: requests[i](client)

    return run_together(*[sender(i) for i in range(len(requests))])


def officer(client: FlaskClient, name: str, mobile: str, township_id: int | None = None) -> dict:
    body: dict[str, Any] = {"name": name, "mobile": mobile}
    if township_id is not None:
        body["township_id"] = township_id
    return create(client, "officers", body)


def assignment(client: FlaskClient, cell_id: int, officer_id: int, role: str = "owner", reason: str = "任命") -> dict:
    """Assign an officer to a cell, whatever its team (If-Match: *)."""
    response = client.post(
        f"/api/v1/grid-cells/{cell_id}/assignments",
        json={"officer_id": officer_id, "role": role, "reason": reason},
        headers={"If-Match": "*"},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()
