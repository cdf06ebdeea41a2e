"""Locate (the cell under a point, with its village and township) and the coverage gaps of a village.

The county is the `land` fixture's (tests/conftest.py) where a test needs one. Every test runs on SpatiaLite and on
PostGIS (see conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from shapely.geometry import shape

from geo.coords import wgs84_to_gcj02
from tests import factories as f
from tests.factories import PROBLEM_JSON, VILLAGE_CODE, assert_problem, assert_same_area, assert_same_polygon, at, rect
from tests.territory.units import etag_of, get, locate, retire

# ---- locate -------------------------------------------------------------------------------------------------------


def test_locate_answers_the_cell_with_its_village_and_township(client, land):
    lon, lat = at(1500, 500)

    response = locate(client, lon, lat)

    assert response.status_code == 200
    body = response.get_json()
    c2, v1, t1 = land.record("cA2"), land.record("vA1"), land.record("tA")
    assert (body["id"], body["code"], body["name"]) == (c2["id"], c2["code"], c2["name"])
    assert (body["village_id"], body["township_id"]) == (v1["id"], t1["id"])
    assert body["village"] == {"id": v1["id"], "code": v1["code"], "name": v1["name"]}
    assert body["township"] == {"id": t1["id"], "code": t1["code"], "name": t1["name"]}
    assert body["position"]["coord_system"] == "wgs84"
    assert body["position"]["lon"] == pytest.approx(lon, abs=1e-6)
    assert body["position"]["lat"] == pytest.approx(lat, abs=1e-6)
    assert_same_polygon(body["boundary"], c2["boundary"])
    assert response.headers["ETag"] == etag_of(c2)


def test_locate_in_the_other_township(client, land):
    body = locate(client, *at(4100, 900)).get_json()

    assert body["code"] == land.record("cB1")["code"]
    assert body["village"]["code"] == land.record("vB1")["code"]
    assert body["township"]["name"] == "Green Hill Town"


def test_a_point_in_no_cell_is_a_404_no_cell_here(client, land):
    # inside village v1 but in none of its cells
    body = assert_problem(locate(client, *at(500, 1500)), 404, "no-cell-here")

    assert body["detail"]
    assert_problem(locate(client, 100.0, 40.0), 404, "no-cell-here")


def test_a_point_on_a_shared_edge_answers_the_lower_code(client):
    town = f.township(client)
    vill = f.village(client, town["id"])
    # the higher code is created first, so that insertion order cannot explain the answer
    f.cell(client, vill["id"], VILLAGE_CODE + "002", box=(1000, 0, 2000, 1000))
    f.cell(client, vill["id"], VILLAGE_CODE + "001", box=(0, 0, 1000, 1000))
    on_edge = at(1000, 500)
    corner = at(1000, 1000)

    answers = {locate(client, *on_edge).get_json()["code"] for _ in range(5)}
    answers |= {locate(client, *corner).get_json()["code"] for _ in range(5)}

    assert answers == {VILLAGE_CODE + "001"}
    assert locate(client, *at(1000.5, 500)).get_json()["code"] == VILLAGE_CODE + "002"


def test_a_retired_cell_is_not_found(client):
    town = f.township(client)
    vill = f.village(client, town["id"])
    cell = f.cell(client, vill["id"])
    assert locate(client, *at(500, 500)).status_code == 200

    retire(client, "grid-cells", cell["id"], etag_of(cell))

    assert_problem(locate(client, *at(500, 500)), 404, "no-cell-here")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lon": 181, "lat": 28}, "lon"),
        ({"lon": -180.5, "lat": 28}, "lon"),
        ({"lon": 113, "lat": 91}, "lat"),
        ({"lon": "east", "lat": 28}, "lon"),
        ({"lat": 28}, "lon"),
        ({"lon": 113, "lat": 28, "coord_system": "utm"}, "coord_system"),
    ],
)
def test_locate_refuses_a_bad_position(client, params, field):
    response = get(client, "grid-cells/locate", query_string=params)

    assert response.status_code == 422
    assert response.mimetype == PROBLEM_JSON
    errors = response.get_json()["errors"]
    assert [(e["in"], e["field"]) for e in errors] == [("query", field)]


def test_locate_converts_gcj02_positions(client):
    town = f.township(client)
    vill = f.village(client, town["id"])
    cell = f.cell(client, vill["id"])
    wgs_lon, wgs_lat = at(500, 500)
    gcj_lon, gcj_lat = wgs84_to_gcj02(wgs_lon, wgs_lat)
    # GCJ-02 shifts this point by several hundred metres: read as WGS-84, it would lie outside the cell
    assert_problem(locate(client, gcj_lon, gcj_lat), 404, "no-cell-here")

    response = locate(client, gcj_lon, gcj_lat, coord_system="gcj02")

    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == cell["id"]
    assert body["position"]["coord_system"] == "wgs84"
    assert abs(body["position"]["lon"] - wgs_lon) < 1e-6
    assert abs(body["position"]["lat"] - wgs_lat) < 1e-6


# ---- coverage gaps ------------------------------------------------------------------------------------------------


def _gaps(client: FlaskClient, village_id: int) -> dict[str, Any]:
    response = get(client, f"villages/{village_id}/coverage-gaps")
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/json"
    return response.get_json()


def test_coverage_gaps_of_a_quarter_covered_village(client):
    town = f.township(client)
    vill = f.village(client, town["id"], box=(0, 0, 2000, 2000))
    f.cell(client, vill["id"], box=(0, 0, 1000, 1000))

    body = _gaps(client, vill["id"])

    assert (body["village_id"], body["village_code"], body["cell_count"]) == (vill["id"], vill["code"], 1)
    assert body["village_area_m2"] == pytest.approx(4_000_000, rel=0.005)
    assert body["gap_area_m2"] == pytest.approx(3_000_000, rel=0.005)
    assert body["covered_ratio"] == pytest.approx(0.25, abs=0.002)
    assert body["tolerance_m"] == 1.0
    gaps = body["gaps"]
    assert gaps["type"] in ("Polygon", "MultiPolygon")
    expected = shape(rect(0, 0, 2000, 2000)).difference(shape(rect(0, 0, 1000, 1000)))
    assert_same_area(gaps, expected)


def test_a_village_without_cells_is_all_gap(client):
    town = f.township(client)
    vill = f.village(client, town["id"], box=(0, 0, 2000, 2000))

    body = _gaps(client, vill["id"])

    assert body["cell_count"] == 0
    assert body["gap_area_m2"] == pytest.approx(body["village_area_m2"], rel=1e-3)
    assert body["covered_ratio"] == pytest.approx(0, abs=1e-3)
    assert_same_area(body["gaps"], shape(rect(0, 0, 2000, 2000)))


def test_a_fully_covered_village_has_no_gap(client):
    town = f.township(client)
    vill = f.village(client, town["id"], box=(0, 0, 2000, 2000))
    for i, (x, y) in enumerate([(0, 0), (1000, 0), (0, 1000), (1000, 1000)], start=1):
        f.cell(client, vill["id"], f"{VILLAGE_CODE}{i:03d}", box=(x, y, x + 1000, y + 1000))

    body = _gaps(client, vill["id"])

    assert body["cell_count"] == 4
    assert body["gap_area_m2"] == 0
    assert body["covered_ratio"] == pytest.approx(1.0)
    assert body["gaps"] is None


def test_a_sliver_narrower_than_the_tolerance_counts_as_covered(client):
    town = f.township(client)
    vill = f.village(client, town["id"], box=(0, 0, 2000, 2000))
    f.cell(client, vill["id"], VILLAGE_CODE + "001", box=(0, 0, 1000, 2000))
    f.cell(client, vill["id"], VILLAGE_CODE + "002", box=(1000.5, 0, 2000, 2000))

    body = _gaps(client, vill["id"])

    assert body["gap_area_m2"] == 0
    assert body["gaps"] is None
    assert body["covered_ratio"] == pytest.approx(1.0)


def test_a_strip_wider_than_the_tolerance_is_a_gap(client):
    town = f.township(client)
    vill = f.village(client, town["id"], box=(0, 0, 2000, 2000))
    f.cell(client, vill["id"], VILLAGE_CODE + "001", box=(0, 0, 1000, 2000))
    f.cell(client, vill["id"], VILLAGE_CODE + "002", box=(1003, 0, 2000, 2000))

    body = _gaps(client, vill["id"])

    assert body["gap_area_m2"] == pytest.approx(3 * 2000, rel=0.01)
    assert body["gaps"]["type"] == "Polygon"


def test_retired_cells_leave_a_gap(client):
    town = f.township(client)
    vill = f.village(client, town["id"], box=(0, 0, 1000, 1000))
    cell = f.cell(client, vill["id"], box=(0, 0, 1000, 1000))
    assert _gaps(client, vill["id"])["gaps"] is None

    retire(client, "grid-cells", cell["id"], etag_of(cell))

    body = _gaps(client, vill["id"])
    assert body["cell_count"] == 0
    assert body["gap_area_m2"] == pytest.approx(1_000_000, rel=0.005)


def test_coverage_gaps_of_an_unknown_village_is_a_404(client):
    assert_problem(get(client, "villages/999999/coverage-gaps"), 404, "not-found")
