"""Duty as files: iCalendar per roster and per person (parsed back with the `icalendar` package: every shift kept, a
changed shift keeps its UID with a higher SEQUENCE, a removed one is answered cancelled), and the period's .xlsx
sheet (opened with openpyxl: one block per unit of the caller's scope). Every test runs on both backends."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

from icalendar import Calendar
from openpyxl import load_workbook

from tests import factories as f
from tests.factories import API, assert_problem

PERIODS, ROSTERS = f"{API}/duty/periods", f"{API}/duty/rosters"
START = datetime.fromisoformat("2027-02-05T08:30:00+08:00")


def at(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat()


def events(response: Any) -> dict[str, Any]:
    """The events of an iCalendar answer, by UID."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    assert calendar["version"] == "2.0" and calendar["prodid"]
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def standing(found: dict[str, Any]) -> list[tuple[str, str]]:
    """The (start, end) of the events not cancelled, in time order, as ISO UTC."""
    return sorted((e.decoded("dtstart").isoformat(), e.decoded("dtend").isoformat())
                  for e in found.values() if e["status"] != "CANCELLED")  # fmt: skip


def utc(instant: str) -> str:
    return datetime.fromisoformat(instant).astimezone(datetime.fromisoformat("2027-01-01T00:00:00+00:00").tzinfo)\
        .isoformat()  # fmt: skip


def make_roster(world: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    period = f.ok(world.admin.post(PERIODS, json={
        "name": "春节", "starts_at": at(0), "ends_at": at(48), "deadline": "2027-01-29T17:30:00+08:00",
        "desk_phone": "0731-55550000"}), 201)  # fmt: skip
    shifts = [
        {"starts_at": at(0), "ends_at": at(24), "leader": {"user_id": world["u_leader_a"], "phone": "13900139000"},
         "officers": [{"officer_id": world["oA1"]}], "phone": "0731-55550001"},
        {"starts_at": at(24), "ends_at": at(48), "leader": {"officer_id": world["oA2"]},
         "officers": [{"officer_id": world["oA1"]}]},
        {"starts_at": at(24), "ends_at": at(33), "leader": None, "officers": [{"officer_id": world["oA2"]}],
         "notes": "白班"},
    ]  # fmt: skip
    roster = f.ok(world.as_("leader_a").post(ROSTERS, json={"period_id": period["id"], "township_id": world["tA"],
                                                           "shifts": shifts}), 201)  # fmt: skip
    return period, roster


def test_a_roster_as_icalendar_keeps_every_shift_and_follows_its_revisions(world):
    period, roster = make_roster(world)
    url = f"{ROSTERS}/{roster['id']}/shifts.ics"
    draft = events(world.as_("leader_a").get(url))
    assert standing(draft) == sorted((utc(s["starts_at"]), utc(s["ends_at"])) for s in roster["shifts"])
    assert {str(e["status"]) for e in draft.values()} == {"TENTATIVE"}
    assert len(set(draft)) == 3  # two shifts start at the same instant: each its own UID
    first = next(e for e in draft.values() if e.decoded("dtstart") == datetime.fromisoformat(at(0)))
    assert "带班领导：Test township_leader 13900139000" in str(first["description"])
    assert "值班员：张伟 13800138001" in str(first["description"]) and "0731-55550000" in str(first["description"])

    f.ok(world.as_("leader_a").post(f"{ROSTERS}/{roster['id']}/submit", headers={"If-Match": "*"}))
    submitted = events(world.as_("officer_a").get(url))  # a grid officer of the township reads it too
    assert set(submitted) == set(draft) and {int(e["sequence"]) for e in submitted.values()} == {1}
    assert {str(e["status"]) for e in submitted.values()} == {"CONFIRMED"}

    # revision 2: the first shift's officer changes, the day shift is dropped
    change = [
        {"starts_at": at(0), "ends_at": at(24), "leader": {"user_id": world["u_leader_a"]},
         "officers": [{"officer_id": world["oA2"]}]},
        {"starts_at": at(24), "ends_at": at(48), "leader": {"officer_id": world["oA2"]},
         "officers": [{"officer_id": world["oA1"]}]},
    ]  # fmt: skip
    f.ok(world.as_("leader_a").patch(f"{ROSTERS}/{roster['id']}", json={"shifts": change}, headers={"If-Match": "*"}))
    revised = events(world.as_("leader_a").get(url))
    assert set(revised) == set(submitted)  # the same UIDs: the kept shifts update, the dropped one cancels
    assert {int(e["sequence"]) for e in revised.values()} == {2}
    cancelled = [e for e in revised.values() if e["status"] == "CANCELLED"]
    assert [str(e["description"]).split("\n")[-1] for e in cancelled] == ["备注：白班"]
    assert standing(revised) == [(utc(at(0)), utc(at(24))), (utc(at(24)), utc(at(48)))]
    first = revised[str(first["uid"])]
    assert "值班员：李强 13800138002" in str(first["description"])

    # a cancelled period cancels every event, with a higher SEQUENCE
    f.ok(world.admin.post(f"{PERIODS}/{period['id']}/cancel", json={"reason": "取消"}, headers={"If-Match": "*"}))
    gone = events(world.admin.get(url))
    assert set(gone) == set(revised) and {(str(e["status"]), int(e["sequence"])) for e in gone.values()} == {
        ("CANCELLED", 3)}  # fmt: skip


def test_a_roster_calendar_out_of_scope_is_not_found(world):
    _, roster = make_roster(world)
    assert_problem(world.as_("leader_b").get(f"{ROSTERS}/{roster['id']}/shifts.ics"), 404, "not-found")
    assert_problem(world.admin.get(f"{ROSTERS}/99999/shifts.ics"), 404, "not-found")


def test_a_persons_calendar_holds_their_shifts_and_cancels_those_taken_away(world):
    _, roster = make_roster(world)
    mine = f"{API}/duty/shifts.ics"
    assert events(world.as_("officer_a").get(mine)) == {}  # a draft is nobody's duty yet
    f.ok(world.as_("leader_a").post(f"{ROSTERS}/{roster['id']}/submit", headers={"If-Match": "*"}))
    own = events(world.as_("officer_a").get(mine))
    assert standing(own) == [(utc(at(0)), utc(at(24))), (utc(at(24)), utc(at(48)))]
    assert {str(e["summary"]) for e in own.values()} == {"值班（值班员）· 青山镇"}
    leader = events(world.as_("leader_a").get(mine))
    assert [str(e["summary"]) for e in leader.values()] == ["值班（带班领导）· 青山镇"]
    # another person's shifts: in the rosters of the caller's scope only
    theirs = events(world.as_("leader_a").get(f"{mine}?officer_id={world['oA2']}"))
    assert sorted(str(e["summary"]) for e in theirs.values()) == ["值班（值班员）· 青山镇", "值班（带班领导）· 青山镇"]
    assert events(world.as_("leader_b").get(f"{mine}?officer_id={world['oA2']}")) == {}
    assert set(events(world.admin.get(f"{mine}?user_id={world['u_officer_a']}"))) == set(own)  # linked: the officer

    change = [{"starts_at": at(0), "ends_at": at(20), "leader": {"user_id": world["u_leader_a"]},
               "officers": [{"officer_id": world["oA2"]}]}]  # fmt: skip
    f.ok(world.as_("leader_a").patch(f"{ROSTERS}/{roster['id']}", json={"shifts": change}, headers={"If-Match": "*"}))
    after = events(world.as_("officer_a").get(mine))
    assert set(after) == set(own) and {str(e["status"]) for e in after.values()} == {"CANCELLED"}
    lead = events(world.as_("leader_a").get(mine))
    assert set(lead) == {next(iter(leader))} and standing(lead) == [(utc(at(0)), utc(at(20)))]
    assert_problem(world.admin.get(f"{mine}?officer_id=1&user_id=1"), 422, "one-person")


def test_the_period_sheet_has_a_block_per_unit_of_the_callers_scope(world):
    period, roster = make_roster(world)
    f.ok(world.as_("leader_a").post(f"{ROSTERS}/{roster['id']}/submit", headers={"If-Match": "*"}))
    url = f"{PERIODS}/{period['id']}/sheet.xlsx"
    response = world.admin.get(url)
    assert response.status_code == 200 and response.headers["Content-Disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(response.data))
    rows = [[c for c in row if c] for row in book["值班表"].iter_rows(values_only=True)]
    assert rows[0] == ["春节值班安排表"] and "县安委会办公室值班电话：0731-55550000" in rows[1][0]
    town_a = next(i for i, r in enumerate(rows) if r and r[0].startswith("青山镇"))
    assert "已报送（第1版" in rows[town_a][0]
    assert rows[town_a + 1][:3] == ["日期", "值班时间", "带班领导"]
    assert rows[town_a + 2] == ["2月5日（周五）", "08:30—次日08:30", "Test township_leader", "13900139000", "张伟",
                                "13800138001", "0731-55550001"]  # fmt: skip
    assert rows[town_a + 3] == ["2月6日（周六）", "08:30—17:30", "李强", "13800138002", "白班"]
    town_b = next(i for i, r in enumerate(rows) if r and r[0].startswith("Green Hill Town"))
    assert rows[town_b][0].endswith("未报送") and rows[town_b + 2] == ["（未报送）"]
    summary = list(book["报送情况"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in summary] == ["青山镇", "Green Hill Town"] and summary[0][2] == 3

    only_b = load_workbook(io.BytesIO(world.as_("leader_b").get(url).data))["报送情况"]
    assert [r[0] for r in only_b.iter_rows(min_row=2, values_only=True)] == ["Green Hill Town"]
    assert_problem(world.admin.get(f"{PERIODS}/99999/sheet.xlsx"), 404, "not-found")
