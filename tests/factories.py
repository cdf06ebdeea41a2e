"""Test data: polygons in metres around a point, and units created through the API."""

from __future__ import annotations

import math
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from api.db import db
from models.access import SYSTEM, Role
from models.accounts_service import create_user

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
