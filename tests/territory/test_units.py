"""Townships, villages and grid cells one at a time, through the HTTP API as a county administrator uses them:
create, read, change (If-Match) and retire.

Every test runs on SpatiaLite and on PostGIS (see conftest.py). Polygons are built in metres around (113°E, 28°N)
by tests/factories.py.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests import factories as f
from tests.factories import (
    API,
    TOWNSHIP_CODE,
    VILLAGE_CODE,
    assert_point_at,
    assert_problem,
    assert_recent_aware_time,
    assert_same_polygon,
    rect,
)
from tests.territory.units import etag_of, get, item, patch, retire

CELL_CODE = VILLAGE_CODE + "001"

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


# ---- get one ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["townships", "villages", "grid-cells"])
def test_get_one_answers_the_unit_with_its_etag(client, land, level):
    unit = {"townships": land.record("tB"), "villages": land.record("vA2"), "grid-cells": land.record("cA3")}[level]

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
