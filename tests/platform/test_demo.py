"""The demo county: deterministic by seed, sized by options, tiling each parent, loadable through the rules."""

import shapely

from api.db import db
from geo.measure import outside_of, overlap_of, uncovered_part
from models.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo_county, plan_county
from models.territory import GRID_CELL, TOWNSHIP, VILLAGE
from tests import factories as f
from tests.factories import API

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
    counts = load_demo_county(session, **SMALL, enterprises=300)
    assert {k: counts[k] for k in ("townships", "villages", "cells", "users", "departments", "enterprises")} == {
        "townships": 3,
        "villages": 9,
        "cells": 24,
        "users": 5,
        "departments": 5,
        "enterprises": 300,
    }
    assert counts["officers"] >= 2 * 9 and counts["assignments"] >= 24 * 0.9
    assert load_demo_county(session, **SMALL, if_empty=True) is None
    for unit in plan_county(**SMALL):
        if unit.level is GRID_CELL:
            point = unit.shape.representative_point()
            answer = client.get(f"{API}/grid-cells/locate?lon={point.x}&lat={point.y}")
            assert answer.status_code == 200 and answer.get_json()["code"] == unit.code
    assert db.engine(app)  # the app's own engine served all of the above


def test_every_demo_account_logs_in_with_the_documented_password_and_sees_its_scope(app, client, session):
    load_demo_county(session, **SMALL, enterprises=300)
    scopes = {}
    for username, _name, role in DEMO_ACCOUNTS:
        answer = f.login(app, username, DEMO_PASSWORD)
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["user"]["role"] == role.value
        me = f.bearer(app, answer.get_json()["access_token"]).get(f"{API}/auth/me")
        scopes[username] = me.get_json()["scope"]
    assert scopes["admin"]["county_wide"] and scopes["viewer"]["county_wide"] and scopes["viewer"]["read_only"]
    assert scopes["leader"]["township_id"] is not None and not scopes["leader"]["county_wide"]
    assert scopes["officer"]["cell_ids"], "the demo officer owns cells"
    assert scopes["officer"]["township_id"] == scopes["leader"]["township_id"]
    assert scopes["dept"]["department_id"] is not None and not scopes["dept"]["county_wide"]


def test_the_demo_has_history_and_a_to_do_list(client, session):
    load_demo_county(session, seed=3, townships=2, villages=6, cells=60, enterprises=0)
    cells = client.get(f"{API}/grid-cells", query_string={"page_size": 100, "count": "true"}).get_json()["total"]
    unowned = client.get(f"{API}/grid-cells", query_string={"has_owner": "false", "count": "true"}).get_json()["total"]
    owned = client.get(f"{API}/grid-cells", query_string={"has_owner": "true", "count": "true"}).get_json()["total"]
    assert owned + unowned == cells == 60
    assert owned > unowned
    ended = client.get(f"{API}/grid-assignments", query_string={"current": "false", "count": "true"}).get_json()
    assert ended["total"] > 0, "some owners were handed over in the past"


def test_the_demo_enterprises_have_places_departments_and_a_department_that_sees_its_own(app, client, session):
    load_demo_county(session, **SMALL, enterprises=300)
    listed = f.ok(client.get(f"{API}/enterprises?page_size=500"))["items"]
    assert len(listed) == 300
    assert sum(e["cell_id"] is not None for e in listed) > 150  # clustered in the seats, inside the county
    assert {e["sector"] for e in listed} >= {"hazardous_chemicals", "industry_trade", "crowded_place"}
    assert any(e["major_hazard_grade"] for e in listed) and any(e["risk_level"] == "red" for e in listed)
    dept = f.bearer(app, f.login(app, "dept", DEMO_PASSWORD).get_json()["access_token"])
    seen = f.ok(dept.get(f"{API}/enterprises?page_size=500"))["items"]
    assert seen and {e["sector"] for e in seen} <= {
        "hazardous_chemicals", "non_coal_mine", "coal_mine", "fireworks", "industry_trade"
    }  # fmt: skip
