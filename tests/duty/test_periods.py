"""Duty periods: proposed from the holiday calendar, announced, changed and cancelled by the county office, read by
every role. Every test runs on SpatiaLite and on PostGIS (see conftest.py)."""

from __future__ import annotations

from datetime import datetime

from tests import factories as f
from tests.factories import API, assert_problem

PERIODS = f"{API}/duty/periods"


def department(world, code: str = "YJJ") -> int:
    return f.ok(world.admin.post(f"{API}/departments", json={"code": code, "name": f"应急管理局{code}"}), 201)["id"]


def test_a_period_is_proposed_from_a_holiday_and_announced_for_every_unit(world):
    dept = department(world)
    proposal = f.ok(world.admin.get(f"{PERIODS}/proposal?year=2026&holiday=national_day"))
    # 2026's National Day holiday is October 1 to 7: duty from Sep 30 08:30 to Oct 9 08:30 (Shanghai)
    assert proposal["name"] == "2026年国庆节" and proposal["holiday"] == "national_day"
    assert datetime.fromisoformat(proposal["starts_at"]) == datetime.fromisoformat("2026-09-30T08:30:00+08:00")
    assert datetime.fromisoformat(proposal["ends_at"]) == datetime.fromisoformat("2026-10-09T08:30:00+08:00")
    assert datetime.fromisoformat(proposal["deadline"]) == datetime.fromisoformat("2026-09-23T17:30:00+08:00")
    assert proposal["township_ids"] == [world["tA"], world["tB"]] and proposal["department_ids"] == [dept]
    wider = f.ok(world.admin.get(f"{PERIODS}/proposal?year=2026&holiday=national_day&margin_days=0&shift_start=09:00"))
    assert datetime.fromisoformat(wider["starts_at"]) == datetime.fromisoformat("2026-10-01T09:00:00+08:00")

    created = world.admin.post(PERIODS, json=proposal)
    period = f.ok(created, 201)
    assert created.headers["ETag"] == '"1"' and created.headers["Location"].endswith(f"/duty/periods/{period['id']}")
    assert (period["leader_required"], period["shift_start"], period["split_at"], period["cancelled"]) == (
        True, "08:30", None, False)  # fmt: skip
    assert period["township_ids"] == proposal["township_ids"] and period["department_ids"] == [dept]
    for who in ("leader_b", "officer_a", "viewer_a"):
        assert f.ok(world.as_(who).get(f"{PERIODS}/{period['id']}")) == period
        assert [p["id"] for p in f.ok(world.as_(who).get(PERIODS))["items"]] == [period["id"]]
    assert_problem(world.as_("leader_a").get(f"{PERIODS}/proposal?year=2026&holiday=national_day"), 403, "forbidden")
    assert_problem(world.admin.get(f"{PERIODS}/proposal?year=2027&holiday=national_day"), 404,
                   "calendar-year-unknown")  # fmt: skip


def test_a_period_by_hand_changed_and_cancelled_never_deleted(world):
    body = {"name": "2027年全国两会", "starts_at": "2027-03-03T08:30:00+08:00", "ends_at": "2027-03-12T08:30:00+08:00",
            "deadline": "2027-02-25T17:30:00+08:00", "split_at": "17:30", "township_ids": [world["tA"]],
            "department_ids": []}  # fmt: skip
    period = f.ok(world.admin.post(PERIODS, json=body), 201)
    assert (period["township_ids"], period["department_ids"], period["split_at"]) == ([world["tA"]], [], "17:30")
    changed = f.ok(world.admin.patch(f"{PERIODS}/{period['id']}", json={"township_ids": [world["tA"], world["tB"]],
                                     "leader_required": False}, headers={"If-Match": '"1"'}))  # fmt: skip
    assert (changed["version"], changed["township_ids"], changed["leader_required"]) == (
        2, [world["tA"], world["tB"]], False)  # fmt: skip
    assert_problem(world.admin.patch(f"{PERIODS}/{period['id']}", json={"name": "x两会"}, headers={"If-Match": '"1"'}),
                   412, "precondition-failed")  # fmt: skip
    cancelled = f.ok(world.admin.post(f"{PERIODS}/{period['id']}/cancel", json={"reason": "上级通知取消"},
                                      headers={"If-Match": '"2"'}))  # fmt: skip
    assert cancelled["cancelled"] and cancelled["cancel_reason"] == "上级通知取消" and cancelled["version"] == 3
    assert_problem(world.admin.patch(f"{PERIODS}/{period['id']}", json={"name": "x两会"}, headers={"If-Match": "*"}),
                   409, "period-cancelled")  # fmt: skip
    assert f.ok(world.admin.get(PERIODS))["items"] == []
    assert [p["id"] for p in f.ok(world.admin.get(f"{PERIODS}?include_cancelled=true&year=2027"))["items"]] == [
        period["id"]]  # fmt: skip
    assert f.ok(world.admin.get(f"{PERIODS}?include_cancelled=true&year=2026"))["items"] == []
    assert f.ok(world.admin.get(f"{PERIODS}/{period['id']}"))["cancelled"] is True


def test_a_name_is_announced_once_among_the_periods_not_cancelled(world):
    body = {"name": "2027年全国两会", "starts_at": "2027-03-03T08:30:00+08:00", "ends_at": "2027-03-12T08:30:00+08:00",
            "deadline": "2027-02-25T17:30:00+08:00"}  # fmt: skip
    first = f.ok(world.admin.post(PERIODS, json=body), 201)
    assert_problem(world.admin.post(PERIODS, json=body), 409, "period-name-taken")
    other = f.ok(world.admin.post(PERIODS, json=body | {"name": "2027年两会"}), 201)
    assert_problem(world.admin.patch(f"{PERIODS}/{other['id']}", json={"name": body["name"]},
                                     headers={"If-Match": "*"}), 409, "period-name-taken")  # fmt: skip
    assert f.ok(world.admin.patch(f"{PERIODS}/{first['id']}", json={"name": body["name"], "notes": "同名"},
                                  headers={"If-Match": "*"}))["version"] == 2  # fmt: skip
    f.ok(world.admin.post(f"{PERIODS}/{first['id']}/cancel", json={"reason": "重复"}, headers={"If-Match": "*"}))
    again = f.ok(world.admin.post(PERIODS, json=body), 201)  # the name is free again once the first is cancelled
    assert [p["id"] for p in f.ok(world.admin.get(f"{PERIODS}?year=2027"))["items"]] == sorted(
        [again["id"], other["id"]], reverse=True)  # fmt: skip


def test_a_period_that_does_not_add_up_is_refused_and_changes_nothing(world):
    good = {"name": "2027年全国两会", "starts_at": "2027-03-03T08:30:00+08:00", "ends_at": "2027-03-12T08:30:00+08:00",
            "deadline": "2027-02-25T17:30:00+08:00"}  # fmt: skip

    def refused(change: dict, status: int, code: str) -> None:
        assert_problem(world.admin.post(PERIODS, json=good | change), status, code)

    refused({"ends_at": "2027-03-03T08:30:00+08:00"}, 422, "ends-before-starts")
    refused({"ends_at": "2027-05-03T08:30:00+08:00"}, 422, "period-too-long")
    refused({"deadline": "2027-03-04T08:30:00+08:00"}, 422, "deadline-after-start")
    refused({"split_at": "08:30"}, 422, "split-at-shift-start")
    refused({"shift_start": "8:30"}, 422, "clock-format")
    refused({"township_ids": [f.MISSING]}, 422, "township-not-found")
    refused({"township_ids": [], "department_ids": []}, 422, "no-units")
    assert f.ok(world.admin.get(f"{PERIODS}?include_cancelled=true"))["items"] == []
    assert_problem(world.as_("leader_a").post(PERIODS, json=good), 403, "forbidden")
