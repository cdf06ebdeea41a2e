"""Test data: polygons in metres around a point, and units created through the API."""

from __future__ import annotations

import math
from typing import Any

from flask.testing import FlaskClient

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
