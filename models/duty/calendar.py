"""The official holiday calendar: each year's holidays (days off) and the weekend days worked in exchange (调休).

A year comes from one of two sources, and every answer says which:
- `chinese-calendar` (the package, version in PACKAGE): the years it holds (2004 to 2026 in 1.11.0);
- `entered`: typed in by a county administrator from the State Council's notice (国务院办公厅关于…部分节假日安排的
  通知), for a year the package lacks (2027 is being planned now). A year the package holds is replaced only on
  purpose (`replace_package`), never by mistake: 409 `calendar-year-in-package` otherwise.

Weekends that are neither a holiday's day off nor a working day are rest days as usual; a day's kind is answered by
`day_kind` for any day of a known year.
"""

from __future__ import annotations

from datetime import date, timedelta
from importlib.metadata import version
from itertools import groupby
from typing import Any

import chinese_calendar
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from models import locks
from models.base import check_version, utcnow, write_transaction
from models.duty.model import HOLIDAY_NAMES, DayKind, Holiday, HolidayDay, HolidayYear
from models.errors import Conflict, NotFound, RuleViolation
from models.roles import Caller

PACKAGE = f"chinese-calendar {version('chinese-calendar')}"
_BY_NAME = {holiday.value.lower(): holiday for holiday in chinese_calendar.Holiday}  # "Spring Festival" -> enum


def package_years() -> range:
    """The years the package holds."""
    years = sorted({d.year for d in chinese_calendar.holidays})
    return range(years[0], years[-1] + 1)


def _package_holidays(year: int) -> list[dict[str, Any]]:
    """The package's year as the notice lists it: each holiday's days off (a run of days) and its working days."""
    days_off = sorted((d, Holiday(_BY_NAME[n.lower()].name)) for d, n in chinese_calendar.holidays.items()
                      if d.year == year)  # fmt: skip
    working = sorted((d, Holiday(_BY_NAME[n.lower()].name)) for d, n in chinese_calendar.workdays.items()
                     if d.year == year and n and d.weekday() >= 5)  # fmt: skip
    runs: list[dict[str, Any]] = []
    for holiday, days in groupby(days_off, key=lambda item: item[1]):
        listed = [d for d, _h in days]
        for run in _runs(listed):
            runs.append({"holiday": holiday, "from": run[0], "to": run[-1], "working_days": []})
    for day, holiday in working:  # a working day belongs to the nearest run of its holiday
        mine = [r for r in runs if r["holiday"] == holiday] or runs
        nearest = min(mine, key=lambda r: min(abs((day - r["from"]).days), abs((day - r["to"]).days)))
        nearest["working_days"].append(day)
    return runs


def _runs(days: list[date]) -> list[list[date]]:
    runs: list[list[date]] = []
    for day in days:
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def _entered(session: Session, year: int) -> HolidayYear | None:
    return session.get(HolidayYear, year)


def _answer(year: int, holidays: list[dict[str, Any]], entered: HolidayYear | None) -> dict[str, Any]:
    listed = []
    for h in sorted(holidays, key=lambda h: h["from"]):
        start, end = _day(h["from"]), _day(h["to"])
        listed.append({
            "holiday": str(h["holiday"]), "name": HOLIDAY_NAMES[Holiday(h["holiday"])], "from": start, "to": end,
            "days_off": (end - start).days + 1, "working_days": sorted(_day(d) for d in h["working_days"]),
        })  # fmt: skip
    return {
        "year": year,
        "source": "entered" if entered is not None else PACKAGE,
        "notice": entered.notice if entered is not None else None,
        "replaces_package": bool(entered and entered.replaces_package),
        "entered_by_user_id": entered.entered_by_user_id if entered is not None else None,
        "entered_at": entered.entered_at if entered is not None else None,
        "version": entered.version if entered is not None else 0,
        "holidays": listed,
        "days_off": sum(h["days_off"] for h in listed),
    }


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def calendar_year(session: Session, *, caller: Caller, year: int) -> dict[str, Any]:
    """The year's holidays, by their source (404 `calendar-year-unknown` for a year neither entered nor in the
    package). Every role reads the calendar."""
    entered = _entered(session, year)
    if entered is not None:
        return _answer(year, entered.holidays, entered)
    if year in package_years():
        return _answer(year, _package_holidays(year), None)
    raise NotFound(
        f"the calendar of {year} is not known: {PACKAGE} holds {package_years()[0]} to {package_years()[-1]}; "
        "a county administrator enters a later year from the State Council's notice",
        code="calendar-year-unknown",
    )


def calendar_years(session: Session, *, caller: Caller) -> list[dict[str, Any]]:
    """Every known year with its source, the newest first."""
    entered = {row.year: row for row in session.scalars(select(HolidayYear))}
    years = sorted(set(package_years()) | set(entered), reverse=True)
    return [{"year": y, "source": "entered" if y in entered else PACKAGE,
             "replaces_package": bool(y in entered and entered[y].replaces_package)} for y in years]  # fmt: skip


def day_kind(session: Session, *, caller: Caller, day: date) -> str:
    """`day_off` (a holiday's), `working_day` (a weekend worked in exchange), `weekend` or `workday`; by the
    calendar of the day's year (404 when unknown) and, for late December, of the next one where known."""
    years = [day.year, *([day.year + 1] if day.month == 12 else [])]
    for year in years:
        try:
            answer = calendar_year(session, caller=caller, year=year)
        except NotFound:
            if year == day.year:
                raise
            continue
        for h in answer["holidays"]:
            if h["from"] <= day <= h["to"]:
                return DayKind.DAY_OFF
            if day in h["working_days"]:
                return DayKind.WORKING_DAY
    return "weekend" if day.weekday() >= 5 else "workday"


def _checked(year: int, holidays: list[dict[str, Any]]) -> None:
    """The year's holidays as the notice gives them: in the year, in order, not overlapping, working days outside
    every holiday's days off and on weekends."""
    taken: list[tuple[date, date, int]] = []
    for i, h in enumerate(holidays):
        pointer = f"/holidays/{i}"
        if h["from"] > h["to"]:
            raise RuleViolation("a holiday's days off run from `from` to `to`, in that order", code="range-inverted",
                                pointer=f"{pointer}/to")  # fmt: skip
        if (h["to"] - h["from"]).days >= 15:
            raise RuleViolation("a holiday's days off last at most 15 days", code="holiday-too-long",
                                pointer=f"{pointer}/to")  # fmt: skip
        if h["to"].year != year or h["from"].year < year - 1:
            raise RuleViolation(f"a holiday of {year} ends in {year} (元旦 may start in the December before)",
                                code="day-outside-year", pointer=f"{pointer}/to")  # fmt: skip
        for day in h["working_days"]:
            if min(abs((day - h["from"]).days), abs((day - h["to"]).days)) > 15:
                raise RuleViolation(f"{day} is more than 15 days from its holiday", code="working-day-far",
                                    pointer=f"{pointer}/working_days")  # fmt: skip
        for start, end, k in taken:
            if h["from"] <= end and start <= h["to"]:
                raise RuleViolation(f"holidays {k} and {i} overlap", code="holidays-overlap", pointer=pointer)
        taken.append((h["from"], h["to"], i))
    for i, h in enumerate(holidays):
        for day in h["working_days"]:
            if any(start <= day <= end for start, end, _k in taken):
                raise RuleViolation(f"{day} is a day off: it cannot be worked in exchange", code="working-day-is-off",
                                    pointer=f"/holidays/{i}/working_days")  # fmt: skip
            if day.weekday() < 5:
                raise RuleViolation(f"{day} is a weekday: only a weekend day is worked in exchange",
                                    code="working-day-not-weekend", pointer=f"/holidays/{i}/working_days")  # fmt: skip


def enter_year(
    session: Session,
    *,
    caller: Caller,
    year: int,
    notice: str,
    holidays: list[dict[str, Any]],
    replace_package: bool = False,
    expected_version: int | None = None,
) -> HolidayYear:
    """Enter (or replace) a year's holidays from the State Council's notice: each holiday once, with its days off
    (`from`, `to`) and its working days. A year the package holds needs `replace_package`."""
    write_transaction(session, locks.holiday_calendar(year))
    if year in package_years() and not replace_package:
        raise Conflict(
            f"{PACKAGE} holds {year}: send replace_package: true to replace it with the notice on purpose",
            code="calendar-year-in-package",
        )
    names = [str(h["holiday"]) for h in holidays]
    if len(set(names)) != len(names):
        raise RuleViolation("each holiday once (a holiday that spans two runs of days is two notices)",
                            code="holiday-repeated", pointer="/holidays")  # fmt: skip
    holidays = sorted(holidays, key=lambda h: h["from"])
    _checked(year, holidays)
    stored = [{"holiday": str(h["holiday"]), "from": h["from"].isoformat(), "to": h["to"].isoformat(),
               "working_days": sorted(d.isoformat() for d in h["working_days"])} for h in holidays]  # fmt: skip
    entered = _entered(session, year)
    if entered is None:
        if expected_version not in (None, 0):
            check_version(HolidayYear(version=0), expected_version)
        entered = HolidayYear(year=year, version=0)
        session.add(entered)
    else:
        check_version(entered, expected_version)
    entered.notice, entered.holidays, entered.replaces_package = notice, stored, year in package_years()
    entered.entered_by_user_id, entered.entered_at, entered.version = caller.user_id, utcnow(), entered.version + 1
    session.flush()
    session.execute(delete(HolidayDay).where(HolidayDay.year == year))
    rows = []
    for h in holidays:
        days = (h["to"] - h["from"]).days + 1
        rows += [{"day": h["from"] + timedelta(days=n), "year": year, "kind": DayKind.DAY_OFF.value,
                  "holiday": str(h["holiday"])} for n in range(days)]  # fmt: skip
        rows += [{"day": d, "year": year, "kind": DayKind.WORKING_DAY.value, "holiday": str(h["holiday"])}
                 for d in h["working_days"]]  # fmt: skip
    if rows:
        session.execute(insert(HolidayDay.__table__), rows)
    session.commit()
    return entered
