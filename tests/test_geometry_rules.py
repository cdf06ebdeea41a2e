"""Each broken geometry rule answers 422 naming the rule, and the database is unchanged.

Rules of the boundary itself (GeoJSON shape, coordinates, rings, vertex count, validity), rules of the hierarchy
(inside the parent, clear of siblings, still holding the children, up to the 1 m digitising tolerance) and rules of
codes, names and parents. Every refusal is checked three ways: status 422 with a problem+json body naming the rule,
an `errors` entry pointing at the field, and every list and item of the API answering exactly as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests import factories as f

PROBLEM_JSON = "application/problem+json"
KINDS = ("townships", "villages", "grid-cells")
PARENT_FIELD = {"villages": "township_id", "grid-cells": "village_id"}

# ---- helpers -----------------------------------------------------------------------------------------------------


def ring(*corners: tuple[float, float]) -> list[list[float]]:
    """A closed ring through points given in metres from (LON0, LAT0)."""
    positions = [f.at(x, y) for x, y in corners]
    return [*positions, positions[0]]


def box_ring(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return f.rect(x0, y0, x1, y1)["coordinates"][0]


def polygon(*rings: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


def multipolygon(*polygons: dict[str, Any]) -> dict[str, Any]:
    return {"type": "MultiPolygon", "coordinates": [p["coordinates"] for p in polygons]}


def circle_ring(positions: int, centre: tuple[float, float] = (10_000, 10_000), radius: float = 500) -> list:
    """A valid closed ring of exactly `positions` positions (the closing one included)."""
    n = positions - 1
    cx, cy = centre
    points = [
        f.at(cx + radius * math.cos(2 * math.pi * i / n), cy + radius * math.sin(2 * math.pi * i / n)) for i in range(n)
    ]
    return [*points, points[0]]


def snapshot(client: FlaskClient) -> dict[str, Any]:
    """What the API answers about every unit: each list (retired ones included) and each item with its ETag."""
    state: dict[str, Any] = {}
    for kind in KINDS:
        listed = client.get(f"/api/v1/{kind}?include_retired=true")
        assert listed.status_code == 200, listed.get_json()
        state[kind] = listed.get_json()
        for item in state[kind]["items"]:
            got = client.get(f"/api/v1/{kind}/{item['id']}")
            assert got.status_code == 200
            state[f"{kind}/{item['id']}"] = (got.get_json(), got.headers["ETag"])
    return state


def assert_refused(response: TestResponse, code: str, pointer: str) -> dict[str, Any]:
    """422 problem+json naming `code` as the only rule broken, with an error entry pointing at `pointer`."""
    body = response.get_json()
    assert response.status_code == 422, body
    assert response.mimetype == PROBLEM_JSON
    assert body["status"] == 422
    assert body["code"] == code, body
    assert body["type"] == f"urn:grid-patrol:problem:{code}"
    assert body["detail"]
    assert {"code": code, "pointer": pointer} in [
        {"code": e["code"], "pointer": e.get("pointer")} for e in body["errors"]
    ], body
    return body


def post(client: FlaskClient, kind: str, body: dict[str, Any]) -> TestResponse:
    return client.post(f"/api/v1/{kind}", json=body)


def if_match(client: FlaskClient, kind: str, unit_id: int) -> dict[str, str]:
    got = client.get(f"/api/v1/{kind}/{unit_id}")
    assert got.status_code == 200
    return {"If-Match": got.headers["ETag"]}


def patch(client: FlaskClient, kind: str, unit_id: int, body: dict[str, Any]) -> TestResponse:
    return client.patch(f"/api/v1/{kind}/{unit_id}", json=body, headers=if_match(client, kind, unit_id))


def retire(client: FlaskClient, kind: str, unit_id: int) -> None:
    response = client.post(f"/api/v1/{kind}/{unit_id}/retire", headers=if_match(client, kind, unit_id))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["retired_at"] is not None


def refused_without_change(client: FlaskClient, send: Any, code: str, pointer: str = "/boundary") -> dict[str, Any]:
    """Send a request (a callable), expect it refused for `code`, and the whole database unchanged."""
    before = snapshot(client)
    body = assert_refused(send(), code, pointer)
    assert snapshot(client) == before
    return body


@dataclass
class Place:
    """Where new units of a kind go: their parent (if any), free codes, and the parent's box in metres."""

    kind: str
    parent: dict[str, int] = field(default_factory=dict)
    codes: tuple[str, ...] = ()
    parent_box: tuple[float, float, float, float] = (0, 0, 4000, 4000)

    def body(self, code: str, boundary: dict[str, Any], name: str = "测试单元") -> dict[str, Any]:
        return {**self.parent, "code": code, "name": name, "boundary": boundary}


def place_for(client: FlaskClient, kind: str) -> Place:
    """An empty parent for units of `kind`: nothing for townships, a township for villages, a village for cells."""
    if kind == "townships":
        return Place(kind, codes=("430199101", "430199102", "430199103"))
    township = f.township(client)
    if kind == "villages":
        codes = tuple(f.TOWNSHIP_CODE + suffix for suffix in ("201", "202", "203"))
        return Place(kind, {"township_id": township["id"]}, codes, (0, 0, 4000, 4000))
    village = f.village(client, township["id"])
    codes = tuple(f.VILLAGE_CODE + suffix for suffix in ("001", "002", "003"))
    return Place(kind, {"village_id": village["id"]}, codes, (0, 0, 2000, 2000))


@pytest.fixture
def county(client: FlaskClient) -> dict[str, dict[str, Any]]:
    """A township (0..4000 m), its village (0..2000 m) and the village's cell (0..1000 m)."""
    township = f.township(client)
    village = f.village(client, township["id"])
    cell = f.cell(client, village["id"])
    return {"townships": township, "villages": village, "grid-cells": cell}


FREE_TOWNSHIP_CODE = "430199102"  # a township code the county does not use

# ---- rules of the GeoJSON itself ---------------------------------------------------------------------------------

SQUARE = box_ring(5000, 0, 6000, 1000)  # clear of the county


@pytest.mark.parametrize(
    "boundary",
    [
        pytest.param("POLYGON ((113 28, 113.01 28, 113.01 28.01, 113 28))", id="WKT text instead of an object"),
        pytest.param([SQUARE], id="a bare array of rings"),
        pytest.param({"coordinates": [SQUARE]}, id="no type"),
        pytest.param({"type": 7, "coordinates": [SQUARE]}, id="type not a string"),
        pytest.param({"type": "Polygon"}, id="no coordinates"),
        pytest.param({"type": "Polygon", "coordinates": []}, id="empty coordinates"),
        pytest.param({"type": "Polygon", "coordinates": {"ring": SQUARE}}, id="coordinates an object"),
        pytest.param({"type": "Polygon", "coordinates": ["abc"]}, id="a ring that is a string"),
        pytest.param(
            {"type": "Polygon", "coordinates": [[[str(c) for c in p] for p in SQUARE]]}, id="coordinates as strings"
        ),
        pytest.param({"type": "Polygon", "coordinates": [[[p[0]] for p in SQUARE]]}, id="a position of one number"),
        pytest.param(
            {"type": "Polygon", "coordinates": [[[*p, 0, 0] for p in SQUARE]]}, id="a position of four numbers"
        ),
        pytest.param({"type": "Polygon", "coordinates": [[[True, False]] * 5]}, id="booleans as coordinates"),
        pytest.param({"type": "Polygon", "coordinates": [[[p[0], None] for p in SQUARE]]}, id="null latitude"),
        pytest.param({"type": "MultiPolygon", "coordinates": [SQUARE]}, id="a Polygon's coordinates as a MultiPolygon"),
        pytest.param({"type": "MultiPolygon", "coordinates": [[]]}, id="a MultiPolygon part without rings"),
    ],
)
def test_a_boundary_that_is_not_well_formed_geojson_is_refused(client, county, boundary):
    refused_without_change(
        client,
        lambda: post(client, "townships", {"code": FREE_TOWNSHIP_CODE, "name": "新镇", "boundary": boundary}),
        "geojson-malformed",
    )


@pytest.mark.parametrize(
    "boundary",
    [
        pytest.param({"type": "Point", "coordinates": f.at(5500, 500)}, id="Point"),
        pytest.param({"type": "LineString", "coordinates": SQUARE}, id="LineString"),
        pytest.param({"type": "GeometryCollection", "geometries": [polygon(SQUARE)]}, id="GeometryCollection"),
        pytest.param(
            {"type": "Feature", "geometry": polygon(SQUARE), "properties": {}}, id="a Feature around a Polygon"
        ),
        pytest.param({"type": "polygon", "coordinates": [SQUARE]}, id="type in lower case"),
    ],
)
def test_a_boundary_that_is_not_an_area_is_refused(client, county, boundary):
    refused_without_change(
        client,
        lambda: post(client, "townships", {"code": FREE_TOWNSHIP_CODE, "name": "新镇", "boundary": boundary}),
        "geometry-type-not-allowed",
    )


def _with_position(index: int, position: list[Any]) -> dict[str, Any]:
    positions = [list(p) for p in SQUARE]
    positions[index] = position
    if index == 0:
        positions[-1] = position
    return polygon(positions)


@pytest.mark.parametrize(
    "boundary",
    [
        pytest.param(_with_position(1, [181, 28.0]), id="longitude 181"),
        pytest.param(_with_position(1, [113.0, -91]), id="latitude -91"),
        pytest.param(polygon([[lat, lon] for lon, lat in SQUARE]), id="latitude and longitude swapped"),
        pytest.param(_with_position(1, [1e400, 28.0]), id="longitude that overflows to infinity"),
        pytest.param(_with_position(1, [10**400, 28.0]), id="longitude written as a 401-digit integer"),
    ],
)
def test_a_position_off_the_globe_is_refused(client, county, boundary):
    refused_without_change(
        client,
        lambda: post(client, "townships", {"code": FREE_TOWNSHIP_CODE, "name": "新镇", "boundary": boundary}),
        "coordinates-out-of-range",
    )


HOLE = box_ring(5200, 200, 5800, 800)


@pytest.mark.parametrize(
    ("boundary", "code"),
    [
        pytest.param(
            polygon([SQUARE[0], SQUARE[1], SQUARE[0]]), "ring-too-few-positions", id="exterior of 3 positions"
        ),
        pytest.param(polygon(SQUARE, [HOLE[0], HOLE[1], HOLE[0]]), "ring-too-few-positions", id="hole of 3 positions"),
        pytest.param(polygon([]), "ring-too-few-positions", id="empty exterior ring"),
        pytest.param(polygon(SQUARE[:-1]), "ring-not-closed", id="exterior not closed"),
        pytest.param(polygon(SQUARE, HOLE[:-1]), "ring-not-closed", id="hole not closed"),
        pytest.param(
            multipolygon(polygon(box_ring(9000, 0, 9100, 100)), polygon(SQUARE[:-1])),
            "ring-not-closed",
            id="second part of a MultiPolygon not closed",
        ),
        # RFC 7946 3.1.6: the first and last positions MUST contain identical values, altitude included
        pytest.param(
            polygon([[*SQUARE[0], 10.0], *SQUARE[1:-1], [*SQUARE[0], 20.0]]),
            "ring-not-closed",
            id="last position differs from the first in altitude",
        ),
    ],
)
def test_a_ring_that_is_too_short_or_open_is_refused(client, county, boundary, code):
    refused_without_change(
        client,
        lambda: post(client, "townships", {"code": FREE_TOWNSHIP_CODE, "name": "新镇", "boundary": boundary}),
        code,
    )


@pytest.mark.parametrize(
    "boundary",
    [
        pytest.param(polygon(circle_ring(50_001)), id="one ring of 50001 positions"),
        pytest.param(
            multipolygon(
                polygon(circle_ring(25_001, centre=(10_000, 10_000))),
                polygon(circle_ring(25_000, centre=(12_000, 10_000))),
            ),
            id="two parts of 50001 positions in total",
        ),
        pytest.param(
            polygon(circle_ring(40_000, radius=500), circle_ring(10_001, radius=200)),
            id="shell and hole, 50001 in total",
        ),
    ],
)
def test_a_boundary_of_more_than_50000_positions_is_refused(client, county, boundary):
    refused_without_change(
        client,
        lambda: post(client, "townships", {"code": FREE_TOWNSHIP_CODE, "name": "新镇", "boundary": boundary}),
        "too-many-vertices",
    )


def test_a_boundary_of_exactly_50000_positions_is_accepted(client):
    created = post(
        client, "townships", {"code": FREE_TOWNSHIP_CODE, "name": "圆镇", "boundary": polygon(circle_ring(50_000))}
    )
    assert created.status_code == 201, created.get_json()
    assert len(created.get_json()["boundary"]["coordinates"][0]) == 50_000


BOW_TIE = polygon(ring((5000, 0), (6000, 1000), (6000, 0), (5000, 1000)))


def test_a_bow_tie_boundary_is_refused_as_crossing_itself(client, county):
    body = refused_without_change(
        client,
        lambda: post(client, "townships", {"code": FREE_TOWNSHIP_CODE, "name": "新镇", "boundary": BOW_TIE}),
        "geometry-self-intersection",
    )
    assert "Self-intersection" in body["detail"]


@pytest.mark.parametrize(
    ("boundary", "code", "reason"),
    [
        pytest.param(
            polygon(SQUARE, box_ring(7000, 0, 7100, 100)),
            "geometry-invalid",
            "Hole lies outside shell",
            id="a hole outside its shell",
        ),
        pytest.param(
            polygon(SQUARE, box_ring(5100, 100, 5900, 900), box_ring(5200, 200, 5800, 800)),
            "geometry-invalid",
            "Holes are nested",
            id="a hole inside another hole",
        ),
        pytest.param(
            multipolygon(polygon(SQUARE), polygon(box_ring(5200, 200, 5800, 800))),
            "geometry-invalid",
            "Nested shells",
            id="a MultiPolygon part inside another",
        ),
        pytest.param(
            polygon([SQUARE[0]] * 4), "geometry-invalid", "Too few points", id="a ring of one repeated position"
        ),
        # GEOS reports overlapping or edge-sharing parts as a self-intersection, and the app names the rule after it
        pytest.param(
            multipolygon(polygon(SQUARE), polygon(box_ring(5500, 500, 6500, 1500))),
            "geometry-self-intersection",
            "Self-intersection",
            id="MultiPolygon parts that overlap",
        ),
        pytest.param(
            multipolygon(polygon(SQUARE), polygon(box_ring(6000, 0, 7000, 1000))),
            "geometry-self-intersection",
            "Self-intersection",
            id="MultiPolygon parts sharing an edge",
        ),
        pytest.param(
            polygon(SQUARE, box_ring(5000, 200, 5500, 800)),
            "geometry-self-intersection",
            "Self-intersection",
            id="a hole sharing an edge with its shell",
        ),
    ],
)
def test_an_invalid_area_is_refused_naming_the_reason(client, county, boundary, code, reason):
    body = refused_without_change(
        client,
        lambda: post(client, "townships", {"code": FREE_TOWNSHIP_CODE, "name": "新镇", "boundary": boundary}),
        code,
    )
    assert reason in body["detail"]


@pytest.mark.parametrize("kind", ["villages", "grid-cells"])
@pytest.mark.parametrize(
    ("boundary", "code"),
    [
        pytest.param({"type": "Polygon", "coordinates": [[[True, False]] * 5]}, "geojson-malformed", id="malformed"),
        pytest.param({"type": "Point", "coordinates": f.at(500, 500)}, "geometry-type-not-allowed", id="Point"),
        pytest.param(
            polygon([[28.0, 113.0], [28.001, 113.0], [28.001, 113.001], [28.0, 113.0]]),
            "coordinates-out-of-range",
            id="swapped",
        ),
        pytest.param(polygon(box_ring(100, 100, 900, 900)[:-1]), "ring-not-closed", id="open ring"),
        pytest.param(
            polygon(ring((100, 100), (900, 900), (900, 100), (100, 900))), "geometry-self-intersection", id="bow tie"
        ),
    ],
)
def test_villages_and_grid_cells_are_held_to_the_same_geometry_rules(client, kind, boundary, code):
    place = place_for(client, kind)
    refused_without_change(client, lambda: post(client, kind, place.body(place.codes[1], boundary)), code)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("boundary", "code"),
    [
        pytest.param("not geojson", "geojson-malformed", id="malformed"),
        pytest.param(
            {"type": "LineString", "coordinates": box_ring(0, 0, 500, 500)},
            "geometry-type-not-allowed",
            id="LineString",
        ),
        pytest.param(polygon(box_ring(0, 0, 500, 500)[:3]), "ring-too-few-positions", id="three positions"),
        pytest.param(
            polygon([[181.0, 28.0], *box_ring(0, 0, 500, 500)[1:-1], [181.0, 28.0]]),
            "coordinates-out-of-range",
            id="longitude 181",
        ),
        pytest.param(polygon(box_ring(0, 0, 500, 500)[:-1]), "ring-not-closed", id="open ring"),
        pytest.param(
            polygon(circle_ring(50_001, centre=(500, 500), radius=400)), "too-many-vertices", id="50001 positions"
        ),
        pytest.param(polygon(ring((0, 0), (500, 500), (500, 0), (0, 500))), "geometry-self-intersection", id="bow tie"),
        pytest.param(
            polygon(box_ring(0, 0, 500, 500), box_ring(600, 600, 700, 700)), "geometry-invalid", id="hole outside shell"
        ),
    ],
)
def test_redrawing_with_a_broken_boundary_is_refused_and_changes_nothing(client, county, kind, boundary, code):
    unit_id = county[kind]["id"]
    refused_without_change(client, lambda: patch(client, kind, unit_id, {"name": "改名", "boundary": boundary}), code)


# ---- what is accepted --------------------------------------------------------------------------------------------


def test_a_multipolygon_boundary_is_accepted_and_comes_back_as_a_multipolygon(client):
    parts = multipolygon(f.rect(0, 0, 1000, 1000), f.rect(2000, 0, 3000, 1000))
    created = post(client, "townships", {"code": f.TOWNSHIP_CODE, "name": "两片镇", "boundary": parts})
    assert created.status_code == 201, created.get_json()
    for answer in (created.get_json(), client.get(f"/api/v1/townships/{created.get_json()['id']}").get_json()):
        assert answer["boundary"]["type"] == "MultiPolygon"
        assert len(answer["boundary"]["coordinates"]) == 2
        assert answer["area_m2"] == pytest.approx(2_000_000, rel=0.01)


def test_a_polygon_with_a_hole_is_accepted_and_keeps_its_hole(client):
    holed = polygon(box_ring(0, 0, 1000, 1000), box_ring(250, 250, 750, 750))
    created = post(client, "townships", {"code": f.TOWNSHIP_CODE, "name": "环镇", "boundary": holed})
    assert created.status_code == 201, created.get_json()
    answer = client.get(f"/api/v1/townships/{created.get_json()['id']}").get_json()
    assert answer["boundary"]["type"] == "Polygon"
    assert len(answer["boundary"]["coordinates"]) == 2
    assert answer["area_m2"] == pytest.approx(1_000_000 - 250_000, rel=0.01)


def test_a_village_may_lie_in_a_township_made_of_several_parts(client):
    township = post(
        client,
        "townships",
        {
            "code": f.TOWNSHIP_CODE,
            "name": "两片镇",
            "boundary": multipolygon(f.rect(0, 0, 1000, 1000), f.rect(2000, 0, 3000, 1000)),
        },
    ).get_json()
    village = f.village(client, township["id"], box=(2000, 0, 3000, 1000))
    assert village["township_id"] == township["id"]


# ---- inside the parent -------------------------------------------------------------------------------------------


def _sticking_out(place: Place, by_m: float) -> dict[str, Any]:
    """A box in the parent's north-east quarter whose east side lies `by_m` beyond the parent's."""
    x0, y0, x1, y1 = place.parent_box
    return f.rect((x0 + x1) / 2, (y0 + y1) / 2, x1 + by_m, y1)


def _well_inside(place: Place) -> dict[str, Any]:
    """A box in the parent's north-east quarter, 100 m clear of the parent's east side."""
    return _sticking_out(place, -100)


@pytest.mark.parametrize("kind", ["villages", "grid-cells"])
@pytest.mark.parametrize("by_m", [10, 1.5])
def test_a_unit_sticking_out_of_its_parent_beyond_the_tolerance_is_refused(client, kind, by_m):
    place = place_for(client, kind)
    body = refused_without_change(
        client, lambda: post(client, kind, place.body(place.codes[1], _sticking_out(place, by_m))), "outside-parent"
    )
    half_side = (place.parent_box[3] - place.parent_box[1]) / 2
    assert body["area_m2"] == pytest.approx(half_side * by_m, rel=0.05)


@pytest.mark.parametrize("kind", ["villages", "grid-cells"])
def test_a_unit_sticking_out_of_its_parent_by_0_4_m_is_accepted(client, kind):
    place = place_for(client, kind)
    created = post(client, kind, place.body(place.codes[1], _sticking_out(place, 0.4)))
    assert created.status_code == 201, created.get_json()


def test_a_village_inside_a_hole_of_its_township_is_refused(client):
    holed = polygon(box_ring(0, 0, 4000, 4000), box_ring(1000, 1000, 3000, 3000))
    township = post(client, "townships", {"code": f.TOWNSHIP_CODE, "name": "环镇", "boundary": holed}).get_json()
    place = Place("villages", {"township_id": township["id"]})
    refused_without_change(
        client,
        lambda: post(client, "villages", place.body(f.VILLAGE_CODE, f.rect(1500, 1500, 2500, 2500))),
        "outside-parent",
    )


def test_a_village_with_one_part_outside_its_township_is_refused(client):
    township = f.township(client)
    parts = multipolygon(f.rect(0, 0, 1000, 1000), f.rect(5000, 0, 6000, 1000))
    place = Place("villages", {"township_id": township["id"]})
    refused_without_change(
        client, lambda: post(client, "villages", place.body(f.VILLAGE_CODE, parts)), "outside-parent"
    )


@pytest.mark.parametrize("kind", ["villages", "grid-cells"])
def test_redrawing_a_unit_to_stick_out_of_its_parent_by_10_m_is_refused(client, county, kind):
    outside = {"villages": f.rect(0, 0, 2000, 4010), "grid-cells": f.rect(0, 0, 1000, 2010)}[kind]
    refused_without_change(
        client, lambda: patch(client, kind, county[kind]["id"], {"boundary": outside}), "outside-parent"
    )


# ---- clear of the siblings ---------------------------------------------------------------------------------------


def _neighbours(client: FlaskClient, kind: str, overlap_m: float) -> tuple[Place, dict[str, Any], dict[str, Any]]:
    """A first unit on the west half of the parent's south half and the body of a second one on the east half,
    reaching `overlap_m` into the first."""
    place = place_for(client, kind)
    x0, y0, x1, y1 = place.parent_box
    mid = (x0 + x1) / 2
    first = post(client, kind, place.body(place.codes[0], f.rect(x0, y0, mid, (y0 + y1) / 2)))
    assert first.status_code == 201, first.get_json()
    second = place.body(place.codes[1], f.rect(mid - overlap_m, y0, x1, (y0 + y1) / 2))
    return place, first.get_json(), second


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("overlap_m", [10, 1.5])
def test_units_overlapping_a_sibling_beyond_the_tolerance_are_refused(client, kind, overlap_m):
    place, first, second = _neighbours(client, kind, overlap_m)
    body = refused_without_change(client, lambda: post(client, kind, second), "overlaps-sibling")
    assert body["sibling_code"] == first["code"]
    strip_length = (place.parent_box[3] - place.parent_box[1]) / 2
    assert body["area_m2"] == pytest.approx(strip_length * overlap_m, rel=0.05)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("overlap_m", [0.4, 0], ids=["overlapping by 0.4 m", "touching along an edge"])
def test_units_touching_or_overlapping_a_sibling_within_the_tolerance_are_accepted(client, kind, overlap_m):
    _place, _first, second = _neighbours(client, kind, overlap_m)
    created = post(client, kind, second)
    assert created.status_code == 201, created.get_json()


@pytest.mark.parametrize("kind", KINDS)
def test_a_retired_sibling_does_not_count_as_an_overlap(client, kind):
    _place, first, second = _neighbours(client, kind, 10)
    assert_refused(post(client, kind, second), "overlaps-sibling", "/boundary")
    retire(client, kind, first["id"])
    created = post(client, kind, second)
    assert created.status_code == 201, created.get_json()


def test_units_of_another_parent_are_not_siblings(client):
    """Two touching townships, each with a village reaching 0.9 m across the shared edge (within the tolerance of
    its own township): the villages overlap by 1.8 m, which would be refused between siblings."""
    west = f.township(client, box=(0, 0, 4000, 4000))
    east = f.township(client, code="430199102", box=(4000, 0, 8000, 4000))
    f.village(client, west["id"], box=(2000, 0, 4000.9, 2000))
    village = f.village(client, east["id"], code="430199102201", box=(3999.1, 0, 6000, 2000))
    assert village["township_id"] == east["id"]


@pytest.mark.parametrize("kind", KINDS)
def test_redrawing_a_unit_over_its_sibling_is_refused(client, kind):
    place, first, second = _neighbours(client, kind, 0)
    second_id = post(client, kind, second).get_json()["id"]
    x0, y0, x1, y1 = place.parent_box
    over = f.rect((x0 + x1) / 2 - 10, y0, x1, (y0 + y1) / 2)
    body = refused_without_change(
        client, lambda: patch(client, kind, second_id, {"boundary": over}), "overlaps-sibling"
    )
    assert body["sibling_code"] == first["code"]


def test_redrawing_a_unit_over_its_own_old_boundary_is_no_overlap(client, county):
    grown = patch(client, "grid-cells", county["grid-cells"]["id"], {"boundary": f.rect(0, 0, 1500, 1500)})
    assert grown.status_code == 200, grown.get_json()
    assert grown.get_json()["version"] == county["grid-cells"]["version"] + 1


# ---- still holding the children ----------------------------------------------------------------------------------


def test_redrawing_a_village_so_that_a_cell_falls_outside_is_refused(client, county):
    moved = f.rect(1000, 0, 3000, 2000)  # the cell (0..1000 m) is left entirely outside
    body = refused_without_change(
        client,
        lambda: patch(client, "villages", county["villages"]["id"], {"name": "改名", "boundary": moved}),
        "children-outside",
    )
    assert body["child_code"] == county["grid-cells"]["code"]


def test_giving_a_village_a_hole_where_a_cell_lies_is_refused(client, county):
    holed = polygon(box_ring(0, 0, 2000, 2000), box_ring(200, 200, 800, 800))
    body = refused_without_change(
        client, lambda: patch(client, "villages", county["villages"]["id"], {"boundary": holed}), "children-outside"
    )
    assert body["child_code"] == county["grid-cells"]["code"]


def test_shrinking_a_township_so_that_a_village_falls_outside_is_refused(client, county):
    body = refused_without_change(
        client,
        lambda: patch(client, "townships", county["townships"]["id"], {"boundary": f.rect(0, 0, 4000, 1500)}),
        "children-outside",
    )
    assert body["child_code"] == county["villages"]["code"]


def test_redrawing_a_village_0_4_m_inside_the_edge_of_its_cell_is_accepted(client, county):
    redrawn = patch(client, "villages", county["villages"]["id"], {"boundary": f.rect(0.4, 0, 2000, 2000)})
    assert redrawn.status_code == 200, redrawn.get_json()


def test_a_retired_cell_does_not_hold_its_village_back(client, county):
    retire(client, "grid-cells", county["grid-cells"]["id"])
    redrawn = patch(client, "villages", county["villages"]["id"], {"boundary": f.rect(1000, 0, 3000, 2000)})
    assert redrawn.status_code == 200, redrawn.get_json()


# ---- codes, names and parents ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("villages", "430199102201"),  # another township's code
        ("villages", "999999999201"),
        ("grid-cells", f.TOWNSHIP_CODE + "202001"),  # another village of the same township
    ],
)
def test_a_code_that_does_not_start_with_its_parents_code_is_refused(client, kind, code):
    place = place_for(client, kind)
    refused_without_change(
        client,
        lambda: post(client, kind, place.body(code, _well_inside(place))),
        "code-parent-mismatch",
        "/code",
    )


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        pytest.param("townships", "43019910", id="township of 8 digits"),
        pytest.param("townships", "4301991012", id="township of 10 digits"),
        pytest.param("townships", "43019910A", id="township with a letter"),
        pytest.param("townships", "abcdefghi", id="township of letters"),
        pytest.param("townships", "", id="empty"),
        pytest.param("townships", " 430199101", id="leading space"),
        pytest.param("townships", "430199101\n", id="trailing newline"),
        pytest.param("townships", "４３０１９９１０１", id="full-width digits"),
        pytest.param("villages", f.TOWNSHIP_CODE + "20", id="village of 11 digits"),
        pytest.param("grid-cells", f.VILLAGE_CODE + "0001", id="grid cell of 16 digits"),
    ],
)
def test_a_code_that_is_not_the_right_number_of_digits_is_refused(client, kind, code):
    place = place_for(client, kind)
    boundary = f.rect(5000, 0, 6000, 1000) if kind == "townships" else _well_inside(place)
    refused_without_change(client, lambda: post(client, kind, place.body(code, boundary)), "code-format", "/code")


@pytest.mark.parametrize("name", ["   ", "\u3000", "\t\n"], ids=["spaces", "ideographic space", "tab and newline"])
def test_a_blank_name_is_refused(client, county, name):
    refused_without_change(
        client,
        lambda: post(
            client, "townships", {"code": FREE_TOWNSHIP_CODE, "name": name, "boundary": f.rect(5000, 0, 6000, 1000)}
        ),
        "name-blank",
        "/name",
    )


@pytest.mark.parametrize("kind", KINDS)
def test_renaming_to_a_blank_name_is_refused(client, county, kind):
    refused_without_change(
        client, lambda: patch(client, kind, county[kind]["id"], {"name": "  "}), "name-blank", "/name"
    )


@pytest.mark.parametrize("kind", ["villages", "grid-cells"])
def test_a_unit_under_a_parent_that_does_not_exist_is_refused(client, county, kind):
    code = {"villages": f.TOWNSHIP_CODE + "202", "grid-cells": f.VILLAGE_CODE + "002"}[kind]
    place = Place(kind, {PARENT_FIELD[kind]: 999999})
    refused_without_change(
        client,
        lambda: post(client, kind, place.body(code, f.rect(1000, 1000, 1500, 1500))),
        "parent-not-found",
        f"/{PARENT_FIELD[kind]}",
    )


@pytest.mark.parametrize("kind", ["villages", "grid-cells"])
def test_a_unit_under_a_retired_parent_is_refused(client, kind):
    place = place_for(client, kind)
    parent_kind = "townships" if kind == "villages" else "villages"
    retire(client, parent_kind, place.parent[PARENT_FIELD[kind]])
    refused_without_change(
        client,
        lambda: post(client, kind, place.body(place.codes[0], _well_inside(place))),
        "parent-retired",
        f"/{PARENT_FIELD[kind]}",
    )


# ---- the check that nothing changed ------------------------------------------------------------------------------


def test_snapshot_sees_a_change(client, county):
    """The `unchanged` check used throughout is not blind: a rename shows up in it."""
    before = snapshot(client)
    assert patch(client, "grid-cells", county["grid-cells"]["id"], {"name": "新名"}).status_code == 200
    after = snapshot(client)
    assert after != before
    cell_key = f"grid-cells/{county['grid-cells']['id']}"
    assert after[cell_key][0]["version"] == before[cell_key][0]["version"] + 1
