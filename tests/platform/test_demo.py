"""The demo county: deterministic by seed, sized by options, tiling each parent, loadable through the rules."""

from datetime import timedelta

import shapely
from sqlalchemy import select

from api.db import db
from geo.measure import outside_of, overlap_of, uncovered_part
from models.accounts.model import User
from models.base import county_today, county_zone, utcnow
from models.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo_county, plan_county
from models.demo_patrols import FLAG_NOTES
from models.enterprises.model import Enterprise
from models.files import file_store
from models.hazards.model import (
    IN_PLACE,
    TRANSITIONS,
    Action,
    Hazard,
    HazardDepartment,
    HazardPhoto,
    HazardStep,
    Status,
)
from models.hazards.rules import ACTION_ROLES, MAJOR_ACCEPTORS, missing_implementations
from models.patrols.model import Patrol, PatrolCheckIn, PatrolFinding
from models.people.model import GridAssignment
from models.roles import Role
from models.territory import GRID_CELL, TOWNSHIP, VILLAGE, GridCell, Township
from tests import factories as f
from tests.factories import API

SMALL = {"seed": 7, "townships": 3, "villages": 9, "cells": 24}
QUIET = {"patrols": 0}  # (patrols only where a test looks at them: thousands by default)


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
    counts = load_demo_county(session, **SMALL, enterprises=300, **QUIET)
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
    load_demo_county(session, **SMALL, enterprises=300, **QUIET)
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
    load_demo_county(session, **SMALL, enterprises=300, **QUIET)
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


# ---- the hazard ledger ----------------------------------------------------------------------------------------------


def _walk(hazard: dict, steps: list[dict], photos: dict[int, dict]) -> None:
    """The steps are a legal walk of TRANSITIONS, each signed by a role the rules allow (the acceptor never the
    rectifier, a major hazard accepted by the county or a department, started only with its plan complete, a
    rectification on the spot resting on a photo of the hazard), and the row holds what they left."""
    status, rectifier, plan, deadline, at, updated = None, None, {}, None, hazard["created_at"], None
    for step in steps:
        action, role = Action(step["action"]), Role(step["signer_role"])
        where = (hazard["id"], action.value)
        assert role in ACTION_ROLES[action] and step["signed_at"] >= at, where
        if action is Action.REPORT:
            assert (status, step["from_status"], step["to_status"]) == (None, None, "reported"), where
        elif action in IN_PLACE:
            assert Status(status) in IN_PLACE[action] and step["from_status"] == step["to_status"] == status, where
        else:
            assert step["from_status"] == status and TRANSITIONS[Status(status)][action] == step["to_status"], where
        if action is Action.PLAN:
            before, plan = plan, {k: v for k, v in step["details"].items() if k != "missing"}
            assert step["details"]["missing"] == missing_implementations(plan), where
            updated = step["signed_at"] if plan != before else updated
        if action is Action.RECTIFY_ON_THE_SPOT:
            assert hazard["severity"] == "general" and step["details"]["photo_ids"], where
        for photo_id in step["details"].get("photo_ids", []):
            photo = photos[photo_id]
            assert (photo["hazard_id"], photo["step_id"]) == (hazard["id"], step["id"]), where
            assert at <= photo["uploaded_at"] <= step["signed_at"], where
        if action is Action.START_RECTIFICATION and hazard["severity"] == "major":
            assert not missing_implementations(plan), where
        if action in (Action.START_RECTIFICATION, Action.REJECT):
            deadline = step["details"]["deadline"]
            assert deadline >= step["signed_at"].astimezone(county_zone()).date().isoformat(), where
        if action in (Action.RECTIFY_ON_THE_SPOT, Action.RECTIFIED):
            rectifier = step
        if action in (Action.ACCEPT, Action.REJECT):
            assert step["signer_user_id"] != rectifier["signer_user_id"], where
            assert hazard["severity"] == "general" or role in MAJOR_ACCEPTORS, where
        if action is not Action.PLAN:
            updated = step["signed_at"]
        status, at = step["to_status"], step["signed_at"]
    last = {s["action"]: s["signed_at"] for s in steps}
    assert hazard["status"] == status
    assert (hazard["found_by_user_id"], hazard["found_by"]) == (steps[0]["signer_user_id"], steps[0]["signer"])
    assert hazard["five_implementations"] == plan
    assert (hazard["deadline"].isoformat() if hazard["deadline"] else None) == deadline
    assert hazard["rectified_by_user_id"] == (rectifier["signer_user_id"] if rectifier else None)
    assert hazard["closed_at"] == last.get("accept") and hazard["voided_at"] == last.get("void")
    assert hazard["updated_at"] == updated
    if hazard["closed_at"]:
        closed_on = hazard["closed_at"].astimezone(county_zone()).date().isoformat()
        assert hazard["closed_on_time"] == (deadline is None or closed_on <= deadline)


def test_the_demo_ledger_holds_hazards_in_every_state_each_a_legal_walk_of_signed_steps(app, session):
    store = file_store(app.config["FILE_STORE"])
    counts = load_demo_county(session, **SMALL, enterprises=300, hazards=400, photos=store, **QUIET)
    hazards = [dict(r) for r in session.execute(select(Hazard.__table__)).mappings()]
    steps: dict[int, list[dict]] = {}
    for step in session.execute(select(HazardStep.__table__).order_by(HazardStep.id)).mappings():
        steps.setdefault(step["hazard_id"], []).append(dict(step))
    codes = {row.id: row.code for row in session.execute(select(Township.id, Township.code))}
    photos = {p["id"]: dict(p) for p in session.execute(select(HazardPhoto.__table__)).mappings()}
    links = session.execute(select(HazardDepartment.hazard_id, HazardDepartment.department_id))
    departments = {(link.hazard_id, link.department_id) for link in links}

    assert counts["hazards"] == len(hazards) == 400 and {h["status"] for h in hazards} == {s.value for s in Status}
    assert 0.02 < sum(h["severity"] == "major" for h in hazards) / 400 < 0.1
    assert sum(h["status"] == "closed" for h in hazards) > 300
    assert any(h["status"] == "rectifying" and h["deadline"] < county_today() for h in hazards), "some are overdue"
    assert any(h["enterprise_id"] is None and h["place_description"] for h in hazards)
    assert counts["hazard_photos"] == len(photos) > 0 and all(store.get(p["sha256"]) for p in photos.values())
    assert departments == {(h["id"], d) for h in hazards for d in h["department_ids"]}
    incomplete = [h for h in hazards if h["severity"] == "major" and h["status"] == "reported"]
    assert any(missing_implementations(h["five_implementations"]) for h in incomplete)
    seqs: dict[str, list[int]] = {}
    for hazard in sorted(hazards, key=lambda h: h["id"]):
        _walk(hazard, steps[hazard["id"]], photos)
        year = hazard["found_at"].astimezone(county_zone()).year
        assert hazard["number"] == f"{codes[hazard['township_id']]}-{year}-{hazard['seq']:04d}"
        seqs.setdefault(hazard["number"][:-4], []).append(hazard["seq"])
    assert all(seq == list(range(1, len(seq) + 1)) for seq in seqs.values()), "numbered in the order of reporting"


def _seen(client) -> list[dict]:
    items, query = [], {"page_size": 500}
    while True:
        page = f.ok(client.get(f"{API}/hazards", query_string=query))
        items += page["items"]
        if not page["next_cursor"]:
            return items
        query["cursor"] = page["next_cursor"]


def test_every_demo_account_sees_hazards_and_signed_only_those_it_sees(app, session):
    load_demo_county(session, **SMALL, enterprises=300, hazards=400, **QUIET)
    clients = {
        u: f.bearer(app, f.login(app, u, DEMO_PASSWORD).get_json()["access_token"]) for u, _n, _r in DEMO_ACCOUNTS
    }
    seen = {username: {h["id"]: h for h in _seen(client)} for username, client in clients.items()}
    users = {row.id: row.username for row in session.execute(select(User.id, User.username))}

    assert len(seen["admin"]) == len(seen["viewer"]) == 400
    assert 0 < len(seen["officer"]) < len(seen["leader"]) < 400 and 0 < len(seen["dept"]) < 400
    assert {h["status"] for h in seen["leader"].values()} == {s.value for s in Status}
    for step in session.execute(select(HazardStep.hazard_id, HazardStep.signer_user_id)):
        assert step.hazard_id in seen[users[step.signer_user_id]], step
    last = max(seen["admin"])  # the hazards docs/hazards.md takes through their lives: the last three reported
    showcase = [seen["admin"][i] for i in (last - 2, last - 1, last)]
    assert [(h["severity"], h["status"], h["found_by"]) for h in showcase] == [
        ("major", "reported", "县应急管理局 安全监管科"),
        ("general", "reported", "网格长"),
        ("general", "reported", "街道分管领导"),
    ]
    assert showcase[0]["five_implementations"]["missing"] == ["funds_yuan", "deadline", "contingency_plan"]
    assert [h["version"] for h in showcase] == [2, 1, 1]
    assert all(h["id"] in seen["leader"] for h in showcase) and showcase[0]["id"] in seen["dept"]
    assert showcase[1]["id"] in seen["officer"] and showcase[1]["enterprise_id"] == showcase[2]["enterprise_id"]


# ---- the patrols --------------------------------------------------------------------------------------------------


def test_the_demo_patrols_are_stored_by_the_rules_in_their_cells_and_flagged_only_on_purpose(session):
    counts = load_demo_county(session, **SMALL, enterprises=300, hazards=0, patrols=80)
    patrols = {p.id: p for p in session.scalars(select(Patrol))}
    township_of = {row.id: row.township_id for row in session.execute(select(GridCell.id, GridCell.township_id))}
    current = select(GridAssignment.cell_id, GridAssignment.officer_id).where(
        GridAssignment.valid_to.is_(None), GridAssignment.superseded_at.is_(None)
    )
    teams = {(row.cell_id, row.officer_id) for row in session.execute(current)}
    at = PatrolCheckIn.__table__.join(Enterprise.__table__, Enterprise.id == PatrolCheckIn.enterprise_id)
    check_ins = session.execute(select(PatrolCheckIn.patrol_id, Enterprise.township_id).select_from(at)).all()
    found = PatrolFinding.__table__.join(Hazard.__table__, Hazard.id == PatrolFinding.hazard_id)
    findings = session.execute(select(PatrolFinding.patrol_id, Hazard.source).select_from(found)).all()
    flag_of = {note: code for code, note in FLAG_NOTES.items()}

    assert counts["patrols"] == len(patrols) == 80 and counts["check_ins"] == len(check_ins) > 80
    grid = [p for p in patrols.values() if p.kind == "grid_patrol"]
    assert len(grid) == 72 and {p.travel_mode for p in patrols.values()} == {"walking", "cycling", "driving"}
    for p in patrols.values():
        assert utcnow() - timedelta(days=91) < p.started_at < p.ended_at < utcnow(), p.id
        assert 30 <= (p.ended_at - p.started_at).total_seconds() / 60 <= 151, p.id
        assert 8 <= p.started_at.astimezone(county_zone()).hour < 17, p.id
        assert {township_of[c] for c in p.cell_ids} == {p.township_id}, p.id
    assert all(any((c, o) in teams for c in p.cell_ids) for p in grid for o in p.officer_ids), "by the cells' teams"
    assert all(township == patrols[patrol_id].township_id for patrol_id, township in check_ins)
    assert counts["patrol_findings"] == len(findings) and any(
        source == "patrol" and patrols[patrol_id].kind == "grid_patrol" for patrol_id, source in findings
    )
    flagged = {p.id: p.flag_codes.split() for p in patrols.values() if p.flags}
    intended = {p.id: [flag_of[p.notes]] for p in patrols.values() if p.notes in flag_of}
    assert flagged == intended and sorted(c for codes in flagged.values() for c in codes) == sorted(FLAG_NOTES)
    assert counts["flagged_patrols"] == 4


# ---- holiday duty -------------------------------------------------------------------------------------------------


def test_the_demo_enters_2027_and_announces_two_duty_periods_from_the_calendar(app, session):
    load_demo_county(session, **SMALL, enterprises=30, hazards=0, patrols=0)
    admin = f.bearer(app, f.login(app, "admin", DEMO_PASSWORD).get_json()["access_token"])
    year = f.ok(admin.get(f"{API}/duty/calendar/2027"))
    assert year["source"] == "entered" and "演示数据" in year["notice"] and len(year["holidays"]) == 7
    periods = f.ok(admin.get(f"{API}/duty/periods"))["items"]
    assert [p["name"] for p in periods] == ["2027年春节", "2026年国庆节"]
    assert all(len(p["township_ids"]) == 3 and p["department_ids"] for p in periods)


def test_the_demo_rosters_cover_every_unit_with_some_late_one_gap_and_one_double_booking(app, session):
    counts = load_demo_county(session, **SMALL, enterprises=30, hazards=0, patrols=0)
    admin = f.bearer(app, f.login(app, "admin", DEMO_PASSWORD).get_json()["access_token"])
    national_day, spring = sorted(f.ok(admin.get(f"{API}/duty/periods"))["items"], key=lambda p: p["starts_at"])
    past = f.ok(admin.get(f"{API}/duty/periods/{national_day['id']}/check"))
    units = len(national_day["township_ids"]) + len(national_day["department_ids"])
    assert len(past["units"]) == units and all(u["status"] == "approved" for u in past["units"])
    assert 1 <= sum(u["late"] for u in past["units"]) < units and past["not_submitted"] == []
    assert past["problems"] == []  # nobody on two days running, every leader reachable
    returned = [r for r in f.ok(admin.get(f"{API}/duty/rosters?period_id={national_day['id']}"))["items"]
                if r["revision"] == 2]  # fmt: skip
    assert len(returned) == 1
    revisions = f.ok(admin.get(f"{API}/duty/rosters/{returned[0]['id']}/revisions"))["items"]
    assert [r["decision"] for r in revisions] == ["approved", "returned"]
    assert revisions[0]["submitted_at"] > revisions[1]["decided_at"] > revisions[1]["submitted_at"]
    now = f.ok(admin.get(f"{API}/duty/periods/{spring['id']}/check"))
    kinds = sorted(p["kind"] for p in now["problems"])
    assert kinds == ["double-booking", "gap"], kinds
    assert now["not_submitted"] and any(u["status"] == "submitted" for u in now["units"])
    assert counts["duty_rosters"] == 2 * units - sum(u["roster_id"] is None for u in now["units"])
