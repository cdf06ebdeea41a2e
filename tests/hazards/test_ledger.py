"""The ledger as each caller reads it: scope, reporting rules, lists and their filters, GeoJSON, a place that follows
its boundaries. Every test runs on SpatiaLite and on PostGIS (see conftest.py)."""

from __future__ import annotations

from models.roles import Role
from tests import factories as f
from tests.factories import API, MISSING, assert_problem
from tests.hazards.helpers import in_days, ok_step, report, step


def ids(client, query: str = "") -> list[int]:
    return [h["id"] for h in f.ok(client.get(f"{API}/hazards{query}"))["items"]]


def test_each_caller_sees_the_hazards_of_their_scope_and_nothing_else_exists_for_them(app, world):
    admin = world.admin
    yjj = f.department(admin, sectors=("hazardous_chemicals",))
    staff = f.login_as(app, Role.DEPARTMENT_STAFF, username="yjj-li", department_id=yjj["id"])
    chem = f.enterprise(admin, 1500, 500, 1)  # in cA2 of tA: no officer's
    in_a1 = report(admin, 500, 500)  # cA1, tA: officer_a's cell
    at_chem = report(admin, enterprise_id=chem["id"], place_description=None, sector=None, position=None)
    in_b = report(admin, 4500, 500)  # cB1, tB
    chem_sector = report(admin, 2500, 500, sector="hazardous_chemicals")  # in tA, no enterprise
    assert at_chem["location"]["coordinates"] == chem["location"]["coordinates"]
    assert at_chem["department_ids"] == [yjj["id"]] and at_chem["sector"] == "hazardous_chemicals"

    everything = {in_a1["id"], at_chem["id"], in_b["id"], chem_sector["id"]}
    seen = {
        "admin": everything,
        "viewer_county": everything,
        "leader_a": {in_a1["id"], at_chem["id"], chem_sector["id"]},
        "viewer_a": {in_a1["id"], at_chem["id"], chem_sector["id"]},
        "leader_b": {in_b["id"]},
        "officer_a": {in_a1["id"]},
        "officer_b": {in_b["id"]},
    }
    for who, expected in seen.items():
        client = world.as_(who)
        assert set(ids(client)) == expected, who
        for hazard_id in everything - expected:
            assert_problem(client.get(f"{API}/hazards/{hazard_id}"), 404, "not-found")
            assert_problem(client.get(f"{API}/hazards/{hazard_id}/steps"), 404, "not-found")
            refused = client.post(f"{API}/hazards/{hazard_id}/void", json={"comment": "x"}, headers={"If-Match": "*"})
            assert refused.status_code in (403, 404), who
    assert set(ids(staff)) == {at_chem["id"], chem_sector["id"]}
    assert_problem(staff.get(f"{API}/hazards/{in_b['id']}"), 404, "not-found")
    assert_problem(world.as_("leader_b").get(f"{API}/hazards/{MISSING}"), 404, "not-found")


def test_a_caller_reports_only_inside_their_scope(app, world):
    admin = world.admin
    yjj = f.department(admin, sectors=("hazardous_chemicals",))
    staff = f.login_as(app, Role.DEPARTMENT_STAFF, username="yjj-li", department_id=yjj["id"])
    chem_b = f.enterprise(admin, 4500, 500, 2)
    gas = f.enterprise(admin, 500, 500, 3, sector="gas")

    assert_problem_like(report(world.as_("officer_a"), 1500, 500, expect=422), "hazard-outside-scope")  # cA2
    report(world.as_("officer_a"), 500, 500)
    assert_problem_like(report(world.as_("leader_a"), 4500, 500, expect=422), "hazard-outside-scope")
    report(world.as_("leader_a"), 1500, 500)
    # department staff: at an enterprise of theirs in any township, or a place of their sector
    assert report(staff, enterprise_id=chem_b["id"], sector=None, position=None)["township_id"] == world["tB"]
    assert report(staff, 2500, 500, sector="hazardous_chemicals")["department_ids"] == [yjj["id"]]
    body = report(staff, enterprise_id=gas["id"], sector=None, position=None, expect=422)
    assert_problem_like(body, "enterprise-not-found")
    assert_problem_like(report(staff, 2500, 500, expect=422), "hazard-outside-scope")  # crowded places: not theirs
    viewer = world.as_("viewer_a").post(
        f"{API}/hazards",
        json={"description": "x", "kind": "unsafe_condition", "severity": "general", "source": "patrol"},
    )
    assert_problem(viewer, 403, "forbidden")
    assert f.ok(admin.get(f"{API}/hazards?page_size=50"))["items"].__len__() == 4  # nothing else was stored


def assert_problem_like(body: dict, code: str) -> None:
    assert body["code"] == code, body


def test_where_a_hazard_is_must_be_said_and_a_closed_enterprise_is_refused(world):
    admin = world.admin
    assert_problem_like(report(admin, place_description=None, expect=422), "place-required")
    assert_problem_like(report(admin, sector=None, expect=422), "sector-required")
    assert_problem_like(report(admin, sector="no_such_sector", expect=422), "sector-unknown")
    assert_problem_like(report(admin, position=None, expect=422), "position-required")
    assert_problem_like(report(admin, found_at="2099-01-01T00:00:00+08:00", expect=422), "time-in-future")
    chem = f.enterprise(admin, 500, 500, 1)
    f.ok(admin.post(f"{API}/enterprises/{chem['id']}/close", json={"reason": "注销"}, headers={"If-Match": "*"}))
    assert_problem_like(report(admin, enterprise_id=chem["id"], expect=409), "enterprise-closed")
    assert ids(admin) == []


def test_lists_filter_by_state_severity_place_enterprise_department_and_overdue(app, world):
    admin = world.admin
    yjj = f.department(admin, sectors=("hazardous_chemicals",))
    chem = f.enterprise(admin, 1500, 500, 1)
    general = report(admin, 500, 500, found_at="2026-01-10T09:00:00+08:00")
    major = report(
        admin, enterprise_id=chem["id"], severity="major", source="self_check", found_at="2026-02-10T09:00:00+08:00"
    )
    other = report(admin, 4500, 500, kind="management_defect")
    late = ok_step(admin, general, "start_rectification", deadline=in_days(0))
    assert ids(admin) == [other["id"], major["id"], general["id"]]  # newest found first
    assert ids(admin, "?severity=major") == [major["id"]]
    assert ids(admin, "?status=rectifying") == [general["id"]]
    assert ids(admin, f"?township_id={world['tB']}") == [other["id"]]
    assert ids(admin, f"?cell_id={world['cA1']}") == [general["id"]]
    assert ids(admin, f"?village_id={world['vA1']}") == [major["id"], general["id"]]
    assert ids(admin, f"?enterprise_id={chem['id']}") == [major["id"]]
    assert ids(admin, f"?department_id={yjj['id']}") == [major["id"]]
    assert ids(admin, "?source=self_check&sector=hazardous_chemicals") == [major["id"]]
    assert ids(admin, "?kind=management_defect") == [other["id"]]
    assert ids(admin, "?found_from=2026-02-01T00:00:00%2B08:00&found_before=2026-03-01T00:00:00%2B08:00") == [
        major["id"]
    ]
    assert ids(admin, f"?number={major['number']}") == [major["id"]]
    # due today is not late yet
    assert late["overdue"] is False and ids(admin, "?overdue=true") == []
    assert set(ids(admin, "?overdue=false")) == {general["id"], major["id"], other["id"]}
    page = f.ok(admin.get(f"{API}/hazards?page_size=2"))
    rest = f.ok(admin.get(page["next"]))
    assert [h["id"] for h in page["items"] + rest["items"]] == ids(admin) and rest["next_cursor"] is None


def test_an_open_hazard_past_its_deadline_is_overdue(app, world):
    from datetime import date

    from api.db import db
    from models.hazards.model import Hazard
    from models.roles import SYSTEM

    admin = world.admin
    hazard = ok_step(admin, report(admin), "start_rectification", deadline=in_days(1))
    closed = report(admin, 600, 600)
    with db.new_session(app) as session:  # time passes: the deadline was yesterday
        session.info["actor"] = SYSTEM
        session.get(Hazard, hazard["id"]).deadline = date.fromisoformat(in_days(-1))
        session.get(Hazard, closed["id"]).deadline = date.fromisoformat(in_days(-1))
        session.get(Hazard, closed["id"]).status = "closed"
        session.commit()
    assert ids(admin, "?overdue=true") == [hazard["id"]]
    assert f.ok(admin.get(f"{API}/hazards/{hazard['id']}"))["overdue"] is True
    assert f.ok(admin.get(f"{API}/hazards/{closed['id']}"))["overdue"] is False


def test_the_ledger_answers_geojson_too(world):
    admin = world.admin
    hazard = report(admin, 500, 500)
    for request in ({"query_string": {"format": "geojson"}}, {"headers": {"Accept": "application/geo+json"}}):
        response = admin.get(f"{API}/hazards", **request)
        assert response.mimetype == "application/geo+json"
        (feature,) = response.get_json()["features"]
        assert feature["id"] == hazard["id"] and feature["geometry"] == hazard["location"]
        assert feature["properties"]["number"] == hazard["number"]


def test_a_hazard_follows_its_cell_when_the_boundary_is_redrawn_and_keeps_its_number(world):
    admin = world.admin

    def redraw(cell: str, box: tuple[int, int, int, int]) -> None:
        version = f.ok(admin.get(f"{API}/grid-cells/{world[cell]}"))["version"]
        f.ok(
            admin.patch(
                f"{API}/grid-cells/{world[cell]}", json={"boundary": f.rect(*box)}, headers={"If-Match": f'"{version}"'}
            )
        )

    hazard = report(admin, 900, 500)  # in cA1, near its eastern edge
    redraw("cA1", (0, 0, 800, 1000))
    assert f.ok(admin.get(f"{API}/hazards/{hazard['id']}"))["cell_id"] is None  # in no cell now, still in vA1
    redraw("cA2", (800, 0, 2000, 1000))
    after = f.ok(admin.get(f"{API}/hazards/{hazard['id']}"))
    assert (after["cell_id"], after["village_id"], after["number"]) == (world["cA2"], world["vA1"], hazard["number"])
    assert ids(world.as_("officer_a")) == []  # officer_a's cell is cA1: the hazard left it


def test_a_step_signed_by_someone_outside_the_hazards_scope_is_answered_like_a_missing_hazard(world):
    hazard = report(world.admin, 500, 500)
    assert_problem(step(world.as_("leader_b"), hazard, "start_rectification"), 404, "not-found")
    assert f.ok(world.admin.get(f"{API}/hazards/{hazard['id']}"))["version"] == hazard["version"]


def test_a_reported_hazard_is_corrected_and_then_no_more(world):
    admin, leader = world.admin, world.as_("leader_a")
    hazard = report(admin, 500, 500)
    corrected = f.ok(
        leader.patch(
            f"{API}/hazards/{hazard['id']}",
            json={"severity": "major", "kind": "management_defect", "position": {"lon": f.at(1500, 500)[0],
                                                                                  "lat": f.at(1500, 500)[1]}},
            headers={"If-Match": f'"{hazard["version"]}"'},
        )
    )  # fmt: skip
    assert (corrected["severity"], corrected["kind"], corrected["cell_id"]) == ("major", "management_defect",
                                                                                world["cA2"])  # fmt: skip
    assert corrected["number"] == hazard["number"]
    moved_out = leader.patch(f"{API}/hazards/{hazard['id']}", json={"position": {"lon": f.at(4500, 500)[0],
                             "lat": f.at(4500, 500)[1]}}, headers={"If-Match": "*"})  # fmt: skip
    assert_problem(moved_out, 422, "hazard-outside-scope")
    assert_problem(world.as_("officer_a").patch(f"{API}/hazards/{hazard['id']}", json={"kind": "unsafe_behaviour"},
                                                headers={"If-Match": "*"}), 403, "forbidden")  # fmt: skip
    events = f.ok(admin.get(f"{API}/audit-events?entity_type=hazards&entity_id={hazard['id']}"))["items"]
    assert any(e["action"] == "update" and e["after"].get("severity") == "major" for e in events)
    planned = f.ok(admin.put(f"{API}/hazards/{hazard['id']}/five-implementations", json={"measures": "停用"},
                             headers={"If-Match": "*"}))  # fmt: skip
    started = step(admin, planned, "start_rectification")
    assert_problem(started, 422, "five-implementations-incomplete")
    plain = report(admin, 600, 600)
    plain = f.ok(step(admin, plain, "start_rectification"))
    refused = leader.patch(f"{API}/hazards/{plain['id']}", json={"severity": "major"}, headers={"If-Match": "*"})
    assert_problem(refused, 409, "hazard-not-correctable")
