"""The official holiday calendar: years from the chinese-calendar package, years entered from the State Council's
notice, never one over the other by mistake. Every test runs on SpatiaLite and on PostGIS (see conftest.py)."""

from __future__ import annotations

from datetime import date

import chinese_calendar

from api.db import db
from models.duty.calendar import PACKAGE, day_kind
from models.roles import SYSTEM
from tests import factories as f
from tests.factories import API, assert_problem

# 国务院办公厅关于2027年部分节假日安排的通知, as a county administrator would type it (a made-up but plausible year)
NOTICE_2027 = {
    "notice": "国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕7号）",
    "holidays": [
        {"holiday": "new_years_day", "from": "2027-01-01", "to": "2027-01-03"},
        {"holiday": "spring_festival", "from": "2027-02-06", "to": "2027-02-14", "working_days": ["2027-02-20"]},
        {"holiday": "tomb_sweeping_day", "from": "2027-04-03", "to": "2027-04-05"},
        {"holiday": "labour_day", "from": "2027-05-01", "to": "2027-05-05", "working_days": ["2027-04-25"]},
        {"holiday": "dragon_boat_festival", "from": "2027-06-09", "to": "2027-06-11"},
        {"holiday": "mid_autumn_festival", "from": "2027-09-15", "to": "2027-09-17"},
        {"holiday": "national_day", "from": "2027-10-01", "to": "2027-10-07", "working_days": ["2027-09-26",
                                                                                              "2027-10-09"]},
    ],
}  # fmt: skip


def test_a_year_the_package_holds_is_answered_from_it(world):
    year = f.ok(world.as_("viewer_a").get(f"{API}/duty/calendar/2026"))
    assert year["source"] == PACKAGE and year["version"] == 0 and year["notice"] is None
    spring = next(h for h in year["holidays"] if h["holiday"] == "spring_festival")
    assert (spring["name"], spring["from"], spring["to"], spring["days_off"]) == ("春节", "2026-02-15", "2026-02-23", 9)
    assert spring["working_days"] == ["2026-02-14", "2026-02-28"]
    # every day off and working day of the package's year, and only those
    days_off = {d.isoformat() for d in chinese_calendar.holidays if d.year == 2026}
    answered = {str(date.fromordinal(date.fromisoformat(h["from"]).toordinal() + n))
                for h in year["holidays"] for n in range(h["days_off"])}  # fmt: skip
    assert answered == days_off and year["days_off"] == len(days_off)
    worked = {d.isoformat() for d, name in chinese_calendar.workdays.items() if d.year == 2026 and d.weekday() >= 5}
    assert {d for h in year["holidays"] for d in h["working_days"]} == worked
    years = f.ok(world.as_("officer_a").get(f"{API}/duty/calendar"))["items"]
    assert years[0] == {"year": 2026, "source": PACKAGE, "replaces_package": False} and years[-1]["year"] == 2004


def test_a_year_the_package_lacks_is_unknown_until_entered_then_answered_as_entered(app, world):
    assert_problem(world.admin.get(f"{API}/duty/calendar/2027"), 404, "calendar-year-unknown")
    entered = world.admin.put(f"{API}/duty/calendar/2027", json=NOTICE_2027, headers={"If-Match": "*"})
    body = f.ok(entered)
    assert entered.headers["ETag"] == '"1"' and body["source"] == "entered" and body["notice"] == NOTICE_2027["notice"]
    assert [h["holiday"] for h in body["holidays"]][:2] == ["new_years_day", "spring_festival"]
    assert body["holidays"][1]["days_off"] == 9 and body["days_off"] == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert f.ok(world.as_("officer_b").get(f"{API}/duty/calendar/2027")) == body
    assert f.ok(world.admin.get(f"{API}/duty/calendar"))["items"][0] == {"year": 2027, "source": "entered",
                                                                         "replaces_package": False}  # fmt: skip
    with db.new_session(app) as session:
        kinds = [day_kind(session, caller=SYSTEM, day=date(2027, 2, d)) for d in (5, 6, 14, 20, 21)]
        assert kinds == ["workday", "day_off", "day_off", "working_day", "weekend"]
        assert day_kind(session, caller=SYSTEM, day=date(2026, 10, 1)) == "day_off"  # (the package's)
    # replaced as a whole, naming the version it replaces
    fewer = NOTICE_2027 | {"holidays": NOTICE_2027["holidays"][:1]}
    assert_problem(world.admin.put(f"{API}/duty/calendar/2027", json=fewer, headers={"If-Match": '"7"'}), 412,
                   "precondition-failed")  # fmt: skip
    again = f.ok(world.admin.put(f"{API}/duty/calendar/2027", json=fewer, headers={"If-Match": '"1"'}))
    assert again["version"] == 2 and [h["holiday"] for h in again["holidays"]] == ["new_years_day"]
    events = f.ok(world.admin.get(f"{API}/audit-events?entity_type=holiday_years"))["items"]
    assert [e["action"] for e in events][:2] == ["update", "create"]


def test_a_year_the_package_holds_is_replaced_only_on_purpose(world):
    national = {"notice": "更正", "holidays": [{"holiday": "national_day", "from": "2026-10-01", "to": "2026-10-08"}]}
    assert_problem(world.admin.put(f"{API}/duty/calendar/2026", json=national, headers={"If-Match": "*"}), 409,
                   "calendar-year-in-package")  # fmt: skip
    assert f.ok(world.admin.get(f"{API}/duty/calendar/2026"))["source"] == PACKAGE
    replaced = f.ok(world.admin.put(f"{API}/duty/calendar/2026", json=national | {"replace_package": True},
                                    headers={"If-Match": "*"}))  # fmt: skip
    assert (replaced["source"], replaced["replaces_package"], len(replaced["holidays"])) == ("entered", True, 1)


def test_a_notice_that_does_not_add_up_is_refused_and_changes_nothing(world):
    def refused(holidays, code, year=2027):
        body = {"notice": "通知", "holidays": holidays}
        assert_problem(world.admin.put(f"{API}/duty/calendar/{year}", json=body, headers={"If-Match": "*"}), 422, code)

    refused([{"holiday": "labour_day", "from": "2027-05-05", "to": "2027-05-01"}], "range-inverted")
    refused([{"holiday": "labour_day", "from": "2027-05-01", "to": "2027-05-20"}], "holiday-too-long")
    refused([{"holiday": "labour_day", "from": "2028-05-01", "to": "2028-05-03"}], "day-outside-year")
    refused([{"holiday": "labour_day", "from": "2027-05-01", "to": "2027-05-05"},
             {"holiday": "national_day", "from": "2027-05-04", "to": "2027-05-06"}], "holidays-overlap")  # fmt: skip
    refused([{"holiday": "labour_day", "from": "2027-05-01", "to": "2027-05-05"},
             {"holiday": "labour_day", "from": "2027-05-08", "to": "2027-05-09"}], "holiday-repeated")  # fmt: skip
    refused([{"holiday": "labour_day", "from": "2027-05-01", "to": "2027-05-05", "working_days": ["2027-05-03"]}],
            "working-day-is-off")  # fmt: skip
    refused([{"holiday": "labour_day", "from": "2027-05-01", "to": "2027-05-05", "working_days": ["2027-04-28"]}],
            "working-day-not-weekend")  # fmt: skip
    refused([{"holiday": "labour_day", "from": "2027-05-01", "to": "2027-05-05", "working_days": ["2027-06-05"]}],
            "working-day-far")  # fmt: skip
    assert_problem(world.admin.get(f"{API}/duty/calendar/2027"), 404, "calendar-year-unknown")
    # 元旦 may begin in the December before its year (2024's did: 2023-12-30 to 2024-01-01)
    body = {"notice": "通知", "holidays": [{"holiday": "new_years_day", "from": "2027-12-30", "to": "2028-01-01"}]}
    assert f.ok(world.admin.put(f"{API}/duty/calendar/2028", json=body, headers={"If-Match": "*"}))["days_off"] == 3


def test_only_a_county_administrator_enters_the_calendar(world):
    for who in ("leader_a", "officer_a", "viewer_county"):
        answer = world.as_(who).put(f"{API}/duty/calendar/2027", json=NOTICE_2027, headers={"If-Match": "*"})
        assert_problem(answer, 403, "forbidden")
    assert_problem(world.admin.put(f"{API}/duty/calendar/2027", json=NOTICE_2027), 428, "precondition-required")
