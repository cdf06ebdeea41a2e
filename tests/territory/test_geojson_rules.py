"""Each broken rule of the boundary itself answers 422 naming the rule, and no unit changes: GeoJSON shape,
coordinates, rings, vertex count and validity; and the boundaries that are accepted.

Every refusal is checked three ways: status 422 with a problem+json body naming the rule, an `errors` entry pointing
at the field, and every list and item of the API answering exactly as before. The units already there, where a test
needs some, are the `one_of_each` fixture's (tests/conftest.py). Every test runs on SpatiaLite and on PostGIS (see
conftest.py).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests import factories as f
from tests.factories import API, at, box_ring, multipolygon, polygon, rect, ring
from tests.territory.units import (
    FREE_TOWNSHIP_CODE,
    KINDS,
    ONE_OF_EACH,
    patch,
    place_for,
    post,
    refused_without_change,
)


def circle_ring(positions: int, centre: tuple[float, float] = (10_000, 10_000), radius: float = 500) -> list:
    """A valid closed ring of exactly `positions` positions (the closing one included)."""
    n = positions - 1
    cx, cy = centre
    points = [
        at(cx + radius * math.cos(2 * math.pi * i / n), cy + radius * math.sin(2 * math.pi * i / n)) for i in range(n)
    ]
    return [*points, points[0]]


# ---- rules of the GeoJSON itself ---------------------------------------------------------------------------------

SQUARE = box_ring(5000, 0, 6000, 1000)  # clear of the units of `one_of_each`


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
def test_a_boundary_that_is_not_well_formed_geojson_is_refused(client, one_of_each, boundary):
    refused_without_change(
        client,
        lambda: post(client, "townships", {"code": FREE_TOWNSHIP_CODE, "name": "新镇", "boundary": boundary}),
        "geojson-malformed",
    )


@pytest.mark.parametrize(
    "boundary",
    [
        pytest.param({"type": "Point", "coordinates": at(5500, 500)}, id="Point"),
        pytest.param({"type": "LineString", "coordinates": SQUARE}, id="LineString"),
        pytest.param({"type": "GeometryCollection", "geometries": [polygon(SQUARE)]}, id="GeometryCollection"),
        pytest.param(
            {"type": "Feature", "geometry": polygon(SQUARE), "properties": {}}, id="a Feature around a Polygon"
        ),
        pytest.param({"type": "polygon", "coordinates": [SQUARE]}, id="type in lower case"),
    ],
)
def test_a_boundary_that_is_not_an_area_is_refused(client, one_of_each, boundary):
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
def test_a_position_off_the_globe_is_refused(client, one_of_each, boundary):
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
def test_a_ring_that_is_too_short_or_open_is_refused(client, one_of_each, boundary, code):
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
def test_a_boundary_of_more_than_50000_positions_is_refused(client, one_of_each, boundary):
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


def test_a_bow_tie_boundary_is_refused_as_crossing_itself(client, one_of_each):
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
def test_an_invalid_area_is_refused_naming_the_reason(client, one_of_each, boundary, code, reason):
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
        pytest.param({"type": "Point", "coordinates": at(500, 500)}, "geometry-type-not-allowed", id="Point"),
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
def test_redrawing_with_a_broken_boundary_is_refused_and_changes_nothing(client, one_of_each, kind, boundary, code):
    unit_id = one_of_each[ONE_OF_EACH[kind]]
    refused_without_change(client, lambda: patch(client, kind, unit_id, {"name": "改名", "boundary": boundary}), code)


# ---- what is accepted --------------------------------------------------------------------------------------------


def test_a_multipolygon_boundary_is_accepted_and_comes_back_as_a_multipolygon(client):
    parts = multipolygon(rect(0, 0, 1000, 1000), rect(2000, 0, 3000, 1000))
    created = post(client, "townships", {"code": f.TOWNSHIP_CODE, "name": "两片镇", "boundary": parts})
    assert created.status_code == 201, created.get_json()
    for answer in (created.get_json(), client.get(f"{API}/townships/{created.get_json()['id']}").get_json()):
        assert answer["boundary"]["type"] == "MultiPolygon"
        assert len(answer["boundary"]["coordinates"]) == 2
        assert answer["area_m2"] == pytest.approx(2_000_000, rel=0.01)


def test_a_polygon_with_a_hole_is_accepted_and_keeps_its_hole(client):
    holed = polygon(box_ring(0, 0, 1000, 1000), box_ring(250, 250, 750, 750))
    created = post(client, "townships", {"code": f.TOWNSHIP_CODE, "name": "环镇", "boundary": holed})
    assert created.status_code == 201, created.get_json()
    answer = client.get(f"{API}/townships/{created.get_json()['id']}").get_json()
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
            "boundary": multipolygon(rect(0, 0, 1000, 1000), rect(2000, 0, 3000, 1000)),
        },
    ).get_json()
    village = f.village(client, township["id"], box=(2000, 0, 3000, 1000))
    assert village["township_id"] == township["id"]
