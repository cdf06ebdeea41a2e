"""Each broken rule of codes, names and parents answers 422 naming the rule, and no unit changes; and the check
that nothing changed is not blind.

The units already there, where a test needs some, are the `one_of_each` fixture's (tests/conftest.py). Every test
runs on SpatiaLite and on PostGIS (see conftest.py).
"""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.factories import ok, rect, snapshot
from tests.territory.units import (
    FREE_TOWNSHIP_CODE,
    KINDS,
    ONE_OF_EACH,
    PARENT_FIELD,
    Place,
    patch,
    place_for,
    post,
    refused_without_change,
    retire,
    well_inside,
)

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
        lambda: post(client, kind, place.body(code, well_inside(place))),
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
    boundary = rect(5000, 0, 6000, 1000) if kind == "townships" else well_inside(place)
    refused_without_change(client, lambda: post(client, kind, place.body(code, boundary)), "code-format", "/code")


@pytest.mark.parametrize("name", ["   ", "\u3000", "\t\n"], ids=["spaces", "ideographic space", "tab and newline"])
def test_a_blank_name_is_refused(client, one_of_each, name):
    refused_without_change(
        client,
        lambda: post(
            client, "townships", {"code": FREE_TOWNSHIP_CODE, "name": name, "boundary": rect(5000, 0, 6000, 1000)}
        ),
        "name-blank",
        "/name",
    )


@pytest.mark.parametrize("kind", KINDS)
def test_renaming_to_a_blank_name_is_refused(client, one_of_each, kind):
    refused_without_change(
        client, lambda: patch(client, kind, one_of_each[ONE_OF_EACH[kind]], {"name": "  "}), "name-blank", "/name"
    )


@pytest.mark.parametrize("kind", ["villages", "grid-cells"])
def test_a_unit_under_a_parent_that_does_not_exist_is_refused(client, one_of_each, kind):
    code = {"villages": f.TOWNSHIP_CODE + "202", "grid-cells": f.VILLAGE_CODE + "002"}[kind]
    place = Place(kind, {PARENT_FIELD[kind]: 999999})
    refused_without_change(
        client,
        lambda: post(client, kind, place.body(code, rect(1000, 1000, 1500, 1500))),
        "parent-not-found",
        f"/{PARENT_FIELD[kind]}",
    )


@pytest.mark.parametrize("kind", ["villages", "grid-cells"])
def test_a_unit_under_a_retired_parent_is_refused(client, kind):
    place = place_for(client, kind)
    parent_kind = "townships" if kind == "villages" else "villages"
    assert ok(retire(client, parent_kind, place.parent[PARENT_FIELD[kind]]))["retired_at"] is not None
    refused_without_change(
        client,
        lambda: post(client, kind, place.body(place.codes[0], well_inside(place))),
        "parent-retired",
        f"/{PARENT_FIELD[kind]}",
    )


# ---- the check that nothing changed ------------------------------------------------------------------------------


def test_snapshot_sees_a_change(client, one_of_each):
    """The `unchanged` check used throughout is not blind: a rename shows up in it."""
    before = snapshot(client, units_only=True)
    assert patch(client, "grid-cells", one_of_each["cA1"], {"name": "新名"}).status_code == 200
    after = snapshot(client, units_only=True)
    assert after != before
    cell_key = f"grid-cells/{one_of_each['cA1']}"
    assert after[cell_key][2]["version"] == before[cell_key][2]["version"] + 1
