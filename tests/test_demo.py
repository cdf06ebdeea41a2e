"""The demo county: deterministic by seed, sized by options, tiling each parent, loadable through the rules."""

import shapely

from api.db import db
from geo.measure import outside_of, overlap_of, uncovered_part
from models.demo import load_demo_county, plan_county
from models.territory import GRID_CELL, TOWNSHIP, VILLAGE

SMALL = {"seed": 7, "townships": 3, "villages": 9, "cells": 24}


def test_the_same_seed_gives_the_same_county_and_another_seed_another():
    first, again, other = plan_county(**SMALL), plan_county(**SMALL), plan_county(**{**SMALL, "seed": 8})
    assert [(u.code, u.name, u.shape.wkb) for u in first] == [(u.code, u.name, u.shape.wkb) for u in again]
    assert [u.shape.wkb for u in first] != [u.shape.wkb for u in other]


def test_the_county_has_the_requested_size_and_valid_codes():
    plan = plan_county(**SMALL)
    by_level = {level: [u for u in plan if u.level is level] for level in (TOWNSHIP, VILLAGE, GRID_CELL)}
    assert [len(by_level[level]) for level in (TOWNSHIP, VILLAGE, GRID_CELL)] == [3, 9, 24]
    for unit in plan:
        assert len(unit.code) == unit.level.code_digits and unit.code.isdigit()
        assert unit.parent_code is None or unit.code.startswith(unit.parent_code)
    assert len({u.code for u in plan}) == len(plan)


def test_each_level_tiles_its_parent_without_overlap_or_gap():
    plan = plan_county(**SMALL)
    shapes = {u.code: u.shape for u in plan}
    for parent in plan:
        children = [u.shape for u in plan if u.parent_code == parent.code]
        if not children:
            continue
        assert all(outside_of(child, parent.shape) is None for child in children)
        assert uncovered_part(parent.shape, children) is None
        for i, a in enumerate(children):
            for b in children[i + 1 :]:
                assert overlap_of(a, b) is None
    assert all(shapely.is_valid(s) for s in shapes.values())


def test_the_demo_loads_through_the_api_rules_and_every_cell_can_be_located(app, client, session):
    counts = load_demo_county(session, **SMALL)
    assert counts == {"townships": 3, "villages": 9, "cells": 24}
    assert load_demo_county(session, **SMALL, if_empty=True) is None
    for unit in plan_county(**SMALL):
        if unit.level is GRID_CELL:
            point = unit.shape.representative_point()
            answer = client.get(f"/api/v1/grid-cells/locate?lon={point.x}&lat={point.y}")
            assert answer.status_code == 200 and answer.get_json()["code"] == unit.code
    assert db.engine(app)  # the app's own engine served all of the above
