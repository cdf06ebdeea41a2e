"""Duty rosters: written by a unit, submitted (late after the deadline), approved or returned by the county office,
every submission and every later change kept as a revision. Every test runs on SpatiaLite and on PostGIS."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from models.roles import Role
from tests import factories as f
from tests.factories import API, assert_problem

PERIODS, ROSTERS = f"{API}/duty/periods", f"{API}/duty/rosters"
NAMES = itertools.count(1)
START = datetime.fromisoformat("2027-02-05T08:30:00+08:00")


def at(hours: float) -> str:
    """The instant `hours` after the period's start, as the API takes it."""
    return (START + timedelta(hours=hours)).isoformat()


def period(world, *, deadline: str = "2027-01-29T17:30:00+08:00", days: int = 3, **extra) -> dict:
    body = {"name": f"2027年春节{next(NAMES)}", "starts_at": at(0), "ends_at": at(24 * days), "deadline": deadline,
            "township_ids": [world["tA"], world["tB"]], "department_ids": []} | extra  # fmt: skip
    return f.ok(world.admin.post(PERIODS, json=body), 201)


def shift(start: float, end: float, leader: dict | None, *officers: dict, phone: str | None = "0731-55550001") -> dict:
    return {"starts_at": at(start), "ends_at": at(end), "leader": leader, "officers": list(officers), "phone": phone}


def days_of(world, n: int = 3) -> list[dict]:
    """tA's roster: its leader's account leads every day, officers oA1 and oA2 take turns."""
    leader = {"user_id": world["u_leader_a"], "phone": "13900139000"}
    return [shift(24 * d, 24 * (d + 1), leader, {"officer_id": world["oA1" if d % 2 == 0 else "oA2"]})
            for d in range(n)]  # fmt: skip


def test_a_township_writes_submits_changes_and_the_office_approves_every_revision_kept(world):
    p = period(world)
    leader = world.as_("leader_a")
    created = leader.post(ROSTERS, json={"period_id": p["id"], "township_id": world["tA"], "shifts": days_of(world)})
    roster = f.ok(created, 201)
    assert created.headers["ETag"] == '"1"' and created.headers["Location"].endswith(f"/duty/rosters/{roster['id']}")
    assert (roster["status"], roster["revision"], roster["late"], roster["shift_count"]) == ("draft", 0, False, 3)
    assert roster["unit"] == {"kind": "township", "id": world["tA"], "name": "青山镇"}
    first = roster["shifts"][0]
    assert first["leader"] == {"officer_id": None, "user_id": world["u_leader_a"], "name": "Test township_leader",
                               "phone": "13900139000"}  # fmt: skip
    assert first["officers"] == [{"officer_id": world["oA1"], "user_id": None, "name": "张伟", "phone": "13800138001"}]
    assert datetime.fromisoformat(first["starts_at"]) == START and first["phone"] == "0731-55550001"

    # a draft is rewritten without a revision; read by its township, not by the other
    url = f"{ROSTERS}/{roster['id']}"
    changed = f.ok(leader.patch(url, json={"notes": "草稿"}, headers={"If-Match": '"1"'}))
    assert (changed["revision"], changed["status"], changed["version"]) == (0, "draft", 2)
    for who in ("officer_a", "viewer_a", "viewer_county"):
        assert f.ok(world.as_(who).get(url))["id"] == roster["id"]
    for who in ("leader_b", "officer_b", "viewer_b"):
        assert_problem(world.as_(who).get(url), 404, "not-found")
        assert f.ok(world.as_(who).get(f"{ROSTERS}?period_id={p['id']}"))["items"] == []

    submitted = f.ok(leader.post(f"{url}/submit", headers={"If-Match": '"2"'}))
    assert (submitted["status"], submitted["revision"], submitted["late"]) == ("submitted", 1, False)
    assert_problem(leader.post(f"{url}/submit", headers={"If-Match": "*"}), 409, "roster-submitted")

    # a change after submission is a new revision, submitted at once; the office approves it
    shifts = days_of(world)
    shifts[2]["officers"].append({"officer_id": world["oA2"]})
    revised = f.ok(leader.patch(url, json={"shifts": shifts}, headers={"If-Match": '"3"'}))
    assert (revised["status"], revised["revision"], len(revised["shifts"][2]["officers"])) == ("submitted", 2, 2)
    assert_problem(leader.post(f"{url}/approve", headers={"If-Match": "*"}), 403, "forbidden")
    approved = f.ok(world.admin.post(f"{url}/approve", headers={"If-Match": f'"{revised["version"]}"'}))
    assert approved["status"] == "approved" and approved["decided_by_user_id"] == world["u_admin"]
    assert_problem(world.admin.post(f"{url}/approve", headers={"If-Match": "*"}), 409, "roster-not-submitted")

    history = f.ok(leader.get(f"{url}/revisions"))["items"]
    assert [(r["number"], r["decision"], len(r["shifts"][2]["officers"])) for r in history] == [
        (2, "approved", 2), (1, None, 1)]  # fmt: skip
    assert history[1]["shifts"][0]["leader"]["phone"] == "13900139000"
    assert_problem(world.as_("leader_b").get(f"{url}/revisions"), 404, "not-found")


def test_a_late_roster_returned_and_submitted_again_as_it_is(world):
    p = period(world, deadline="2026-01-01T17:30:00+08:00")  # passed: whatever is submitted now is late
    leader = world.as_("leader_a")
    roster = f.ok(leader.post(ROSTERS, json={"period_id": p["id"], "township_id": world["tA"],
                                             "shifts": days_of(world)}), 201)  # fmt: skip
    url = f"{ROSTERS}/{roster['id']}"
    assert f.ok(leader.post(f"{url}/submit", headers={"If-Match": "*"}))["late"] is True
    returned = f.ok(world.admin.post(f"{url}/return", json={"reason": "缺值宿安排"}, headers={"If-Match": "*"}))
    assert (returned["status"], returned["return_reason"]) == ("returned", "缺值宿安排")
    again = f.ok(leader.post(f"{url}/submit", headers={"If-Match": "*"}))
    assert (again["status"], again["revision"], again["return_reason"], again["decided_at"]) == (
        "submitted", 2, None, None)  # fmt: skip
    history = f.ok(world.admin.get(f"{url}/revisions"))["items"]
    assert [(r["number"], r["decision"], r["reason"], r["late"]) for r in history] == [
        (2, None, None, True), (1, "returned", "缺值宿安排", True)]  # fmt: skip
    listed = f.ok(world.admin.get(f"{ROSTERS}?period_id={p['id']}&status=submitted"))["items"]
    assert [(r["id"], r["late"], r["shift_count"]) for r in listed] == [(roster["id"], True, 3)]


def test_a_department_writes_its_own_roster_with_its_staff(app, world):
    dept = f.ok(world.admin.post(f"{API}/departments", json={"code": "YJJ", "name": "应急管理局"}), 201)["id"]
    staff_id = f.add_user(app, Role.DEPARTMENT_STAFF, username="wang-yjj", department_id=dept)
    staff = f.bearer(app, f.token_for(app, "wang-yjj")["access_token"])
    p = period(world, department_ids=[dept])
    body = {"period_id": p["id"], "department_id": dept,
            "shifts": [shift(0, 24, {"user_id": staff_id, "phone": "13700137000"}, {"user_id": staff_id})]}  # fmt: skip
    assert_problem(staff.post(ROSTERS, json=body), 422, "person-repeated")
    body["shifts"][0]["officers"] = [{"officer_id": world["oA1"]}]  # an officer is a township's
    assert_problem(staff.post(ROSTERS, json=body), 422, "person-not-in-unit")
    body["shifts"][0]["officers"] = []
    roster = f.ok(staff.post(ROSTERS, json=body), 201)
    assert roster["unit"]["kind"] == "department" and roster["shifts"][0]["leader"]["phone"] == "13700137000"
    assert [r["id"] for r in f.ok(staff.get(ROSTERS))["items"]] == [roster["id"]]
    assert f.ok(world.as_("leader_a").get(ROSTERS))["items"] == []
    assert_problem(world.as_("leader_a").get(f"{ROSTERS}/{roster['id']}"), 404, "not-found")
    # the township's roster is not the department's to write
    assert_problem(staff.post(ROSTERS, json={"period_id": p["id"], "township_id": world["tA"]}), 422,
                   "township-not-found")  # fmt: skip


def test_a_roster_that_does_not_add_up_is_refused_and_changes_nothing(world):
    p = period(world)
    leader = world.as_("leader_a")
    base = {"period_id": p["id"], "township_id": world["tA"]}
    me = {"user_id": world["u_leader_a"]}

    def refused(shifts: list[dict], status: int, code: str, body: dict | None = None) -> None:
        assert_problem(leader.post(ROSTERS, json=(body or base) | {"shifts": shifts}), status, code)

    refused([shift(0, 0, me)], 422, "ends-before-starts")
    refused([shift(0, 26, me)], 422, "shift-too-long")
    refused([shift(-1, 12, me)], 422, "shift-outside-period")
    refused([shift(60, 73, me)], 422, "shift-outside-period")
    refused([shift(0, 24, me, {"officer_id": world["oB1"]})], 422, "person-not-in-unit")
    refused([shift(0, 24, {"user_id": world["u_leader_b"]})], 422, "person-not-in-unit")
    refused([shift(0, 24, me, {"officer_id": f.MISSING})], 422, "person-not-in-unit")
    refused([shift(0, 24, me, {"user_id": world["u_officer_a"]}, {"officer_id": world["oA1"]})], 422,
            "person-repeated")  # an account linked to an officer is that officer  # fmt: skip
    refused([shift(0, 24, {"officer_id": world["oA1"], "user_id": world["u_leader_a"]})], 422, "one-person")
    refused([], 422, "township-not-found", {"period_id": p["id"], "township_id": world["tB"]})
    refused([], 422, "period-not-found", {"period_id": f.MISSING, "township_id": world["tA"]})
    assert f.ok(world.admin.get(ROSTERS))["items"] == []

    other = period(world, township_ids=[world["tB"]])
    refused([], 422, "unit-not-in-period", {"period_id": other["id"], "township_id": world["tA"]})
    roster = f.ok(leader.post(ROSTERS, json=base), 201)
    assert_problem(leader.post(ROSTERS, json=base), 409, "roster-exists")
    url = f"{ROSTERS}/{roster['id']}"
    assert_problem(leader.post(f"{url}/submit", headers={"If-Match": "*"}), 422, "roster-empty")
    assert_problem(world.admin.post(f"{url}/approve", headers={"If-Match": "*"}), 409, "roster-not-submitted")
    assert_problem(leader.patch(url, json={"shifts": [shift(0, 30, me)]}, headers={"If-Match": "*"}), 422,
                   "shift-too-long")  # fmt: skip
    assert_problem(leader.patch(url, json={"notes": "x"}, headers={"If-Match": '"7"'}), 412, "precondition-failed")
    f.ok(world.admin.post(f"{PERIODS}/{p['id']}/cancel", json={"reason": "取消"}, headers={"If-Match": "*"}))
    assert_problem(leader.patch(url, json={"notes": "x"}, headers={"If-Match": "*"}), 409, "period-cancelled")
    assert f.ok(leader.get(url))["version"] == 1
