"""Duty periods (值班时段): announced by the county safety office, proposed from the holiday calendar or entered by
hand (the Two Sessions are no holiday). Every role reads them; county administrators write them. Never deleted:
cancelled, with the reason.

Times: a period runs between two instants (stored in UTC); its shifts start each day at `shift_start` in the
county's zone (COUNTY_TIMEZONE), so a shift is 24 hours of wall clock, and on a day the clock changes (a zone with
daylight saving) 23 or 25 hours of real time.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from models import locks
from models.base import check_version, county_zone, utcnow, write_transaction
from models.departments.model import Department
from models.duty.calendar import calendar_year
from models.duty.model import HOLIDAY_NAMES, DutyPeriod, DutyPeriodUnit, DutyRoster, DutyShift, Holiday
from models.errors import Conflict, NotFound, RuleViolation
from models.listing import Listing
from models.roles import Caller
from models.territory.model import Township

MAX_DAYS = 60
DEADLINE_DAYS = 7  # a proposal's roster deadline: this many days before the start, at DEADLINE_TIME
DEADLINE_TIME = time(17, 30)
PERIOD_SELECT = select(*[c for c in DutyPeriod.__table__.columns])


def _local(day: date, clock: str) -> datetime:
    hours, minutes = (int(part) for part in clock.split(":"))
    return datetime.combine(day, time(hours, minutes), county_zone())


def propose_period(
    session: Session, *, caller: Caller, year: int, holiday: str, margin_days: int = 1, shift_start: str = "08:30"
) -> dict[str, Any]:
    """A period for a holiday of the calendar, not stored: from `shift_start` on the day `margin_days` before its
    first day off to `shift_start` on the day `margin_days` after its last (the 2026 National Day's Oct 1-7 with a
    margin of 1: Sep 30 08:30 to Oct 9 08:30), rosters due DEADLINE_DAYS before the start, every active township
    and department named, the county duty desk of the latest period that named one."""
    found = [h for h in calendar_year(session, caller=caller, year=year)["holidays"] if h["holiday"] == holiday]
    if not found:
        raise NotFound(f"the calendar of {year} has no {holiday}", code="holiday-not-in-calendar")
    h = found[0]
    starts = _local(h["from"] - timedelta(days=margin_days), shift_start)
    ends = _local(h["to"] + timedelta(days=1 + margin_days), shift_start)
    deadline = datetime.combine(starts.date() - timedelta(days=DEADLINE_DAYS), DEADLINE_TIME, county_zone())
    last_desk = session.execute(
        select(DutyPeriod.desk_phone, DutyPeriod.desk_department_id)
        .where(DutyPeriod.cancelled_at.is_(None), (DutyPeriod.desk_phone.is_not(None))
               | (DutyPeriod.desk_department_id.is_not(None)))
        .order_by(DutyPeriod.created_at.desc(), DutyPeriod.id.desc()).limit(1)
    ).first()  # fmt: skip
    return {
        "name": f"{year}年{HOLIDAY_NAMES[Holiday(holiday)]}", "starts_at": starts, "ends_at": ends,
        "deadline": deadline, "shift_start": shift_start, "split_at": None, "leader_required": True,
        "holiday": holiday, "township_ids": _active(session, Township), "department_ids": _active(session, Department),
        "desk_phone": last_desk.desk_phone if last_desk else None,
        "desk_department_id": last_desk.desk_department_id if last_desk else None,
    }  # fmt: skip


def _active(session: Session, model: type) -> list[int]:
    return list(session.scalars(select(model.id).where(model.retired_at.is_(None)).order_by(model.id)))


def _checked(session: Session, data: dict[str, Any]) -> tuple[list[int], list[int]]:
    if data["ends_at"] <= data["starts_at"]:
        raise RuleViolation("a period ends after it starts", code="ends-before-starts", pointer="/ends_at")
    if data["ends_at"] - data["starts_at"] > timedelta(days=MAX_DAYS):
        raise RuleViolation(f"a period of at most {MAX_DAYS} days", code="period-too-long", pointer="/ends_at")
    if data["deadline"] > data["starts_at"]:
        raise RuleViolation("rosters are due before the period starts", code="deadline-after-start",
                            pointer="/deadline")  # fmt: skip
    if data.get("split_at") is not None and data["split_at"] == data["shift_start"]:
        raise RuleViolation("day duty ends at a time other than the shift's start", code="split-at-shift-start",
                            pointer="/split_at")  # fmt: skip
    townships, departments = data.get("township_ids"), data.get("department_ids")
    if townships is None and departments is None:
        townships, departments = _active(session, Township), _active(session, Department)
    townships, departments = sorted(set(townships or [])), sorted(set(departments or []))
    if missing := _inactive(session, Township, townships):
        raise RuleViolation(f"no active township with id {missing}", code="township-not-found", pointer="/township_ids")
    if missing := _inactive(session, Department, departments):
        raise RuleViolation(f"no active department with id {missing}", code="department-not-found",
                            pointer="/department_ids")  # fmt: skip
    if not townships and not departments:
        raise RuleViolation("a period names at least one unit", code="no-units", pointer="/township_ids")
    if (desk := data.get("desk_department_id")) is not None and _inactive(session, Department, [desk]):
        raise RuleViolation(f"no active department with id {desk}", code="department-not-found",
                            pointer="/desk_department_id")  # fmt: skip
    return townships, departments


def _inactive(session: Session, model: type, ids: list[int]) -> str:
    """Those of the ids that name no active unit of `model`, listed (empty: none)."""
    known = set(session.scalars(select(model.id).where(model.id.in_(ids), model.retired_at.is_(None))))
    return ", ".join(str(i) for i in ids if i not in known)


def _set_units(session: Session, period_id: int, townships: list[int], departments: list[int]) -> None:
    session.execute(delete(DutyPeriodUnit).where(DutyPeriodUnit.period_id == period_id))
    rows = [{"period_id": period_id, "township_id": t, "department_id": None} for t in townships]
    rows += [{"period_id": period_id, "township_id": None, "department_id": d} for d in departments]
    session.execute(insert(DutyPeriodUnit.__table__), rows)


_FIELDS = ("name", "starts_at", "ends_at", "deadline", "shift_start", "split_at", "leader_required", "holiday", "notes",
           "desk_phone", "desk_department_id")  # fmt: skip


def create_period(session: Session, *, caller: Caller, **data: Any) -> DutyPeriod:
    """Announce a period (county administrators): its units default to every active township and department."""
    write_transaction(session, locks.duty_period_name(data["name"]))
    _refuse_taken_name(session, data["name"], None)
    townships, departments = _checked(session, data)
    period = DutyPeriod(**{k: data.get(k) for k in _FIELDS}, created_by_user_id=caller.user_id,
                        created_at=utcnow(), version=1)  # fmt: skip
    if period.leader_required is None:
        period.leader_required = True
    session.add(period)
    session.flush()
    _set_units(session, period.id, townships, departments)
    session.commit()
    return period


def _refuse_taken_name(session: Session, name: str, period_id: int | None) -> None:
    taken = session.scalar(
        select(DutyPeriod.id).where(
            DutyPeriod.name == name, DutyPeriod.cancelled_at.is_(None), DutyPeriod.id != (period_id or 0)
        )
    )
    if taken is not None:
        raise Conflict(f"period {taken} is named {name!r} already (cancel it, or choose another name)",
                       code="period-name-taken")  # fmt: skip


def _get(session: Session, period_id: int) -> DutyPeriod:
    period = session.get(DutyPeriod, period_id)
    if period is None:
        raise NotFound(f"no duty period with id {period_id}")
    return period


def update_period(
    session: Session, *, caller: Caller, period_id: int, expected_version: int | None, **changes: Any
) -> DutyPeriod:
    """Change a period that is not cancelled (the units: the whole lists given)."""
    renamed = [locks.duty_period_name(changes["name"])] if "name" in changes else []
    write_transaction(session, locks.duty_period(period_id), *renamed)
    period = _get(session, period_id)
    check_version(period, expected_version)
    if period.cancelled_at is not None:
        raise Conflict("the period is cancelled", code="period-cancelled")
    if renamed:
        _refuse_taken_name(session, changes["name"], period_id)
    townships_given, departments_given = "township_ids" in changes, "department_ids" in changes
    units = _units(session, period_id)
    merged = {k: getattr(period, k) for k in _FIELDS} | {
        "township_ids": units["township_ids"], "department_ids": units["department_ids"]} | changes  # fmt: skip
    townships, departments = _checked(session, merged)
    _keeps_its_rosters(session, period_id, merged["starts_at"], merged["ends_at"], townships, departments)
    for key in _FIELDS:
        if key in changes:
            setattr(period, key, changes[key])
    if townships_given or departments_given:
        _set_units(session, period_id, townships, departments)
    period.version += 1
    session.commit()
    return period


def _keeps_its_rosters(
    session: Session, period_id: int, starts: datetime, ends: datetime, townships: list[int], departments: list[int]
) -> None:
    """A change leaves every roster of the period inside it: its unit still named, its shifts within its times."""
    rosters = session.execute(
        select(DutyRoster.id, DutyRoster.township_id, DutyRoster.department_id).where(DutyRoster.period_id == period_id)
    ).all()
    dropped = [r.id for r in rosters if (r.township_id not in townships if r.township_id is not None
                                         else r.department_id not in departments)]  # fmt: skip
    if dropped:
        raise Conflict(f"the units of rosters {dropped} have written their rosters: they stay named",
                       code="unit-has-roster")  # fmt: skip
    outside = session.scalar(
        select(DutyShift.roster_id)
        .where(DutyShift.period_id == period_id, (DutyShift.starts_at < starts) | (DutyShift.ends_at > ends))
        .limit(1)
    )  # fmt: skip
    if outside is not None:
        raise Conflict(f"roster {outside} has shifts outside the new times: change the roster first",
                       code="rosters-outside-period")  # fmt: skip


def cancel_period(
    session: Session, *, caller: Caller, period_id: int, expected_version: int | None, reason: str
) -> DutyPeriod:
    write_transaction(session, locks.duty_period(period_id))  # (roster writes check the period under this lock)
    period = _get(session, period_id)
    check_version(period, expected_version)
    if period.cancelled_at is not None:
        raise Conflict("the period is cancelled already", code="period-cancelled")
    period.cancelled_at, period.cancel_reason, period.version = utcnow(), reason, period.version + 1
    session.commit()
    return period


def _units(session: Session, period_id: int) -> dict[str, list[int]]:
    rows = session.execute(
        select(DutyPeriodUnit.township_id, DutyPeriodUnit.department_id).where(DutyPeriodUnit.period_id == period_id)
    ).all()
    return {"township_ids": sorted(r.township_id for r in rows if r.township_id is not None),
            "department_ids": sorted(r.department_id for r in rows if r.department_id is not None)}  # fmt: skip


def period_row(session: Session, *, caller: Caller, period_id: int) -> dict[str, Any]:
    """The period with its units (every role reads every period)."""
    row = session.execute(PERIOD_SELECT.where(DutyPeriod.id == period_id)).mappings().first()
    if row is None:
        raise NotFound(f"no duty period with id {period_id}")
    return {**row, **_units(session, period_id), "cancelled": row["cancelled_at"] is not None}


def period_listing(*, caller: Caller, include_cancelled: bool = False, year: int | None = None) -> Listing:
    """Periods, the latest starting first; cancelled ones only when asked; by the year they start in (county)."""
    clauses: list[Any] = [] if include_cancelled else [DutyPeriod.cancelled_at.is_(None)]
    if year is not None:
        clauses += [DutyPeriod.starts_at >= _local(date(year, 1, 1), "00:00"),
                    DutyPeriod.starts_at < _local(date(year + 1, 1, 1), "00:00")]  # fmt: skip
    return Listing(PERIOD_SELECT, tuple(clauses), (DutyPeriod.starts_at, DutyPeriod.id), True)
