"""Each broken rule of the hierarchy answers 422 naming the rule, and no unit changes: inside the parent, clear of
the siblings, still holding the children, each up to the 1 m digitising tolerance.

The units already there, where a test needs some, are the `one_of_each` fixture's (tests/conftest.py). Every test
runs on SpatiaLite and on PostGIS (see conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests import factories as f
from tests.factories import box_ring, multipolygon, ok, polygon, rect
from tests.territory.units import (
    KINDS,
    ONE_OF_EACH,
    Place,
    assert_refused,
    patch,
    place_for,
    post,
    refused_without_change,
    retire,
    sticking_out,
)

# ---- inside the parent -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["villages", "grid-cells"])
@pytest.mark.parametrize("by_m", [10, 1.5])
def test_a_unit_sticking_out_of_its_parent_beyond_the_tolerance_is_refused(client, kind, by_m):
    place = place_for(client, kind)
    body = refused_without_change(
        client, lambda: post(client, kind, place.body(place.codes[1], sticking_out(place, by_m))), "outside-parent"
    )
    half_side = (place.parent_box[3] - place.parent_box[1]) / 2
    assert body["area_m2"] == pytest.approx(half_side * by_m, rel=0.05)


@pytest.mark.parametrize("kind", ["villages", "grid-cells"])
def test_a_unit_sticking_out_of_its_parent_by_0_4_m_is_accepted(client, kind):
    place = place_for(client, kind)
    created = post(client, kind, place.body(place.codes[1], sticking_out(place, 0.4)))
    assert created.status_code == 201, created.get_json()


def test_a_village_inside_a_hole_of_its_township_is_refused(client):
    holed = polygon(box_ring(0, 0, 4000, 4000), box_ring(1000, 1000, 3000, 3000))
    township = post(client, "townships", {"code": f.TOWNSHIP_CODE, "name": "环镇", "boundary": holed}).get_json()
    place = Place("villages", {"township_id": township["id"]})
    refused_without_change(
        client,
        lambda: post(client, "villages", place.body(f.VILLAGE_CODE, rect(1500, 1500, 2500, 2500))),
        "outside-parent",
    )


def test_a_village_with_one_part_outside_its_township_is_refused(client):
    township = f.township(client)
    parts = multipolygon(rect(0, 0, 1000, 1000), rect(5000, 0, 6000, 1000))
    place = Place("villages", {"township_id": township["id"]})
    refused_without_change(
        client, lambda: post(client, "villages", place.body(f.VILLAGE_CODE, parts)), "outside-parent"
    )


@pytest.mark.parametrize("kind", ["villages", "grid-cells"])
def test_redrawing_a_unit_to_stick_out_of_its_parent_by_10_m_is_refused(client, one_of_each, kind):
    outside = {"villages": rect(0, 0, 2000, 4010), "grid-cells": rect(0, 0, 1000, 2010)}[kind]
    refused_without_change(
        client, lambda: patch(client, kind, one_of_each[ONE_OF_EACH[kind]], {"boundary": outside}), "outside-parent"
    )


# ---- clear of the siblings ---------------------------------------------------------------------------------------


def _neighbours(client: FlaskClient, kind: str, overlap_m: float) -> tuple[Place, dict[str, Any], dict[str, Any]]:
    """A first unit on the west half of the parent's south half and the body of a second one on the east half,
    reaching `overlap_m` into the first."""
    place = place_for(client, kind)
    x0, y0, x1, y1 = place.parent_box
    mid = (x0 + x1) / 2
    first = post(client, kind, place.body(place.codes[0], rect(x0, y0, mid, (y0 + y1) / 2)))
    assert first.status_code == 201, first.get_json()
    second = place.body(place.codes[1], rect(mid - overlap_m, y0, x1, (y0 + y1) / 2))
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
    assert ok(retire(client, kind, first["id"]))["retired_at"] is not None
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
    over = rect((x0 + x1) / 2 - 10, y0, x1, (y0 + y1) / 2)
    body = refused_without_change(
        client, lambda: patch(client, kind, second_id, {"boundary": over}), "overlaps-sibling"
    )
    assert body["sibling_code"] == first["code"]


def test_redrawing_a_unit_over_its_own_old_boundary_is_no_overlap(client, one_of_each):
    grown = patch(client, "grid-cells", one_of_each["cA1"], {"boundary": rect(0, 0, 1500, 1500)})
    assert grown.status_code == 200, grown.get_json()
    assert grown.get_json()["version"] == one_of_each.record("cA1")["version"] + 1


# ---- still holding the children ----------------------------------------------------------------------------------


def test_redrawing_a_village_so_that_a_cell_falls_outside_is_refused(client, one_of_each):
    moved = rect(1000, 0, 3000, 2000)  # the cell (0..1000 m) is left entirely outside
    body = refused_without_change(
        client,
        lambda: patch(client, "villages", one_of_each["vA1"], {"name": "改名", "boundary": moved}),
        "children-outside",
    )
    assert body["child_code"] == one_of_each.record("cA1")["code"]


def test_giving_a_village_a_hole_where_a_cell_lies_is_refused(client, one_of_each):
    holed = polygon(box_ring(0, 0, 2000, 2000), box_ring(200, 200, 800, 800))
    body = refused_without_change(
        client, lambda: patch(client, "villages", one_of_each["vA1"], {"boundary": holed}), "children-outside"
    )
    assert body["child_code"] == one_of_each.record("cA1")["code"]


def test_shrinking_a_township_so_that_a_village_falls_outside_is_refused(client, one_of_each):
    body = refused_without_change(
        client,
        lambda: patch(client, "townships", one_of_each["tA"], {"boundary": rect(0, 0, 4000, 1500)}),
        "children-outside",
    )
    assert body["child_code"] == one_of_each.record("vA1")["code"]


def test_redrawing_a_village_0_4_m_inside_the_edge_of_its_cell_is_accepted(client, one_of_each):
    redrawn = patch(client, "villages", one_of_each["vA1"], {"boundary": rect(0.4, 0, 2000, 2000)})
    assert redrawn.status_code == 200, redrawn.get_json()


def test_a_retired_cell_does_not_hold_its_village_back(client, one_of_each):
    assert ok(retire(client, "grid-cells", one_of_each["cA1"]))["retired_at"] is not None
    redrawn = patch(client, "villages", one_of_each["vA1"], {"boundary": rect(1000, 0, 3000, 2000)})
    assert redrawn.status_code == 200, redrawn.get_json()
