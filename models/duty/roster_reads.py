"""Reading duty rosters: one with its shifts, the list of a period's rosters, a roster's revisions. A caller reads
the rosters of their scope (`models.scope`): the county office every one, a township's leaders and viewers their
township's, a grid officer those of the townships of their cells, department staff their department's.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.accounts.model import User
from models.departments.model import Department
from models.duty.model import DutyRoster, DutyRosterRevision, DutyShift, DutyShiftPerson, ShiftRole
from models.errors import NotFound
from models.listing import Listing
from models.people.model import Officer
from models.roles import Caller
from models.scope import row_in_scope, scope_clauses
from models.territory.model import Township

_UNIT_NAME = func.coalesce(
    select(Township.name).where(Township.id == DutyRoster.township_id).scalar_subquery(),
    select(Department.name).where(Department.id == DutyRoster.department_id).scalar_subquery(),
).label("unit_name")
_SHIFT_COUNT = select(func.count()).where(DutyShift.roster_id == DutyRoster.id).scalar_subquery().label("shift_count")
ROSTER_SELECT = select(*[c for c in DutyRoster.__table__.columns], _UNIT_NAME, _SHIFT_COUNT)


def shifts_of(session: Session, *, caller: Caller, roster_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The current shifts of these rosters, in time order, each with its leader and officers (their names and
    phones as they are now; `given_phone`, the phone given on the shift, if any). The rosters are the caller's to
    read: checked before."""
    if not roster_ids:
        return {}
    shifts: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for shift in shifts_where(session, caller=caller, where=(DutyShift.roster_id.in_(roster_ids),)):
        shifts[shift["roster_id"]].append({k: v for k, v in shift.items() if k not in _WHERE_KEYS})
    return shifts


_WHERE_KEYS = frozenset({"roster_id", "period_id", "township_id", "department_id"})


def shifts_where(session: Session, *, caller: Caller, where: tuple[Any, ...]) -> list[dict[str, Any]]:
    """The shifts meeting the clauses on `DutyShift`, by roster and time, with their people (see `shifts_of`) and
    their `roster_id`, `period_id`, `township_id`, `department_id`."""
    shift_ids = select(DutyShift.id).where(*where)
    people: dict[int, list[Any]] = defaultdict(list)
    for p in session.execute(
        select(DutyShiftPerson.shift_id, DutyShiftPerson.role, DutyShiftPerson.officer_id, DutyShiftPerson.user_id,
               DutyShiftPerson.phone, Officer.name.label("officer_name"), Officer.mobile,
               User.display_name.label("user_name"))
        .outerjoin(Officer, Officer.id == DutyShiftPerson.officer_id)
        .outerjoin(User, User.id == DutyShiftPerson.user_id)
        .where(DutyShiftPerson.shift_id.in_(shift_ids))
        .order_by(DutyShiftPerson.shift_id, DutyShiftPerson.position)
    ):  # fmt: skip
        people[p.shift_id].append(p)
    found = []
    for s in session.execute(
        select(DutyShift.id, DutyShift.roster_id, DutyShift.period_id, DutyShift.township_id, DutyShift.department_id,
               DutyShift.starts_at, DutyShift.ends_at, DutyShift.phone, DutyShift.notes)
        .where(*where)
        .order_by(DutyShift.roster_id, DutyShift.starts_at, DutyShift.ends_at, DutyShift.position)
    ):  # fmt: skip
        on = [(row.role, _person(row)) for row in people[s.id]]
        found.append({
            "roster_id": s.roster_id, "period_id": s.period_id, "township_id": s.township_id,
            "department_id": s.department_id, "starts_at": s.starts_at, "ends_at": s.ends_at, "phone": s.phone,
            "notes": s.notes, "leader": next((p for role, p in on if role == ShiftRole.LEADER.value), None),
            "officers": [p for role, p in on if role == ShiftRole.OFFICER.value],
        })  # fmt: skip
    return found


def _person(row: Any) -> dict[str, Any]:
    return {"officer_id": row.officer_id, "user_id": row.user_id,
            "name": row.officer_name if row.officer_id is not None else row.user_name,
            "phone": row.phone or row.mobile, "given_phone": row.phone}  # fmt: skip


def public_shift(shift: dict[str, Any]) -> dict[str, Any]:
    """A shift as answered (without the internal `given_phone`)."""

    def plain(p: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in p.items() if k != "given_phone"}

    return {**shift, "leader": plain(shift["leader"]) if shift["leader"] else None,
            "officers": [plain(p) for p in shift["officers"]]}  # fmt: skip


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    unit = ("township", row["township_id"]) if row["township_id"] is not None else ("department", row["department_id"])
    return {**{k: v for k, v in row.items() if k != "unit_name"},
            "unit": {"kind": unit[0], "id": unit[1], "name": row["unit_name"]}}  # fmt: skip


def roster_row(session: Session, *, caller: Caller, roster_id: int) -> dict[str, Any]:
    """The roster with its shifts (404 out of scope)."""
    row = _summary(row_in_scope(session, caller=caller, stmt=ROSTER_SELECT, model=DutyRoster, record_id=roster_id,
                                what="duty roster"))  # fmt: skip
    return {
        **row,
        "shifts": [
            public_shift(s) for s in shifts_of(session, caller=caller, roster_ids=[roster_id]).get(roster_id, [])
        ],
    }


def roster_item(row: Any) -> dict[str, Any]:
    """A roster of a list: without its shifts (their number in `shift_count`)."""
    return _summary(dict(row))


def roster_listing(
    *, caller: Caller, period_id: int | None = None, status: str | None = None, township_id: int | None = None,
    department_id: int | None = None,
) -> Listing:  # fmt: skip
    """Rosters in the caller's scope, the newest first, filtered by period, status and unit."""
    clauses: list[Any] = list(scope_clauses(caller, DutyRoster))
    filters = ((DutyRoster.period_id, period_id), (DutyRoster.status, status),
               (DutyRoster.township_id, township_id), (DutyRoster.department_id, department_id))  # fmt: skip
    for column, value in filters:
        if value is not None:
            clauses.append(column == value)
    return Listing(ROSTER_SELECT, tuple(clauses), (DutyRoster.id,), True)


_NOT_ANSWERED = frozenset({"id", "township_id", "department_id"})


def revisions(session: Session, *, caller: Caller, roster_id: int) -> list[dict[str, Any]]:
    """Every revision of the roster, the latest first, whole (404 out of scope)."""
    visible = session.scalar(
        select(DutyRoster.id).where(DutyRoster.id == roster_id, *scope_clauses(caller, DutyRoster))
    )
    if visible is None:
        raise NotFound(f"there is no duty roster with id {roster_id}")
    rows = session.execute(
        select(*[c for c in DutyRosterRevision.__table__.columns if c.key not in _NOT_ANSWERED])
        .where(DutyRosterRevision.roster_id == roster_id)
        .order_by(DutyRosterRevision.number.desc())
    ).mappings()
    return [dict(r) for r in rows]
