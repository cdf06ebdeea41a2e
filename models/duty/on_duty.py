"""Who is on duty, now or at any instant: for a unit, for every unit, and for a place ("an accident here: whom do I
call"), with the county office's duty desk.

What counts: the shifts holding the instant, of the rosters submitted at least once (a draft is nobody's duty yet;
a roster returned by the county office still stands until its unit changes it), of the periods not cancelled that
hold the instant. A unit a period names but with nobody on duty at that instant is answered with no shifts
(`covered: false`): the gap shows. Outside every period nobody is rostered.

Every role reads every unit's duty: a duty roster is circulated county-wide so that anyone can reach the unit on
duty (names, roles and phones only; the rosters themselves stay within their scope).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, bindparam, select
from sqlalchemy.orm import Session

from geo.index import point_filter
from models.base import dialect_of, utcnow
from models.departments.model import Department
from models.duty.model import DutyPeriod, DutyPeriodUnit, DutyRoster, DutyShift
from models.duty.roster_reads import public_shift, shifts_where
from models.roles import Caller
from models.territory.model import Township

Unit = tuple[str, int]


def _periods_at(session: Session, at: datetime) -> list[Any]:
    return list(session.execute(
        select(DutyPeriod.id, DutyPeriod.name, DutyPeriod.desk_phone, DutyPeriod.desk_department_id)
        .where(DutyPeriod.starts_at <= at, DutyPeriod.ends_at > at, DutyPeriod.cancelled_at.is_(None))
        .order_by(DutyPeriod.starts_at, DutyPeriod.id)
    ))  # fmt: skip


def _names(session: Session, units: set[Unit]) -> dict[Unit, str]:
    towns = [i for kind, i in units if kind == "township"]
    depts = [i for kind, i in units if kind == "department"]
    names: dict[Unit, str] = {}
    if towns:
        names |= {("township", i): n for i, n in session.execute(select(Township.id, Township.name)
                                                                 .where(Township.id.in_(towns)))}  # fmt: skip
    if depts:
        names |= {("department", i): n for i, n in session.execute(select(Department.id, Department.name)
                                                                   .where(Department.id.in_(depts)))}  # fmt: skip
    return names


def _duty(session: Session, caller: Caller, at: datetime, periods: list[Any], units: set[Unit] | None) -> list[dict]:
    """Each unit the periods name (of `units`, if given), with its shifts holding the instant."""
    period_ids = [p.id for p in periods]
    if not period_ids:
        return []
    named = {
        ("township", u.township_id) if u.township_id is not None else ("department", u.department_id)
        for u in session.execute(select(DutyPeriodUnit.township_id, DutyPeriodUnit.department_id)
                                 .where(DutyPeriodUnit.period_id.in_(period_ids)))
    }  # fmt: skip
    wanted = named if units is None else named & units
    if not wanted:
        return []
    submitted = select(DutyRoster.id).where(DutyRoster.period_id.in_(period_ids), DutyRoster.revision > 0)
    clauses: tuple[Any, ...] = (DutyShift.roster_id.in_(submitted), DutyShift.starts_at <= at, DutyShift.ends_at > at)
    if units is not None and len(units) == 1:
        ((kind, ident),) = units
        clauses += ((DutyShift.township_id if kind == "township" else DutyShift.department_id) == ident,)
    by_unit: dict[Unit, list[dict]] = {u: [] for u in wanted}
    for shift in shifts_where(session, caller=caller, where=clauses):
        unit = ("township", shift["township_id"]) if shift["township_id"] is not None else (
            "department", shift["department_id"])  # fmt: skip
        if unit in by_unit:
            by_unit[unit].append({"roster_id": shift["roster_id"], "period_id": shift["period_id"],
                                  **{k: v for k, v in public_shift(shift).items() if k in _SHIFT_KEYS}})  # fmt: skip
    names = _names(session, set(by_unit))
    return [{"unit": {"kind": u[0], "id": u[1], "name": names.get(u)}, "covered": bool(by_unit[u]),
             "shifts": by_unit[u]} for u in sorted(by_unit)]  # fmt: skip


_SHIFT_KEYS = frozenset({"starts_at", "ends_at", "phone", "notes", "leader", "officers"})


def _desk(session: Session, caller: Caller, at: datetime, periods: list[Any]) -> dict[str, Any] | None:
    """The county office's duty desk: the first period holding the instant that names one."""
    for p in periods:
        if p.desk_phone is None and p.desk_department_id is None:
            continue
        staffed = []
        if p.desk_department_id is not None:
            staffed = _duty(session, caller, at, [p], {("department", p.desk_department_id)})
        return {"period_id": p.id, "phone": p.desk_phone, "duty": staffed[0] if staffed else None}
    return None


def on_duty(
    session: Session, *, caller: Caller, at: datetime | None = None, township_id: int | None = None,
    department_id: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Who is on duty at the instant (default now): for one unit, or for every unit the periods holding it name."""
    at = at or utcnow()
    periods = _periods_at(session, at)
    units = {("township", township_id)} if township_id is not None else (
        {("department", department_id)} if department_id is not None else None)  # fmt: skip
    return {
        "at": at,
        "periods": [{"id": p.id, "name": p.name} for p in periods],
        "units": _duty(session, caller, at, periods, units),
        "desk": _desk(session, caller, at, periods),
    }


def township_at(session: Session, *, caller: Caller, lon: float, lat: float) -> dict[str, Any] | None:
    """The active township whose boundary holds the point (WGS-84), through the spatial index: any township, the
    duty of every unit being every caller's to read."""
    dialect = dialect_of(session)
    stmt = (
        select(Township.id, Township.code, Township.name)
        .where(point_filter(dialect, Township.boundary, bindparam("lon", type_=Float), bindparam("lat", type_=Float)),
               Township.retired_at.is_(None))
        .order_by(Township.code)
        .limit(1)
    )  # fmt: skip
    row = session.execute(stmt, {"lon": lon, "lat": lat}).mappings().first()
    return dict(row) if row else None


def on_duty_here(
    session: Session, *, caller: Caller, lon: float, lat: float, at: datetime | None = None
) -> dict[str, Any]:
    """Whom to call for a place: the township holding the point, its duty at the instant, and the county desk."""
    at = at or utcnow()
    township = township_at(session, caller=caller, lon=lon, lat=lat)
    periods = _periods_at(session, at)
    duty = _duty(session, caller, at, periods, {("township", township["id"])}) if township else []
    return {"at": at, "position": {"lon": round(lon, 7), "lat": round(lat, 7), "coord_system": "wgs84"},
            "township": township, "periods": [{"id": p.id, "name": p.name} for p in periods],
            "duty": duty[0] if duty else None, "desk": _desk(session, caller, at, periods)}  # fmt: skip
