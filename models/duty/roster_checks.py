"""Checking duty rosters, for one roster or a whole period across its units (`models.duty.checks` does the
reasoning; this module reads what it reasons about and answers it per unit).

What is read: the period's units and rosters, and every shift of any period not cancelled that lies within three
days of it, with its people (a person on two periods' rosters at once is double-booked too; rest is measured across
the period's edges). Drafts count as they stand. Problems are kept when they concern a roster of the period and
touch its time. A caller checks the units of their scope: the county office every one, a township's leaders and
viewers their township, a grid officer their cells' townships, department staff their department.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.accounts.model import User
from models.base import utcnow
from models.departments.model import Department
from models.duty import checks
from models.duty.checks import OnShift, Shift
from models.duty.model import DutyPeriod, DutyPeriodUnit, DutyRoster, DutyShift, DutyShiftPerson, ShiftRole
from models.errors import NotFound
from models.people.model import Officer
from models.roles import Caller, Role
from models.scope import officer_current_cells, record_in_scope
from models.territory.model import GridCell, Township

MARGIN = timedelta(days=3)  # shifts read around the period: rest is measured across its edges
MIN_REST_HOURS, MAX_DUTY_HOURS = 8, 25  # defaults: rest between stretches of duty, and a stretch's longest
Unit = tuple[str, int]


def _unit(township_id: int | None, department_id: int | None) -> Unit:
    return ("township", township_id) if township_id is not None else ("department", department_id)  # type: ignore[return-value]


def unit_names(session: Session, *, caller: Caller) -> dict[Unit, str]:
    """Every township's and department's name (the county's organisation chart: every role reads it)."""
    names: dict[Unit, str] = {("township", i): n for i, n in session.execute(select(Township.id, Township.name))}
    names |= {("department", i): n for i, n in session.execute(select(Department.id, Department.name))}
    return names


def visible_units(session: Session, *, caller: Caller) -> set[Unit] | None:
    """The units whose rosters the caller reads (None: every one)."""
    if caller.county_wide:
        return None
    if caller.role is Role.DEPARTMENT_STAFF:
        return {("department", caller.department_id)} if caller.department_id else set()
    if caller.role is Role.GRID_OFFICER:
        cells = officer_current_cells(caller.officer_id)
        return {("township", t) for t in session.scalars(select(GridCell.township_id).where(GridCell.id.in_(cells)))}
    return {("township", caller.township_id)} if caller.township_id else set()


def _shifts(session: Session, period: DutyPeriod) -> list[Shift]:
    """Every shift of a period not cancelled within MARGIN of this one, with its people."""
    lo, hi = period.starts_at - MARGIN, period.ends_at + MARGIN
    near = (DutyShift.starts_at < hi, DutyShift.ends_at > lo, DutyPeriod.cancelled_at.is_(None))
    people: dict[int, list[tuple[str, OnShift]]] = defaultdict(list)
    for p in session.execute(
        select(DutyShiftPerson.shift_id, DutyShiftPerson.role, DutyShiftPerson.officer_id, DutyShiftPerson.user_id,
               DutyShiftPerson.phone, Officer.name.label("officer_name"), Officer.mobile,
               Officer.deactivated_at.label("officer_gone"), User.display_name, User.deactivated_at.label("user_gone"))
        .join(DutyShift, DutyShift.id == DutyShiftPerson.shift_id)
        .join(DutyPeriod, DutyPeriod.id == DutyShift.period_id)
        .outerjoin(Officer, Officer.id == DutyShiftPerson.officer_id)
        .outerjoin(User, User.id == DutyShiftPerson.user_id)
        .where(*near)
        .order_by(DutyShiftPerson.shift_id, DutyShiftPerson.position)
    ):  # fmt: skip
        if p.officer_id is not None:
            who = OnShift(f"officer:{p.officer_id}", p.officer_id, None, p.officer_name, p.phone or p.mobile,
                          p.officer_gone is None)  # fmt: skip
        else:
            who = OnShift(f"user:{p.user_id}", None, p.user_id, p.display_name, p.phone, p.user_gone is None)
        people[p.shift_id].append((p.role, who))
    found = []
    for s in session.execute(
        select(DutyShift.id, DutyShift.roster_id, DutyShift.township_id, DutyShift.department_id, DutyShift.starts_at,
               DutyShift.ends_at)
        .join(DutyPeriod, DutyPeriod.id == DutyShift.period_id)
        .where(*near)
    ):  # fmt: skip
        on = people[s.id]
        leader = next((who for role, who in on if role == ShiftRole.LEADER.value), None)
        officers = tuple(who for role, who in on if role == ShiftRole.OFFICER.value)
        found.append(Shift(s.roster_id, _unit(s.township_id, s.department_id), s.starts_at, s.ends_at, leader,
                           officers))  # fmt: skip
    return sorted(found, key=lambda s: (s.starts_at, s.ends_at, s.roster_id))


def _named(unit: Unit, names: dict[Unit, str]) -> dict[str, Any]:
    return {"kind": unit[0], "id": unit[1], "name": names.get(unit)}


def _problems(
    period: DutyPeriod, shifts: list[Shift], roster_unit: dict[int, Unit], names: dict[Unit, str], *,
    min_rest: timedelta, max_duty: timedelta,
) -> list[dict[str, Any]]:  # fmt: skip
    """Every problem of the period's rosters (`roster_unit`: its rosters' units), each naming the `units` it
    concerns, in time order."""
    mine = [s for s in shifts if s.roster_id in roster_unit]
    found: list[dict[str, Any]] = []
    by_unit: dict[Unit, list[Shift]] = defaultdict(list)
    for s in mine:
        by_unit[s.unit].append(s)
    for unit in sorted(set(roster_unit.values())):
        for gap in checks.gaps(by_unit[unit], period.starts_at, period.ends_at,
                               leader_required=period.leader_required):  # fmt: skip
            found.append({"kind": "gap", "units": [_named(unit, names)], **gap})
    for booking in checks.double_bookings(shifts):
        rosters = [b["roster_id"] for b in booking["shifts"]]
        if any(r in roster_unit for r in rosters):
            for b in booking["shifts"]:
                b["unit"] = _named((b["unit"]["kind"], b["unit"]["id"]), names)
            units = {(b["unit"]["kind"], b["unit"]["id"]) for b in booking["shifts"]}
            found.append({"kind": "double-booking", "units": [_named(u, names) for u in sorted(units)], **booking})
    units_of: dict[str, set[Unit]] = defaultdict(set)  # person: the units of the period that roster them
    for s in mine:
        for p in s.people:
            units_of[p.key].add(s.unit)
    keyed = [s for s in shifts if any(p.key in units_of for p in s.people)]
    for problem in checks.rest_and_length(keyed, min_rest=min_rest, max_duty=max_duty) + checks.people_problems(mine):
        key = _key(problem["person"])
        ends = problem.get("to", problem["from"])
        if key in units_of and problem["from"] < period.ends_at and ends >= period.starts_at:
            found.append({**problem, "units": [_named(u, names) for u in sorted(units_of[key])]})
    return sorted(found, key=lambda p: (p["from"], p["kind"]))


def _key(person: dict[str, Any]) -> str:
    return f"officer:{person['officer_id']}" if person["officer_id"] is not None else f"user:{person['user_id']}"


_SUMMARY = {
    "gap": "gaps",
    "double-booking": "double_bookings",
    "short-rest": "short_rests",
    "long-duty": "long_duties",
    "person-inactive": "inactive_people",
    "no-phone": "people_without_phone",
}


def _summary(problems: list[dict[str, Any]]) -> dict[str, Any]:
    counts: dict[str, Any] = dict.fromkeys(_SUMMARY.values(), 0)
    counts["gap_minutes"] = 0.0
    for p in problems:
        counts[_SUMMARY[p["kind"]]] += 1
        if p["kind"] == "gap":
            counts["gap_minutes"] = round(counts["gap_minutes"] + p["minutes"], 2)
    return counts


def check_period(
    session: Session, *, caller: Caller, period_id: int, min_rest_hours: float = MIN_REST_HOURS,
    max_duty_hours: float = MAX_DUTY_HOURS, now: datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The whole period across its units of the caller's scope: each unit's roster and summary, every problem,
    the units that have not submitted (overdue after the deadline) and the reminder list (not submitted, the
    deadline within 24 hours)."""
    period = session.get(DutyPeriod, period_id)
    if period is None:
        raise NotFound(f"there is no duty period with id {period_id}")
    now = now or utcnow()
    visible = visible_units(session, caller=caller)
    named = [
        _unit(u.township_id, u.department_id)
        for u in session.execute(
            select(DutyPeriodUnit.township_id, DutyPeriodUnit.department_id).where(
                DutyPeriodUnit.period_id == period_id
            )
        )
    ]
    rosters = {
        _unit(r.township_id, r.department_id): r
        for r in session.execute(
            select(
                DutyRoster.id,
                DutyRoster.township_id,
                DutyRoster.department_id,
                DutyRoster.status,
                DutyRoster.revision,
                DutyRoster.late,
                DutyRoster.submitted_at,
            ).where(DutyRoster.period_id == period_id)
        )
    }
    units = sorted(u for u in {*named, *rosters} if visible is None or u in visible)
    roster_unit = {rosters[u].id: u for u in units if u in rosters}
    names = unit_names(session, caller=caller)
    problems = _problems(
        period,
        _shifts(session, period),
        roster_unit,
        names,
        min_rest=timedelta(hours=min_rest_hours),
        max_duty=timedelta(hours=max_duty_hours),
    )
    answered_units, not_submitted, reminders = [], [], []
    for unit in units:
        roster = rosters.get(unit)
        submitted = roster is not None and roster.revision > 0
        concerning = [p for p in problems if any((u["kind"], u["id"]) == unit for u in p["units"])]
        row = {"unit": _named(unit, names), "roster_id": roster.id if roster else None,
               "status": roster.status if roster else "missing", "revision": roster.revision if roster else 0,
               "late": bool(roster and roster.late), "submitted_at": roster.submitted_at if roster else None,
               "overdue": not submitted and now > period.deadline, "summary": _summary(concerning)}  # fmt: skip
        answered_units.append(row)
        if not submitted:
            not_submitted.append({"unit": row["unit"], "roster_id": row["roster_id"], "overdue": row["overdue"]})
            if period.deadline - timedelta(hours=24) <= now <= period.deadline:
                reminders.append(row["unit"])
    return {
        "period_id": period.id, "name": period.name, "checked_at": now, "starts_at": period.starts_at,
        "ends_at": period.ends_at, "deadline": period.deadline, "leader_required": period.leader_required,
        "min_rest_hours": min_rest_hours, "max_duty_hours": max_duty_hours, "units": answered_units,
        "problems": problems, "not_submitted": not_submitted, "reminders": reminders, "summary": _summary(problems),
    }  # fmt: skip


def check_roster(
    session: Session, *, caller: Caller, roster_id: int, min_rest_hours: float = MIN_REST_HOURS,
    max_duty_hours: float = MAX_DUTY_HOURS,
) -> dict[str, Any]:  # fmt: skip
    """One roster's problems (404 out of scope): its gaps, and the other problems of its people."""
    roster = record_in_scope(session, caller=caller, model=DutyRoster, record_id=roster_id, what="duty roster")
    unit = _unit(roster.township_id, roster.department_id)
    period = session.get(DutyPeriod, roster.period_id)
    names = unit_names(session, caller=caller)
    problems = _problems(
        period,
        _shifts(session, period),
        {roster.id: unit},
        names,
        min_rest=timedelta(hours=min_rest_hours),
        max_duty=timedelta(hours=max_duty_hours),
    )
    return {"roster_id": roster.id, "period_id": period.id, "unit": _named(unit, names), "status": roster.status,
            "revision": roster.revision, "late": roster.late, "leader_required": period.leader_required,
            "min_rest_hours": min_rest_hours, "max_duty_hours": max_duty_hours, "problems": problems,
            "summary": _summary(problems)}  # fmt: skip
