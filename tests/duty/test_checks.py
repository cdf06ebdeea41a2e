"""The checks of duty rosters: gaps and double-booking equal a brute-force check minute by minute over random
rosters (on both backends, through the API), rest and long stretches, people inactive or without a phone, late,
missing and overdue rosters and the reminder list, each caller checking their own units; a zone with daylight
saving breaks nothing."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from datetime import datetime, timedelta

import pytest

from models.base import county_zone
from tests import factories as f
from tests.factories import API, assert_problem

PERIODS, ROSTERS = f"{API}/duty/periods", f"{API}/duty/rosters"
START = datetime.fromisoformat("2027-02-05T08:30:00+08:00")
DAY = 24 * 60
NAMES = itertools.count(1)


def at(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


def minute_of(instant: str) -> int:
    return round((datetime.fromisoformat(instant) - START).total_seconds() / 60)


def new_period(world, *, days: int = 2, deadline: str = "2027-01-29T17:30:00+08:00", **extra) -> dict:
    body = {"name": f"检查{next(NAMES)}", "starts_at": at(0), "ends_at": at(days * DAY), "deadline": deadline,
            "township_ids": [world["tA"], world["tB"]], "department_ids": []} | extra  # fmt: skip
    return f.ok(world.admin.post(PERIODS, json=body), 201)


def shift(start: int, end: int, leader: dict | None, *officers: dict) -> dict:
    return {"starts_at": at(start), "ends_at": at(end), "leader": leader, "officers": list(officers)}


def roster(world, period: dict, shifts: list[dict], township: str = "tA", who: str = "admin") -> dict:
    body = {"period_id": period["id"], "township_id": world[township], "shifts": shifts}
    return f.ok(world.as_(who).post(ROSTERS, json=body), 201)


def check(world, roster_id: int, who: str = "admin", **args) -> dict:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f.ok(world.as_(who).get(f"{ROSTERS}/{roster_id}/check?{query}"))


# ---- gaps and double-booking, against the minute-by-minute truth --------------------------------------------------


def brute_force(shifts: list[dict], minutes: int, leader_required: bool, key_of) -> tuple[set, set]:
    """Every minute of the period without cover (with what is missing), and every (person, minute) on two shifts."""
    spans = [(minute_of(s["starts_at"]), minute_of(s["ends_at"]), s) for s in shifts]
    gaps, booked = set(), set()
    for m in range(minutes):
        on = [s for lo, hi, s in spans if lo <= m < hi]
        missing = (("leader",) if leader_required and not any(s["leader"] for s in on) else ()) + (
            ("officer",) if not any(s["officers"] for s in on) else ())  # fmt: skip
        if missing:
            gaps.add((m, missing))
        count: dict[str, int] = defaultdict(int)
        for s in on:
            for p in ([s["leader"]] if s["leader"] else []) + s["officers"]:
                count[key_of(p)] += 1
        booked |= {(k, m) for k, n in count.items() if n > 1}
    return gaps, booked


def test_gaps_and_double_booking_equal_a_minute_by_minute_check_over_random_rosters(world):
    rng = random.Random(20270205)
    linked = world["oA1"]  # officer_a's account is officer oA1: one person, named either way
    pool = [{"user_id": world["u_leader_a"]}, {"officer_id": world["oA1"]}, {"officer_id": world["oA2"]},
            {"user_id": world["u_officer_a"]}]  # fmt: skip

    def key_of(p: dict) -> str:
        officer = p.get("officer_id") or (linked if p.get("user_id") == world["u_officer_a"] else None)
        return f"officer:{officer}" if officer else f"user:{p['user_id']}"

    period = new_period(world, days=2)
    r = roster(world, period, [])
    minutes = 2 * DAY
    for round_ in range(30):
        leader_required = round_ % 3 != 2
        f.ok(world.admin.patch(f"{PERIODS}/{period['id']}", json={"leader_required": leader_required},
                               headers={"If-Match": "*"}))  # fmt: skip
        shifts = []
        for _ in range(rng.randint(0, 7)):
            lo = rng.randrange(0, minutes - 1)
            hi = min(minutes, lo + rng.randint(1, 25 * 60))
            people = rng.sample(pool, rng.randint(0, 3))
            keys = set()
            people = [p for p in people if not (key_of(p) in keys or keys.add(key_of(p)))]
            leader = people[0] if people and rng.random() < 0.7 else None
            shifts.append(shift(lo, hi, leader, *people[1 if leader else 0 :]))
        f.ok(world.admin.patch(f"{ROSTERS}/{r['id']}", json={"shifts": shifts}, headers={"If-Match": "*"}))
        found = check(world, r["id"])
        gaps, booked = set(), set()
        for p in found["problems"]:
            span = range(minute_of(p["from"]), minute_of(p.get("to", p["from"])))
            if p["kind"] == "gap":
                gaps |= {(m, tuple(p["missing"])) for m in span}
            elif p["kind"] == "double-booking":
                booked |= {(key_of(p["person"]), m) for m in span}
        expected_gaps, expected_booked = brute_force(shifts, minutes, leader_required, key_of)
        assert gaps == expected_gaps, round_
        assert booked == expected_booked, round_
        assert found["summary"]["gap_minutes"] == len(expected_gaps)


def test_shifts_crossing_midnight_and_the_period_edges(world):
    period = new_period(world, days=2)
    lead, officer = {"user_id": world["u_leader_a"]}, {"officer_id": world["oA1"]}
    # 08:30 to 08:30 the next morning, then a day shift and an overnight shift: the last hour before the end uncovered
    r = roster(world, period, [shift(0, DAY, lead, officer), shift(DAY + 600, 2 * DAY - 60, lead, officer)])
    gaps = [(minute_of(p["from"]), minute_of(p["to"]), p["missing"]) for p in check(world, r["id"])["problems"]
            if p["kind"] == "gap"]  # fmt: skip
    assert gaps == [(DAY, DAY + 600, ["leader", "officer"]), (2 * DAY - 60, 2 * DAY, ["leader", "officer"])]


# ---- rest, long stretches, people ---------------------------------------------------------------------------------


def test_rest_long_stretches_and_people_inactive_or_without_a_phone(world):
    period = new_period(world, days=3)
    lead = {"user_id": world["u_leader_a"]}  # an account without an officer: no phone of its own
    a1, a2 = {"officer_id": world["oA1"]}, {"officer_id": world["oA2"]}
    r = roster(world, period, [
        shift(0, DAY, lead | {"phone": "13900139000"}, a1),
        shift(DAY, 2 * DAY, lead, a2),  # the leader on again at once: 48 hours on duty; no phone given this time
        shift(2 * DAY + 240, 3 * DAY, {"officer_id": world["oA2"]}, a1)])  # a2 rested 4 hours  # fmt: skip
    f.ok(world.admin.post(f"{API}/officers/{world['oA1']}/deactivate", json={"reason": "调离"},
                          headers={"If-Match": "*"}))  # fmt: skip
    problems = check(world, r["id"])["problems"]
    kinds = sorted((p["kind"], p["person"]["name"], p.get("hours"), p.get("shift_count")) for p in problems
                   if p["kind"] != "gap")  # fmt: skip
    assert kinds == [("long-duty", "Test township_leader", 48.0, None), ("no-phone", "Test township_leader", None, 1),
                     ("person-inactive", "张伟", None, 2), ("short-rest", "李强", 4.0, None)]  # fmt: skip
    relaxed = check(world, r["id"], min_rest_hours=2, max_duty_hours=48)["summary"]
    assert (relaxed["short_rests"], relaxed["long_duties"], relaxed["inactive_people"]) == (0, 0, 1)


def test_a_person_on_two_rosters_at_once_is_double_booked_across_periods(world):
    lead, a1 = {"user_id": world["u_leader_a"]}, {"officer_id": world["oA1"]}
    first, second = new_period(world, days=2), new_period(world, days=1)
    r1 = roster(world, first, [shift(0, DAY, lead, a1)])
    r2 = roster(world, second, [shift(600, 900, {"officer_id": world["oA2"]}, {"user_id": world["u_officer_a"]})])
    booked = [p for p in check(world, r2["id"])["problems"] if p["kind"] == "double-booking"]
    assert [(p["person"]["officer_id"], minute_of(p["from"]), minute_of(p["to"])) for p in booked] == [
        (world["oA1"], 600, 900)]  # fmt: skip
    assert {s["roster_id"] for s in booked[0]["shifts"]} == {r1["id"], r2["id"]}
    f.ok(world.admin.post(f"{PERIODS}/{second['id']}/cancel", json={"reason": "取消"}, headers={"If-Match": "*"}))
    assert check(world, r1["id"])["summary"]["double_bookings"] == 0  # a cancelled period's rosters no longer count


# ---- a whole period -----------------------------------------------------------------------------------------------


def test_a_period_check_shows_late_missing_and_overdue_units_and_each_caller_their_own(world):
    past = new_period(world, deadline="2026-01-01T17:30:00+08:00")
    lead, a1 = {"user_id": world["u_leader_a"]}, {"officer_id": world["oA1"]}
    second = shift(DAY, 2 * DAY - 60, {"officer_id": world["oA2"]}, lead)  # the last hour uncovered
    r = roster(world, past, [shift(0, DAY, lead, a1), second], who="leader_a")
    f.ok(world.as_("leader_a").post(f"{ROSTERS}/{r['id']}/submit", headers={"If-Match": "*"}))
    answer = f.ok(world.admin.get(f"{PERIODS}/{past['id']}/check"))
    units = {u["unit"]["id"]: u for u in answer["units"]}
    assert (units[world["tA"]]["status"], units[world["tA"]]["late"], units[world["tA"]]["overdue"]) == (
        "submitted", True, False)  # fmt: skip
    assert units[world["tA"]]["summary"]["gaps"] == 1 and units[world["tA"]]["summary"]["gap_minutes"] == 60
    assert (units[world["tB"]]["status"], units[world["tB"]]["overdue"]) == ("missing", True)
    assert answer["not_submitted"] == [{"unit": {"kind": "township", "id": world["tB"], "name": "Green Hill Town"},
                                        "roster_id": None, "overdue": True}]  # fmt: skip
    assert answer["reminders"] == []
    # a township's leader checks their own township only; another's roster is not found
    mine = f.ok(world.as_("leader_b").get(f"{PERIODS}/{past['id']}/check"))
    assert [u["unit"]["id"] for u in mine["units"]] == [world["tB"]] and mine["problems"] == []
    assert_problem(world.as_("leader_b").get(f"{ROSTERS}/{r['id']}/check"), 404, "not-found")

    soon = (datetime.now(county_zone()) + timedelta(hours=5)).isoformat(timespec="seconds")
    upcoming = new_period(world, deadline=soon)
    roster(world, upcoming, [], township="tB")  # a draft is not submitted
    reminded = f.ok(world.admin.get(f"{PERIODS}/{upcoming['id']}/check"))
    assert [(u["id"]) for u in reminded["reminders"]] == [world["tA"], world["tB"]]
    assert all(not u["overdue"] for u in reminded["not_submitted"])


# ---- a zone with daylight saving -------------------------------------------------------------------------------


@pytest.fixture
def berlin(monkeypatch):
    monkeypatch.setenv("COUNTY_TIMEZONE", "Europe/Berlin")
    county_zone.cache_clear()
    yield
    monkeypatch.undo()
    county_zone.cache_clear()


def test_a_zone_with_daylight_saving_breaks_nothing(world, berlin):
    proposal = f.ok(world.admin.get(f"{PERIODS}/proposal?year=2026&holiday=national_day"))
    assert datetime.fromisoformat(proposal["starts_at"]) == datetime.fromisoformat("2026-09-30T08:30:00+02:00")
    # by hand across the autumn change (Oct 25 03:00 CEST -> 02:00 CET): the day of the change is 25 hours long
    local = ["2026-10-24T08:30:00+02:00", "2026-10-25T08:30:00+01:00", "2026-10-26T08:30:00+01:00"]
    period = f.ok(world.admin.post(PERIODS, json={"name": "秋季", "starts_at": local[0], "ends_at": local[2],
                                                 "deadline": "2026-10-01T17:30:00+02:00"}), 201)  # fmt: skip
    lead, a1, a2 = {"user_id": world["u_leader_a"], "phone": "13900139000"}, {"officer_id": world["oA1"]}, {
        "officer_id": world["oA2"]}  # fmt: skip
    shifts = [{"starts_at": local[0], "ends_at": local[1], "leader": lead, "officers": [a1]},
              {"starts_at": local[1], "ends_at": local[2], "leader": a2, "officers": [a1]}]  # fmt: skip
    r = f.ok(world.admin.post(ROSTERS, json={"period_id": period["id"], "township_id": world["tA"],
                                            "shifts": shifts}), 201)  # fmt: skip
    assert (datetime.fromisoformat(r["shifts"][0]["ends_at"]) - datetime.fromisoformat(r["shifts"][0]["starts_at"])
            ) == timedelta(hours=25)  # fmt: skip
    answer = check(world, r["id"])
    assert [p["kind"] for p in answer["problems"]] == ["long-duty"]  # a1 on both days: 49 hours
    assert answer["problems"][0]["hours"] == 49.0
