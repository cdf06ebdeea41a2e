"""Townships, villages and grid cells through the HTTP API, as a county administrator and a patrol officer use them.

Every test runs on SpatiaLite and on PostGIS (see conftest.py). Polygons are built in metres around (113°E, 28°N)
by tests/factories.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geo.coords import wgs84_to_gcj02
from tests import factories as f
from tests.factories import TOWNSHIP_CODE, VILLAGE_CODE, assert_problem, at, rect

API = "/api/v1"
PROBLEM_JSON = "application/problem+json"
GEOJSON = "application/geo+json"
CELL_CODE = VILLAGE_CODE + "001"


# ---- helpers ------------------------------------------------------------------------------------------------------


def coords_of(geometry: dict[str, Any]) -> list[float]:
    """All coordinates of a geometry in a canonical order (so ring start and orientation do not matter)."""
    return list(shape(geometry).normalize().exterior.coords)


def assert_same_polygon(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    assert actual["type"] == expected["type"] == "Polygon"
    got, want = coords_of(actual), coords_of(expected)
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


def assert_recent_aware_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    assert moment.utcoffset() is not None, f"{value} has no offset"
    assert abs(datetime.now(UTC) - moment) < timedelta(minutes=5)
    return moment


def get(client: FlaskClient, path: str, **kwargs: Any):
    return client.get(f"{API}/{path}", **kwargs)


def item(client: FlaskClient, path: str, unit_id: int) -> dict[str, Any]:
    response = get(client, f"{path}/{unit_id}")
    assert response.status_code == 200
    return response.get_json()


def patch(client: FlaskClient, path: str, unit_id: int, body: Any, if_match: str | None):
    headers = {"If-Match": if_match} if if_match is not None else {}
    return client.patch(f"{API}/{path}/{unit_id}", json=body, headers=headers)


def retire(client: FlaskClient, path: str, unit_id: int, if_match: str | None):
    headers = {"If-Match": if_match} if if_match is not None else {}
    return client.post(f"{API}/{path}/{unit_id}/retire", headers=headers)


def etag_of(unit: dict[str, Any]) -> str:
    return f'"{unit["version"]}"'


def codes(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [i["code"] for i in response.get_json()["items"]]


def locate(client: FlaskClient, lon: float, lat: float, **extra: Any):
    return get(client, "grid-cells/locate", query_string={"lon": lon, "lat": lat, **extra})


@pytest.fixture
def county(client: FlaskClient) -> dict[str, dict[str, Any]]:
    """Two townships side by side; two villages in the first and one in the second; four cells.

    t1 (0..4000 m)  : v1 (0..2000) with c1 (0..1000) and c2 (1000..2000); v2 (2000..4000) with c3 (2000..3000)
    t2 (4000..8000) : v3 (4000..6000) with c4 (4000..5000)
    """
    t1 = f.township(client, "430199101", box=(0, 0, 4000, 4000), name="青山镇")
    t2 = f.township(client, "430199102", box=(4000, 0, 8000, 4000), name="Green Hill Town")
    v1 = f.village(client, t1["id"], "430199101201", box=(0, 0, 2000, 2000), name="张家村")
    v2 = f.village(client, t1["id"], "430199101202", box=(2000, 0, 4000, 2000), name="李家村")
    v3 = f.village(client, t2["id"], "430199102201", box=(4000, 0, 6000, 2000), name="王家村")
    c1 = f.cell(client, v1["id"], "430199101201001", box=(0, 0, 1000, 1000), name="第1网格")
    c2 = f.cell(client, v1["id"], "430199101201002", box=(1000, 0, 2000, 1000), name="第2网格")
    c3 = f.cell(client, v2["id"], "430199101202001", box=(2000, 0, 3000, 1000), name="第1网格")
    c4 = f.cell(client, v3["id"], "430199102201001", box=(4000, 0, 5000, 1000), name="第1网格")
    return {"t1": t1, "t2": t2, "v1": v1, "v2": v2, "v3": v3, "c1": c1, "c2": c2, "c3": c3, "c4": c4}


# ---- create -------------------------------------------------------------------------------------------------------


def test_creating_a_township_answers_the_record_with_its_location_and_etag(client):
    box = rect(0, 0, 1000, 1000)
    response = client.post(f"{API}/townships", json={"code": TOWNSHIP_CODE, "name": "青山镇", "boundary": box})

    assert response.status_code == 201
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body["id"], int)
    assert body["code"] == TOWNSHIP_CODE
    assert body["name"] == "青山镇"
    assert_same_polygon(body["boundary"], box)
    assert body["area_m2"] == pytest.approx(1_000_000, rel=0.005)
    assert_point_at(body["centroid"], 500, 500)
    created = assert_recent_aware_time(body["created_at"])
    assert assert_recent_aware_time(body["updated_at"]) == created
    assert body["retired_at"] is None
    assert body["version"] == 1
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"].endswith(f"{API}/townships/{body['id']}")

    fetched = client.get(response.headers["Location"])
    assert fetched.status_code == 200
    assert fetched.get_json() == body


def test_creating_a_village_keeps_its_township(client):
    town = f.township(client)
    response = client.post(
        f"{API}/villages",
        json={"township_id": town["id"], "code": VILLAGE_CODE, "name": "张家村", "boundary": rect(0, 0, 1000, 1000)},
    )

    assert response.status_code == 201
    body = response.get_json()
    assert body["township_id"] == town["id"]
    assert body["code"] == VILLAGE_CODE
    assert body["area_m2"] == pytest.approx(1_000_000, rel=0.005)
    assert_point_at(body["centroid"], 500, 500)
    assert body["version"] == 1
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"].endswith(f"{API}/villages/{body['id']}")
    assert item(client, "villages", body["id"]) == body


def test_creating_a_cell_derives_its_township_from_its_village(client):
    town = f.township(client)
    vill = f.village(client, town["id"])
    box = rect(1000, 1000, 2000, 2000)
    response = client.post(
        f"{API}/grid-cells", json={"village_id": vill["id"], "code": CELL_CODE, "name": "第1网格", "boundary": box}
    )

    assert response.status_code == 201
    body = response.get_json()
    assert body["village_id"] == vill["id"]
    assert body["township_id"] == town["id"]
    assert body["code"] == CELL_CODE
    assert body["name"] == "第1网格"
    assert_same_polygon(body["boundary"], box)
    assert body["area_m2"] == pytest.approx(1_000_000, rel=0.005)
    assert_point_at(body["centroid"], 1500, 1500)
    assert assert_recent_aware_time(body["created_at"])
    assert body["retired_at"] is None
    assert body["version"] == 1
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert response.headers["Location"].endswith(f"{API}/grid-cells/{body['id']}")
    assert item(client, "grid-cells", body["id"]) == body


@pytest.mark.parametrize("level", ["townships", "villages", "grid-cells"])
def test_a_taken_code_is_refused_and_nothing_is_created(client, level):
    town = f.township(client)
    vill = f.village(client, town["id"])
    cell = f.cell(client, vill["id"])
    duplicate = {
        "townships": {"code": TOWNSHIP_CODE, "boundary": rect(5000, 0, 6000, 1000)},
        "villages": {"township_id": town["id"], "code": VILLAGE_CODE, "boundary": rect(2000, 2000, 3000, 3000)},
        "grid-cells": {"village_id": vill["id"], "code": CELL_CODE, "boundary": rect(1000, 1000, 2000, 2000)},
    }[level]

    response = client.post(f"{API}/{level}", json={**duplicate, "name": "Duplicate"})

    assert_problem(response, 409, "code-taken")
    original = {"townships": town, "villages": vill, "grid-cells": cell}[level]
    listed = get(client, level, query_string={"include_retired": "true", "count": "true"}).get_json()
    assert listed["total"] == 1
    assert [i["id"] for i in listed["items"]] == [original["id"]]
    assert item(client, level, original["id"]) == original


# ---- list ---------------------------------------------------------------------------------------------------------


def test_the_township_list_is_paginated_in_code_order(client):
    created = ["430199105", "430199101", "430199104", "430199103", "430199102"]
    for i, code in enumerate(created):
        f.township(client, code, box=(i * 1000, 0, i * 1000 + 1000, 1000), name=f"Town {code}")

    first = get(client, "townships", query_string={"page_size": 2}).get_json()
    second = get(client, "townships", query_string={"page_size": 2, "page": 2}).get_json()
    third = get(client, "townships", query_string={"page_size": 2, "page": 3}).get_json()
    beyond = get(client, "townships", query_string={"page_size": 2, "page": 4}).get_json()

    assert (first["page"], first["page_size"], first["total"]) == (1, 2, 5)
    assert [i["code"] for i in first["items"]] == ["430199101", "430199102"]
    assert [i["code"] for i in second["items"]] == ["430199103", "430199104"]
    assert [i["code"] for i in third["items"]] == ["430199105"]
    assert beyond["items"] == [] and beyond["total"] == 5
    default = get(client, "townships").get_json()
    assert (default["page"], default["page_size"], default["total"]) == (1, 50, 5)
    assert [i["code"] for i in default["items"]] == sorted(created)


def test_a_list_without_page_size_answers_the_default_page_of_50(client):
    f.township(client)

    response = get(client, "townships")

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["page"], body["page_size"], body["total"]) == (1, 50, 1)
    assert [i["code"] for i in body["items"]] == [TOWNSHIP_CODE]


def test_page_size_is_capped_at_500(client):
    assert get(client, "townships", query_string={"page_size": 500}).status_code == 200

    body = assert_problem(get(client, "townships", query_string={"page_size": 501}), 422, "page-size-too-large")

    assert body["errors"][0]["in"] == "query"
    assert body["errors"][0]["field"] == "page_size"


def test_list_items_have_the_same_fields_as_the_item(client):
    town = f.township(client)

    listed = get(client, "townships").get_json()["items"]

    assert listed == [item(client, "townships", town["id"])]


def test_name_filter_is_a_case_insensitive_substring(client, county):
    assert codes(get(client, "townships", query_string={"name": "green HILL"})) == ["430199102"]
    assert codes(get(client, "townships", query_string={"name": "hill town"})) == ["430199102"]
    assert codes(get(client, "townships", query_string={"name": "青山"})) == ["430199101"]
    assert codes(get(client, "villages", query_string={"name": "家村"})) == [
        "430199101201",
        "430199101202",
        "430199102201",
    ]
    assert codes(get(client, "villages", query_string={"name": "李"})) == ["430199101202"]
    assert codes(get(client, "grid-cells", query_string={"name": "第2"})) == ["430199101201002"]
    assert codes(get(client, "townships", query_string={"name": "nowhere"})) == []


def test_name_filter_ignores_case_beyond_ascii(client):
    # Chinese names often carry full-width Latin letters (Ａ区, "Area A"); other scripts have case too
    f.township(client, "430199101", box=(0, 0, 1000, 1000), name="Ａ区街道")
    f.township(client, "430199102", box=(1000, 0, 2000, 1000), name="ÉCOLE Town")

    assert codes(get(client, "townships", query_string={"name": "ａ区"})) == ["430199101"]
    assert codes(get(client, "townships", query_string={"name": "école"})) == ["430199102"]


def test_name_filter_treats_wildcards_literally(client):
    f.township(client, "430199101", box=(0, 0, 1000, 1000), name="100%_Town")
    f.township(client, "430199102", box=(1000, 0, 2000, 1000), name="100 Town")

    assert codes(get(client, "townships", query_string={"name": "%"})) == ["430199101"]
    assert codes(get(client, "townships", query_string={"name": "_"})) == ["430199101"]
    assert codes(get(client, "townships", query_string={"name": "%_t"})) == ["430199101"]


def test_code_filter_is_a_prefix(client, county):
    assert codes(get(client, "townships", query_string={"code": "4301991"})) == ["430199101", "430199102"]
    assert codes(get(client, "villages", query_string={"code": "430199101"})) == ["430199101201", "430199101202"]
    assert codes(get(client, "grid-cells", query_string={"code": "430199101201"})) == [
        "430199101201001",
        "430199101201002",
    ]
    # a prefix, not a substring
    assert codes(get(client, "grid-cells", query_string={"code": "201001"})) == []


def test_villages_filter_by_township(client, county):
    t1, t2 = county["t1"]["id"], county["t2"]["id"]

    assert codes(get(client, "villages", query_string={"township_id": t1})) == ["430199101201", "430199101202"]
    assert codes(get(client, "villages", query_string={"township_id": t2})) == ["430199102201"]
    assert get(client, "villages", query_string={"township_id": t1, "count": "true"}).get_json()["total"] == 2


def test_cells_filter_by_village_and_by_township(client, county):
    v1, v2 = county["v1"]["id"], county["v2"]["id"]
    t1, t2 = county["t1"]["id"], county["t2"]["id"]

    assert codes(get(client, "grid-cells", query_string={"village_id": v1})) == [
        "430199101201001",
        "430199101201002",
    ]
    assert codes(get(client, "grid-cells", query_string={"village_id": v2})) == ["430199101202001"]
    assert codes(get(client, "grid-cells", query_string={"township_id": t1})) == [
        "430199101201001",
        "430199101201002",
        "430199101202001",
    ]
    assert codes(get(client, "grid-cells", query_string={"township_id": t2})) == ["430199102201001"]
    assert codes(get(client, "grid-cells", query_string={"township_id": t2, "village_id": v1})) == []


@pytest.mark.parametrize(
    ("level", "params"),
    [
        ("townships", {"colour": "red"}),
        ("townships", {"township_id": "1"}),  # townships have no parent to filter on
        ("villages", {"village_id": "1"}),
        ("grid-cells", {"parent": "1"}),
    ],
)
def test_an_unknown_query_parameter_is_refused(client, level, params):
    body = assert_problem(get(client, level, query_string=params), 422, "unknown-field")

    (name,) = params
    assert body["errors"] == [{"in": "query", "field": name, "code": "unknown-field", "detail": "Unknown field."}]


def test_retired_units_are_listed_only_on_request(client):
    f.township(client, "430199101", box=(0, 0, 1000, 1000))
    gone = f.township(client, "430199102", box=(1000, 0, 2000, 1000))
    assert retire(client, "townships", gone["id"], etag_of(gone)).status_code == 200

    default = get(client, "townships").get_json()
    assert [i["code"] for i in default["items"]] == ["430199101"]
    assert default["total"] == 1
    everything = get(client, "townships", query_string={"include_retired": "true"}).get_json()
    assert [i["code"] for i in everything["items"]] == ["430199101", "430199102"]
    assert everything["total"] == 2
    assert everything["items"][1]["retired_at"] is not None
    assert codes(get(client, "townships", query_string={"include_retired": "false"})) == ["430199101"]


# ---- GeoJSON ------------------------------------------------------------------------------------------------------


def _assert_feature_collection(response, expected: list[dict[str, Any]]) -> None:
    assert response.status_code == 200
    assert response.mimetype == GEOJSON
    collection = response.get_json(force=True)
    assert collection["type"] == "FeatureCollection"
    assert collection["total"] == len(expected)
    assert [feat["id"] for feat in collection["features"]] == [u["id"] for u in expected]
    for feat, unit in zip(collection["features"], expected, strict=True):
        assert feat["type"] == "Feature"
        assert_same_polygon(feat["geometry"], unit["boundary"])
        assert "boundary" not in feat["properties"]
        assert "id" not in feat["properties"]
        assert feat["properties"]["code"] == unit["code"]
        assert feat["properties"]["name"] == unit["name"]
        assert feat["properties"]["village_id"] == unit["village_id"]
        assert feat["properties"]["area_m2"] == pytest.approx(unit["area_m2"])


def test_format_geojson_answers_a_feature_collection(client, county):
    cells = [county["c1"], county["c2"]]

    response = get(
        client, "grid-cells", query_string={"format": "geojson", "village_id": county["v1"]["id"], "count": "true"}
    )

    _assert_feature_collection(response, cells)


def test_accept_geojson_answers_a_feature_collection(client, county):
    cells = [county["c1"], county["c2"]]

    response = get(
        client,
        "grid-cells",
        query_string={"village_id": county["v1"]["id"], "count": "true"},
        headers={"Accept": GEOJSON},
    )

    _assert_feature_collection(response, cells)


@pytest.mark.parametrize("headers", [{}, {"Accept": "application/json"}, {"Accept": "*/*"}])
def test_plain_requests_answer_json_with_items(client, county, headers):
    response = get(client, "grid-cells", headers=headers)

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert "features" not in body
    assert [i["code"] for i in body["items"]] == sorted(county[c]["code"] for c in ("c1", "c2", "c3", "c4"))


def test_format_json_wins_over_an_accept_header(client, county):
    response = get(client, "townships", query_string={"format": "json"}, headers={"Accept": GEOJSON})

    assert response.mimetype == "application/json"
    assert len(response.get_json()["items"]) == 2


def test_an_unknown_format_is_refused(client):
    body = assert_problem(get(client, "townships", query_string={"format": "kml"}), 422, "invalid")

    assert body["errors"][0]["field"] == "format"


# ---- get one ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["townships", "villages", "grid-cells"])
def test_get_one_answers_the_unit_with_its_etag(client, county, level):
    unit = {"townships": county["t2"], "villages": county["v2"], "grid-cells": county["c3"]}[level]

    response = get(client, f"{level}/{unit['id']}")

    assert response.status_code == 200
    assert response.headers["ETag"] == etag_of(unit)
    assert response.get_json() == unit


@pytest.mark.parametrize("level", ["townships", "villages", "grid-cells"])
def test_an_unknown_id_is_a_404_problem(client, level):
    body = assert_problem(get(client, f"{level}/999999"), 404, "not-found")

    assert "999999" in body["detail"]


# ---- PATCH --------------------------------------------------------------------------------------------------------


def test_patch_without_if_match_is_refused_and_changes_nothing(client):
    town = f.township(client)

    assert_problem(patch(client, "townships", town["id"], {"name": "New name"}, None), 428, "precondition-required")

    assert item(client, "townships", town["id"]) == town


def test_patch_with_a_stale_etag_is_refused_and_changes_nothing(client):
    town = f.township(client)
    assert patch(client, "townships", town["id"], {"name": "Second"}, '"1"').status_code == 200
    current = item(client, "townships", town["id"])

    body = assert_problem(
        patch(client, "townships", town["id"], {"name": "Lost update"}, '"1"'), 412, "precondition-failed"
    )

    assert body["current_version"] == 2
    assert item(client, "townships", town["id"]) == current
    assert current["name"] == "Second"


def test_patch_with_the_current_etag_bumps_the_version(client):
    town = f.township(client)

    response = patch(client, "townships", town["id"], {"name": "红旗镇"}, etag_of(town))

    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "红旗镇"
    assert body["version"] == 2
    assert response.headers["ETag"] == '"2"'
    assert body["created_at"] == town["created_at"]
    assert datetime.fromisoformat(body["updated_at"]) >= datetime.fromisoformat(town["updated_at"])
    assert item(client, "townships", town["id"]) == body

    again = patch(client, "townships", town["id"], {"name": "红星镇"}, response.headers["ETag"])
    assert again.status_code == 200
    assert again.get_json()["version"] == 3
    assert again.headers["ETag"] == '"3"'


def test_patch_with_if_match_star_applies_to_any_version(client):
    town = f.township(client)
    patch(client, "townships", town["id"], {"name": "Second"}, '"1"')

    response = patch(client, "townships", town["id"], {"name": "Third"}, "*")

    assert response.status_code == 200
    assert response.get_json()["name"] == "Third"
    assert response.get_json()["version"] == 3


def test_a_rename_leaves_the_boundary_as_it_was(client):
    town = f.township(client)
    vill = f.village(client, town["id"])
    cell = f.cell(client, vill["id"])

    response = patch(client, "grid-cells", cell["id"], {"name": "东片网格"}, etag_of(cell))

    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "东片网格"
    assert_same_polygon(body["boundary"], cell["boundary"])
    assert body["area_m2"] == cell["area_m2"]
    assert body["centroid"] == cell["centroid"]
    assert (body["code"], body["village_id"], body["township_id"]) == (cell["code"], vill["id"], town["id"])


def test_a_redraw_updates_area_and_centroid(client):
    town = f.township(client)
    vill = f.village(client, town["id"])
    cell = f.cell(client, vill["id"], box=(0, 0, 1000, 1000))
    new_box = rect(0, 0, 2000, 1000)

    response = patch(client, "grid-cells", cell["id"], {"boundary": new_box}, etag_of(cell))

    assert response.status_code == 200
    body = response.get_json()
    assert_same_polygon(body["boundary"], new_box)
    assert body["area_m2"] == pytest.approx(2_000_000, rel=0.005)
    assert_point_at(body["centroid"], 1000, 500)
    assert body["name"] == cell["name"]
    assert body["version"] == 2
    assert item(client, "grid-cells", cell["id"]) == body


def test_a_redraw_that_would_leave_a_cell_outside_is_refused(client):
    town = f.township(client)
    vill = f.village(client, town["id"], box=(0, 0, 2000, 2000))
    f.cell(client, vill["id"], box=(1000, 1000, 2000, 2000))

    response = patch(client, "villages", vill["id"], {"boundary": rect(0, 0, 1000, 2000)}, etag_of(vill))

    body = assert_problem(response, 422, "children-outside")
    assert body["errors"][0]["pointer"] == "/boundary"
    assert item(client, "villages", vill["id"]) == vill


def test_an_empty_patch_is_refused(client):
    town = f.township(client)

    body = assert_problem(patch(client, "townships", town["id"], {}, etag_of(town)), 422, "empty-patch")

    assert body["errors"][0]["in"] == "body"
    assert item(client, "townships", town["id"]) == town


@pytest.mark.parametrize(
    "change",
    [{"code": "430199109"}, {"township_id": 1}, {"name": "X", "code": "430199101209"}, {"area_m2": 5.0}],
)
def test_code_and_parent_cannot_be_patched(client, change):
    town = f.township(client)
    vill = f.village(client, town["id"])

    body = assert_problem(patch(client, "villages", vill["id"], change, etag_of(vill)), 422, "unknown-field")

    unknown = [e for e in body["errors"] if e["code"] == "unknown-field"]
    assert [e["field"] for e in unknown] == [k for k in change if k != "name"]
    assert unknown[0]["pointer"] == f"/{unknown[0]['field']}"
    assert item(client, "villages", vill["id"]) == vill


@pytest.mark.parametrize("level", ["townships", "grid-cells"])
def test_parent_fields_cannot_be_patched_on_any_level(client, level):
    town = f.township(client)
    vill = f.village(client, town["id"])
    cell = f.cell(client, vill["id"])
    unit, field = (town, "code") if level == "townships" else (cell, "village_id")

    body = assert_problem(patch(client, level, unit["id"], {field: vill["id"]}, etag_of(unit)), 422, "unknown-field")

    assert body["errors"][0]["field"] == field
    assert item(client, level, unit["id"]) == unit


def test_patching_an_unknown_unit_is_a_404(client):
    assert_problem(patch(client, "townships", 999999, {"name": "X"}, "*"), 404, "not-found")


# ---- retire -------------------------------------------------------------------------------------------------------


def test_retiring_needs_if_match(client):
    town = f.township(client)

    assert_problem(retire(client, "townships", town["id"], None), 428, "precondition-required")
    assert_problem(retire(client, "townships", town["id"], '"7"'), 412, "precondition-failed")

    assert item(client, "townships", town["id"]) == town


def test_a_village_with_an_active_cell_cannot_be_retired(client):
    town = f.township(client)
    vill = f.village(client, town["id"])
    cell = f.cell(client, vill["id"])

    body = assert_problem(retire(client, "villages", vill["id"], etag_of(vill)), 409, "has-active-children")

    assert cell["code"] in body["detail"]
    assert item(client, "villages", vill["id"]) == vill


def test_retiring_the_cell_then_the_village_works(client):
    town = f.township(client)
    vill = f.village(client, town["id"])
    cell = f.cell(client, vill["id"])

    retired_cell = retire(client, "grid-cells", cell["id"], etag_of(cell))
    assert retired_cell.status_code == 200
    assert retired_cell.get_json()["retired_at"] is not None
    assert retired_cell.headers["ETag"] == '"2"'

    response = retire(client, "villages", vill["id"], etag_of(vill))

    assert response.status_code == 200
    body = response.get_json()
    assert assert_recent_aware_time(body["retired_at"])
    assert body["version"] == vill["version"] + 1
    assert response.headers["ETag"] == etag_of(body)
    # the township is free to go too, now
    assert retire(client, "townships", town["id"], etag_of(town)).status_code == 200


def test_a_retired_unit_can_still_be_read(client):
    town = f.township(client)
    retired = retire(client, "townships", town["id"], etag_of(town)).get_json()

    response = get(client, f"townships/{town['id']}")

    assert response.status_code == 200
    body = response.get_json()
    assert body == retired
    assert assert_recent_aware_time(body["retired_at"])
    assert (body["code"], body["name"]) == (town["code"], town["name"])
    assert_same_polygon(body["boundary"], town["boundary"])


def test_retiring_twice_is_harmless(client):
    town = f.township(client)
    first = retire(client, "townships", town["id"], etag_of(town))
    assert first.status_code == 200

    by_etag = retire(client, "townships", town["id"], first.headers["ETag"])
    by_star = retire(client, "townships", town["id"], "*")

    assert by_etag.status_code == 200
    assert by_star.status_code == 200
    assert by_etag.get_json() == first.get_json()
    assert by_star.get_json() == first.get_json()
    assert item(client, "townships", town["id"]) == first.get_json()


def test_a_retired_unit_can_no_longer_be_patched(client):
    town = f.township(client)
    retired = retire(client, "townships", town["id"], etag_of(town)).get_json()

    assert_problem(patch(client, "townships", town["id"], {"name": "Revived"}, etag_of(retired)), 409, "unit-retired")
    assert_problem(patch(client, "townships", town["id"], {"name": "Revived"}, "*"), 409, "unit-retired")

    assert item(client, "townships", town["id"]) == retired


# ---- locate -------------------------------------------------------------------------------------------------------


def test_locate_answers_the_cell_with_its_village_and_township(client, county):
    lon, lat = at(1500, 500)

    response = locate(client, lon, lat)

    assert response.status_code == 200
    body = response.get_json()
    c2, v1, t1 = county["c2"], county["v1"], county["t1"]
    assert (body["id"], body["code"], body["name"]) == (c2["id"], c2["code"], c2["name"])
    assert (body["village_id"], body["township_id"]) == (v1["id"], t1["id"])
    assert body["village"] == {"id": v1["id"], "code": v1["code"], "name": v1["name"]}
    assert body["township"] == {"id": t1["id"], "code": t1["code"], "name": t1["name"]}
    assert body["position"]["coord_system"] == "wgs84"
    assert body["position"]["lon"] == pytest.approx(lon, abs=1e-6)
    assert body["position"]["lat"] == pytest.approx(lat, abs=1e-6)
    assert_same_polygon(body["boundary"], c2["boundary"])
    assert response.headers["ETag"] == etag_of(c2)


def test_locate_in_the_other_township(client, county):
    body = locate(client, *at(4100, 900)).get_json()

    assert body["code"] == county["c4"]["code"]
    assert body["village"]["code"] == county["v3"]["code"]
    assert body["township"]["name"] == "Green Hill Town"


def test_a_point_in_no_cell_is_a_404_no_cell_here(client, county):
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
