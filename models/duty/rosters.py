"""Duty rosters (值班表): one per unit and period, written by the unit (its township's leaders, its department's
staff, or the county office for it), submitted by the deadline, approved or returned by the county office.

The life of a roster: a **draft** is written and rewritten freely; **submitting** it makes revision 1 (late when
after the period's deadline). From then on every change is a new revision at once, submitted again: nothing the
county office has seen is overwritten, and each revision is kept whole (`DutyRosterRevision`), with the office's
decision on it (**approved**, or **returned** with a reason). A returned roster is changed (a new revision) or
submitted again as it is.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from models import locks
from models.base import check_version, utcnow, write_transaction
from models.departments.model import Department
from models.duty.model import (
    DutyPeriod,
    DutyPeriodUnit,
    DutyRoster,
    DutyRosterRevision,
    DutyShift,
    DutyShiftPerson,
    RosterStatus,
    ShiftRole,
)
from models.duty.people import load_people, member, person_answer
from models.duty.roster_reads import public_shift, shifts_of
from models.errors import Conflict, NotFound, RuleViolation
from models.roles import SYSTEM, Caller, Role
from models.scope import record_in_scope, scope_clauses
from models.territory.model import Township

MAX_SHIFT = timedelta(hours=25)  # a day of wall clock, the day a clock goes back included


def _period(session: Session, period_id: int) -> DutyPeriod:
    period = session.get(DutyPeriod, period_id)
    if period is None:
        raise RuleViolation(f"there is no duty period with id {period_id}", code="period-not-found",
                            pointer="/period_id")  # fmt: skip
    return period


def _open(period: DutyPeriod) -> None:
    if period.cancelled_at is not None:
        raise Conflict(f"the period {period.name} is cancelled: its rosters are no longer changed",
                       code="period-cancelled")  # fmt: skip


def _writable_unit(session: Session, caller: Caller, township_id: int | None, department_id: int | None) -> None:
    """The unit is one the caller writes rosters for (422 like a unit that does not exist otherwise)."""
    if (township_id is None) == (department_id is None):
        raise RuleViolation("a roster is a township's or a department's: give one of township_id, department_id",
                            code="one-unit", pointer="/township_id")  # fmt: skip
    if township_id is not None:
        mine = caller.role is Role.COUNTY_ADMIN or (
            caller.role is Role.TOWNSHIP_LEADER and caller.township_id == township_id
        )
        if not mine or session.get(Township, township_id) is None:
            raise RuleViolation(f"there is no township with id {township_id} you write rosters for",
                                code="township-not-found", pointer="/township_id")  # fmt: skip
    else:
        mine = caller.role is Role.COUNTY_ADMIN or (
            caller.role is Role.DEPARTMENT_STAFF and caller.department_id == department_id
        )
        if not mine or session.get(Department, department_id) is None:
            raise RuleViolation(f"there is no department with id {department_id} you write rosters for",
                                code="department-not-found", pointer="/department_id")  # fmt: skip


def _checked_shifts(
    session: Session, caller: Caller, period: DutyPeriod, shifts: list[dict[str, Any]], *, township_id: int | None,
    department_id: int | None,
) -> list[dict[str, Any]]:  # fmt: skip
    """The shifts as the roster answers them (people named, phones resolved), in time order, after checking each:
    inside the period, at most 25 hours, people of the unit, active, each once on the shift."""
    refs = [r for s in shifts for r in ([s["leader"]] if s.get("leader") else []) + s.get("officers", [])]
    people = load_people(session, caller=caller, refs=refs)
    answered = []
    for i, shift in enumerate(shifts):
        at = f"/shifts/{i}"
        starts, ends = shift["starts_at"], shift["ends_at"]
        if ends <= starts:
            raise RuleViolation("a shift ends after it starts", code="ends-before-starts", pointer=f"{at}/ends_at")
        if ends - starts > MAX_SHIFT:
            raise RuleViolation("a shift lasts at most 25 hours", code="shift-too-long", pointer=f"{at}/ends_at")
        if starts < period.starts_at or ends > period.ends_at:
            raise RuleViolation(
                f"a shift lies inside the period ({period.starts_at.isoformat()} to {period.ends_at.isoformat()})",
                code="shift-outside-period", pointer=f"{at}/starts_at")  # fmt: skip
        seen: set[str] = set()

        def one(ref: dict[str, Any], pointer: str, seen: set[str] = seen) -> dict[str, Any]:
            person = member(people, ref, township_id=township_id, department_id=department_id, pointer=pointer)
            if person.key in seen:
                raise RuleViolation(f"{person.name} is on this shift once", code="person-repeated", pointer=pointer)
            seen.add(person.key)
            return person_answer(person, ref.get("phone")) | {"given_phone": ref.get("phone")}

        leader = one(shift["leader"], f"{at}/leader") if shift.get("leader") else None
        officers = [one(r, f"{at}/officers/{j}") for j, r in enumerate(shift.get("officers", []))]
        answered.append({"starts_at": starts, "ends_at": ends, "phone": shift.get("phone"),
                         "notes": shift.get("notes"), "leader": leader, "officers": officers})  # fmt: skip
    return sorted(answered, key=lambda s: (s["starts_at"], s["ends_at"]))


def _store_shifts(session: Session, roster: DutyRoster, shifts: list[dict[str, Any]]) -> None:
    """Replace the roster's current shifts (their past lives in the revisions)."""
    session.execute(delete(DutyShiftPerson).where(DutyShiftPerson.roster_id == roster.id))
    session.execute(delete(DutyShift).where(DutyShift.roster_id == roster.id))
    unit = {"township_id": roster.township_id, "department_id": roster.department_id}
    for position, shift in enumerate(shifts):
        shift_id = session.scalar(
            insert(DutyShift)
            .values(
                roster_id=roster.id,
                period_id=roster.period_id,
                position=position,
                starts_at=shift["starts_at"],
                ends_at=shift["ends_at"],
                phone=shift["phone"],
                notes=shift["notes"],
                **unit,
            )
            .returning(DutyShift.id)
        )
        people = ([(ShiftRole.LEADER, shift["leader"])] if shift["leader"] else []) + [
            (ShiftRole.OFFICER, p) for p in shift["officers"]]  # fmt: skip
        if people:
            session.execute(insert(DutyShiftPerson), [
                {"shift_id": shift_id, "roster_id": roster.id, "period_id": roster.period_id, "role": role.value,
                 "position": n, "officer_id": p["officer_id"], "user_id": p["user_id"], "phone": p["given_phone"]}
                for n, (role, p) in enumerate(people)])  # fmt: skip


def create_roster(
    session: Session, *, caller: Caller, period_id: int, township_id: int | None = None,
    department_id: int | None = None, shifts: list[dict[str, Any]], notes: str | None = None,
) -> DutyRoster:  # fmt: skip
    """A unit's roster for the period, as a draft."""
    write_transaction(session, locks.duty_period(period_id))
    period = _period(session, period_id)
    _open(period)
    _writable_unit(session, caller, township_id, department_id)
    named = session.scalar(select(DutyPeriodUnit.id).where(
        DutyPeriodUnit.period_id == period_id, DutyPeriodUnit.township_id == township_id
        if township_id is not None else DutyPeriodUnit.department_id == department_id))  # fmt: skip
    if named is None:
        raise RuleViolation(f"the period {period.name} does not name this unit", code="unit-not-in-period",
                            pointer="/township_id" if township_id is not None else "/department_id")  # fmt: skip
    existing = session.scalar(select(DutyRoster.id).where(
        DutyRoster.period_id == period_id, DutyRoster.township_id == township_id
        if township_id is not None else DutyRoster.department_id == department_id))  # fmt: skip
    if existing is not None:
        raise Conflict(f"the unit has a roster for this period already (id {existing}): change it",
                       code="roster-exists", existing_id=existing)  # fmt: skip
    answered = _checked_shifts(session, caller, period, shifts, township_id=township_id, department_id=department_id)
    now = utcnow()
    roster = DutyRoster(period_id=period_id, township_id=township_id, department_id=department_id,
                        status=RosterStatus.DRAFT.value, revision=0, late=False, notes=notes,
                        created_by_user_id=caller.user_id, created_at=now, updated_at=now, version=1)  # fmt: skip
    session.add(roster)
    session.flush()
    _store_shifts(session, roster, answered)
    session.commit()
    return roster


def _roster_for_write(session: Session, caller: Caller, roster_id: int) -> tuple[DutyRoster, DutyPeriod]:
    period_id = session.scalar(
        select(DutyRoster.period_id).where(DutyRoster.id == roster_id, *scope_clauses(caller, DutyRoster))
    )
    if period_id is None:
        raise NotFound(f"there is no duty roster with id {roster_id}")
    write_transaction(session, locks.duty_period(period_id))
    roster = record_in_scope(session, caller=caller, model=DutyRoster, record_id=roster_id, what="duty roster")
    return roster, session.get(DutyPeriod, period_id)


def _revise(session: Session, caller: Caller, roster: DutyRoster, period: DutyPeriod, shifts: list[dict]) -> None:
    """A new revision of the roster as it now stands, submitted now."""
    now = utcnow()
    late = now > period.deadline
    roster.revision += 1
    roster.status = RosterStatus.SUBMITTED.value
    roster.submitted_at = now
    if roster.first_submitted_at is None:
        roster.first_submitted_at, roster.late = now, late
    roster.decided_at = roster.decided_by_user_id = roster.return_reason = None
    session.add(DutyRosterRevision(
        roster_id=roster.id, number=roster.revision, township_id=roster.township_id,
        department_id=roster.department_id, submitted_at=now, submitted_by_user_id=caller.user_id, late=late,
        shifts=[_snapshot(s) for s in shifts], notes=roster.notes))  # fmt: skip


def _snapshot(shift: dict[str, Any]) -> dict[str, Any]:
    """A shift as a revision keeps it: JSON, the people as answered (name and phone)."""
    return {**public_shift(shift), "starts_at": shift["starts_at"].isoformat(),
            "ends_at": shift["ends_at"].isoformat()}  # fmt: skip


def update_roster(
    session: Session, *, caller: Caller, roster_id: int, expected_version: int | None, **changes: Any
) -> DutyRoster:
    """Change the shifts (the whole list) or the notes. A draft is rewritten; a roster submitted before gets a new
    revision, submitted at once (the county office decides on it again)."""
    roster, period = _roster_for_write(session, caller, roster_id)
    check_version(roster, expected_version)
    _open(period)
    if "shifts" in changes and not changes["shifts"] and roster.revision > 0:
        raise RuleViolation("a submitted roster keeps its shifts: a change without any is not submitted",
                            code="roster-empty", pointer="/shifts")  # fmt: skip
    if "shifts" in changes:
        shifts = _checked_shifts(session, caller, period, changes["shifts"], township_id=roster.township_id,
                                department_id=roster.department_id)  # fmt: skip
        _store_shifts(session, roster, shifts)
    else:
        shifts = _current_shifts(session, roster.id)
    if "notes" in changes:
        roster.notes = changes["notes"]
    if roster.revision > 0:
        _revise(session, caller, roster, period, shifts)
    roster.updated_at, roster.version = utcnow(), roster.version + 1
    session.commit()
    return roster


def submit_roster(session: Session, *, caller: Caller, roster_id: int, expected_version: int | None) -> DutyRoster:
    """Submit a draft, or a returned roster as it is: a new revision (late when after the deadline)."""
    roster, period = _roster_for_write(session, caller, roster_id)
    check_version(roster, expected_version)
    _open(period)
    if roster.status not in (RosterStatus.DRAFT.value, RosterStatus.RETURNED.value):
        raise Conflict(f"the roster is {roster.status}: a change to it is submitted as a new revision",
                       code="roster-submitted")  # fmt: skip
    shifts = _current_shifts(session, roster.id)
    if not shifts:
        raise RuleViolation("a roster without shifts is not submitted", code="roster-empty", pointer="/shifts")
    _revise(session, caller, roster, period, shifts)
    roster.updated_at, roster.version = utcnow(), roster.version + 1
    session.commit()
    return roster


def decide_roster(
    session: Session, *, caller: Caller, roster_id: int, expected_version: int | None, approve: bool,
    reason: str | None = None,
) -> DutyRoster:  # fmt: skip
    """The county office approves a submitted roster, or returns it with a reason (its latest revision)."""
    roster, period = _roster_for_write(session, caller, roster_id)
    check_version(roster, expected_version)
    _open(period)
    if roster.status != RosterStatus.SUBMITTED.value:
        raise Conflict(f"the roster is {roster.status}: only a submitted roster is approved or returned",
                       code="roster-not-submitted")  # fmt: skip
    revision = session.scalar(select(DutyRosterRevision).where(
        DutyRosterRevision.roster_id == roster.id, DutyRosterRevision.number == roster.revision))  # fmt: skip
    now = utcnow()
    decision = RosterStatus.APPROVED if approve else RosterStatus.RETURNED
    roster.status, roster.decided_at, roster.decided_by_user_id = decision.value, now, caller.user_id
    roster.return_reason = None if approve else reason
    revision.decision, revision.decided_at, revision.decided_by_user_id = decision.value, now, caller.user_id
    revision.reason = roster.return_reason
    roster.updated_at, roster.version = now, roster.version + 1
    session.commit()
    return roster


def _current_shifts(session: Session, roster_id: int) -> list[dict[str, Any]]:
    """The roster's shifts as they stand, in time order, with their people (names and phones as they are now)."""
    return shifts_of(session, caller=SYSTEM, roster_ids=[roster_id]).get(roster_id, [])
