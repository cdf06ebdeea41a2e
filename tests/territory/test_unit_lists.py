"""Lists of townships, villages and grid cells: pages, filters, retired units on request, and GeoJSON.

The county is the `land` fixture's (tests/conftest.py) where a test needs one. Every test runs on SpatiaLite and on
PostGIS (see conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories as f
from tests.factories import TOWNSHIP_CODE, assert_problem, assert_same_polygon
from tests.territory.units import codes, etag_of, get, item, retire

GEOJSON = "application/geo+json"

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


def test_name_filter_is_a_case_insensitive_substring(client, land):
    assert codes(get(client, "townships", query_string={"name": "green HILL"})) == ["430199102"]
    assert codes(get(client, "townships", query_string={"name": "hill town"})) == ["430199102"]
    assert codes(get(client, "townships", query_string={"name": "青山"})) == ["430199101"]
    assert codes(get(client, "villages", query_string={"name": "家村"})) == [
        "430199101201",
        "430199101202",
        "430199102201",
    ]
    assert codes(get(client, "villages", query_string={"name": "李"})) == ["430199101202"]
    assert codes(get(client, "grid-cells", query_string={"name": "第2"})) == ["430199101201002", "430199102201002"]
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


def test_code_filter_is_a_prefix(client, land):
    assert codes(get(client, "townships", query_string={"code": "4301991"})) == ["430199101", "430199102"]
    assert codes(get(client, "villages", query_string={"code": "430199101"})) == ["430199101201", "430199101202"]
    assert codes(get(client, "grid-cells", query_string={"code": "430199101201"})) == [
        "430199101201001",
        "430199101201002",
    ]
    # a prefix, not a substring
    assert codes(get(client, "grid-cells", query_string={"code": "201001"})) == []


def test_villages_filter_by_township(client, land):
    t1, t2 = land["tA"], land["tB"]

    assert codes(get(client, "villages", query_string={"township_id": t1})) == ["430199101201", "430199101202"]
    assert codes(get(client, "villages", query_string={"township_id": t2})) == ["430199102201"]
    assert get(client, "villages", query_string={"township_id": t1, "count": "true"}).get_json()["total"] == 2


def test_cells_filter_by_village_and_by_township(client, land):
    v1, v2 = land["vA1"], land["vA2"]
    t1, t2 = land["tA"], land["tB"]

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
    assert codes(get(client, "grid-cells", query_string={"township_id": t2})) == ["430199102201001", "430199102201002"]
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


def test_format_geojson_answers_a_feature_collection(client, land):
    cells = [land.record("cA1"), land.record("cA2")]

    response = get(
        client,
        "grid-cells",
        query_string={"format": "geojson", "village_id": land["vA1"], "count": "true"},
    )

    _assert_feature_collection(response, cells)


def test_accept_geojson_answers_a_feature_collection(client, land):
    cells = [land.record("cA1"), land.record("cA2")]

    response = get(
        client,
        "grid-cells",
        query_string={"village_id": land["vA1"], "count": "true"},
        headers={"Accept": GEOJSON},
    )

    _assert_feature_collection(response, cells)


@pytest.mark.parametrize("headers", [{}, {"Accept": "application/json"}, {"Accept": "*/*"}])
def test_plain_requests_answer_json_with_items(client, land, headers):
    response = get(client, "grid-cells", headers=headers)

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert "features" not in body
    assert [i["code"] for i in body["items"]] == sorted(
        land.record(c)["code"] for c in ("cA1", "cA2", "cA3", "cB1", "cB2")
    )


def test_format_json_wins_over_an_accept_header(client, land):
    response = get(client, "townships", query_string={"format": "json"}, headers={"Accept": GEOJSON})

    assert response.mimetype == "application/json"
    assert len(response.get_json()["items"]) == 2


def test_an_unknown_format_is_refused(client):
    body = assert_problem(get(client, "townships", query_string={"format": "kml"}), 422, "invalid")

    assert body["errors"][0]["field"] == "format"
