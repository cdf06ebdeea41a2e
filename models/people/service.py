"""Writing grid assignments: assign, end, correct. Each public function is one transaction.

History rules (checked under the cell's team lock; the database itself holds the "one current owner" and "one
current assignment per officer and cell" rules with partial unique indexes):
- intervals are half-open, [valid_from, valid_to): at the instant of a handover the new owner is responsible;
- the owner intervals of a cell never overlap; nor do two intervals of one officer in one cell;
- times are never in the future: an assignment starts, ends or is corrected at a moment that has come;
- nothing is deleted: an assignment is ended (valid_to), or superseded by a correction that keeps the original.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import locks
from models.base import check_version, commit_guarded, utcnow, write_transaction
from models.errors import Conflict, PreconditionFailed, RuleViolation
from models.people.model import AssignmentRole, GridAssignment, Officer
from models.people.queries import cell_in_scope, team_etag, valid_at
from models.roles import Caller
from models.scope import record_in_scope, scope_clauses
from models.territory.model import GridCell


def _not_in_future(moment: datetime, now: datetime, pointer: str) -> None:
    if moment > now:
        raise RuleViolation(
            f"{pointer.lstrip('/')} {moment.isoformat()} is in the future: assignments are recorded when they "
            "happen (leave it out to mean now)",
            code="time-in-future",
            pointer=pointer,
        )


def _assignable_officer(
    session: Session, caller: Caller, officer_id: int, cell: GridCell, *, must_be_active: bool
) -> Officer:
    officer = session.scalar(select(Officer).where(Officer.id == officer_id, *scope_clauses(caller, Officer)))
    if officer is None:
        raise RuleViolation(
            f"there is no officer with id {officer_id}", code="officer-not-found", pointer="/officer_id"
        )
    if must_be_active and not officer.active:
        raise RuleViolation(f"officer {officer.id} is deactivated", code="officer-inactive", pointer="/officer_id")
    if officer.township_id != cell.township_id:
        raise RuleViolation(
            f"officer {officer.id} belongs to another township than cell {cell.code}",
            code="officer-other-township",
            pointer="/officer_id",
        )
    return officer


def _overlaps(a_from: datetime, a_to: datetime | None, b_from: datetime, b_to: datetime | None) -> bool:
    return (b_to is None or a_from < b_to) and (a_to is None or b_from < a_to)


def _check_history(
    session: Session,
    *,
    cell_id: int,
    officer_id: int,
    role: str,
    valid_from: datetime,
    valid_to: datetime | None,
    ignore: set[int],
    ends: dict[int, datetime] | None = None,
) -> None:
    """Refuse an interval that would give a cell two owners at once, or an officer two places in one cell."""
    ends = ends or {}
    others = session.scalars(
        select(GridAssignment).where(
            GridAssignment.cell_id == cell_id,
            GridAssignment.superseded_at.is_(None),
            or_(GridAssignment.role == AssignmentRole.OWNER.value, GridAssignment.officer_id == officer_id)
            if role == AssignmentRole.OWNER.value
            else GridAssignment.officer_id == officer_id,
        )
    )
    for other in others:
        if other.id in ignore:
            continue
        other_to = ends.get(other.id, other.valid_to)
        if not _overlaps(valid_from, valid_to, other.valid_from, other_to):
            continue
        same_officer = other.officer_id == officer_id
        what = "this officer's assignment" if same_officer else "the owner assignment"
        raise Conflict(
            f"the interval overlaps {what} {other.id} ({other.valid_from.isoformat()} to "
            f"{other_to.isoformat() if other_to else 'now'}): "
            + ("an officer holds one place in a cell at a time" if same_officer else "a cell has one owner at a time"),
            code="overlaps-history",
            assignment_id=other.id,
        )


def record_end(assignment: GridAssignment, *, caller: Caller, at: datetime, reason: str) -> None:
    """End an assignment inside the caller's write (it holds the locks)."""
    assignment.valid_to = at
    assignment.ended_at = utcnow()
    assignment.ended_by_id = caller.user_id
    assignment.end_reason = reason


def assign(
    session: Session,
    *,
    caller: Caller,
    cell_id: int,
    officer_id: int,
    role: AssignmentRole,
    reason: str,
    valid_from: datetime | None = None,
    expected_team: str | None = None,
) -> tuple[GridAssignment, list[int]]:
    """Put an officer in charge of a cell from `valid_from` (default now).

    A new owner ends the previous owner's assignment at that same instant; an officer who was a member and becomes
    the owner leaves the members at that instant. `expected_team` is the team ETag the caller saw (None for any).
    Answers the new assignment and the ids of the assignments it ended.
    """
    write_transaction(session, locks.team(cell_id), locks.officer(officer_id))
    cell = cell_in_scope(session, caller=caller, cell_id=cell_id)
    if cell.retired_at is not None:
        raise Conflict(f"grid cell {cell.code} is retired: nobody can be assigned to it", code="unit-retired")
    officer = _assignable_officer(session, caller, officer_id, cell, must_be_active=True)
    current = list(session.scalars(select(GridAssignment).where(GridAssignment.cell_id == cell.id, *valid_at(None))))
    etag = team_etag([a.id for a in current])
    if expected_team is not None and expected_team != etag:
        raise PreconditionFailed(
            "the team of this cell has changed since you read it: fetch it again and reapply your change",
            current_etag=etag,
        )
    now = utcnow()
    start = valid_from or now
    _not_in_future(start, now, "/valid_from")

    ends: dict[int, datetime] = {}
    mine = next((a for a in current if a.officer_id == officer.id), None)
    if mine is not None:
        if role is AssignmentRole.MEMBER or mine.role == AssignmentRole.OWNER.value:
            raise Conflict(
                f"officer {officer.id} is already the {mine.role} of cell {cell.code} (assignment {mine.id})",
                code="already-assigned",
                assignment_id=mine.id,
            )
        ends[mine.id] = start  # a member promoted to owner
    owner = next((a for a in current if a.role == AssignmentRole.OWNER.value), None)
    if role is AssignmentRole.OWNER and owner is not None:
        ends[owner.id] = start
    for ended_id in ends:
        ended = next(a for a in current if a.id == ended_id)
        if start <= ended.valid_from:
            raise RuleViolation(
                f"valid_from must come after the start of assignment {ended.id} ({ended.valid_from.isoformat()}), "
                "which it ends; to change that assignment itself, correct it",
                code="valid-from-too-early",
                pointer="/valid_from",
            )
    _check_history(
        session,
        cell_id=cell.id,
        officer_id=officer.id,
        role=role.value,
        valid_from=start,
        valid_to=None,
        ignore=set(),
        ends=ends,
    )
    for ended in current:
        if ended.id in ends:
            why = "replaced by a new owner" if ended.role == AssignmentRole.OWNER.value else "became the owner"
            record_end(ended, caller=caller, at=start, reason=f"{why}: {reason}")
    session.flush()  # the ends first: the partial unique indexes see one current owner at every step
    assignment = GridAssignment(
        cell_id=cell.id,
        officer_id=officer.id,
        township_id=cell.township_id,
        role=role.value,
        valid_from=start,
        reason=reason,
        assigned_by_id=caller.user_id,
        created_at=now,
    )
    session.add(assignment)
    _commit_team(session)
    return assignment, sorted(ends)


def _commit_team(session: Session) -> None:
    try:
        commit_guarded(session)
    except IntegrityError as exc:  # the unique indexes caught a concurrent change of the same team
        session.rollback()
        raise Conflict(
            "the team of this cell was changed by someone else at the same moment: fetch it again",
            code="team-changed",
        ) from exc


def _assignment_for_write(session: Session, *, caller: Caller, assignment_id: int) -> GridAssignment:
    """Lock the assignment's team, then load it within scope."""
    cell_id = session.scalar(select(GridAssignment.cell_id).where(GridAssignment.id == assignment_id))
    write_transaction(session, locks.team(cell_id or 0))
    return record_in_scope(
        session, caller=caller, model=GridAssignment, record_id=assignment_id, what="grid assignment"
    )


def _refuse_superseded(assignment: GridAssignment) -> None:
    if assignment.superseded_at is not None:
        raise Conflict(
            f"assignment {assignment.id} was superseded by a correction; work on the correction instead",
            code="assignment-superseded",
        )


def end_assignment(
    session: Session,
    *,
    caller: Caller,
    assignment_id: int,
    expected_version: int | None,
    reason: str,
    valid_to: datetime | None = None,
) -> GridAssignment:
    """End an assignment at `valid_to` (default now). Ending an owner leaves the cell without one."""
    assignment = _assignment_for_write(session, caller=caller, assignment_id=assignment_id)
    check_version(assignment, expected_version)
    _refuse_superseded(assignment)
    if assignment.valid_to is not None:
        raise Conflict(
            f"assignment {assignment.id} already ended at {assignment.valid_to.isoformat()}", code="already-ended"
        )
    now = utcnow()
    end = valid_to or now
    _not_in_future(end, now, "/valid_to")
    if end < assignment.valid_from:
        raise RuleViolation(
            f"valid_to comes before the assignment's start {assignment.valid_from.isoformat()}",
            code="valid-to-before-valid-from",
            pointer="/valid_to",
        )
    record_end(assignment, caller=caller, at=end, reason=reason)
    _commit_team(session)
    return assignment


def correct_assignment(
    session: Session,
    *,
    caller: Caller,
    assignment_id: int,
    expected_version: int | None,
    reason: str,
    changes: dict[str, Any],
) -> GridAssignment:
    """Correct a wrong entry: a new assignment supersedes it, and the original is kept, marked superseded.

    `changes` may hold officer_id, role, valid_from and valid_to (None: still in force).
    """
    original = _assignment_for_write(session, caller=caller, assignment_id=assignment_id)
    check_version(original, expected_version)
    _refuse_superseded(original)
    cell = session.get(GridCell, original.cell_id)
    values = {
        "officer_id": original.officer_id,
        "role": original.role,
        "valid_from": original.valid_from,
        "valid_to": original.valid_to,
    }
    values.update({k: (v.value if isinstance(v, AssignmentRole) else v) for k, v in changes.items()})
    if values == {k: getattr(original, k) for k in values}:
        raise RuleViolation("the correction changes nothing", code="empty-correction")
    now = utcnow()
    _not_in_future(values["valid_from"], now, "/valid_from")
    if values["valid_to"] is not None:
        _not_in_future(values["valid_to"], now, "/valid_to")
        if values["valid_to"] < values["valid_from"]:
            raise RuleViolation(
                "valid_to comes before valid_from", code="valid-to-before-valid-from", pointer="/valid_to"
            )
    still_current = values["valid_to"] is None
    write_transaction(session, locks.officer(values["officer_id"]))
    if still_current and cell.retired_at is not None:
        raise Conflict(f"grid cell {cell.code} is retired: nobody can be assigned to it now", code="unit-retired")
    if values["officer_id"] == original.officer_id and not still_current:
        # The same officer, in the past: they may have left or moved since, which changes nothing about then.
        officer = session.get(Officer, original.officer_id)
    else:
        officer = _assignable_officer(session, caller, values["officer_id"], cell, must_be_active=still_current)
    _check_history(
        session,
        cell_id=cell.id,
        officer_id=officer.id,
        role=values["role"],
        valid_from=values["valid_from"],
        valid_to=values["valid_to"],
        ignore={original.id},
    )
    original.superseded_at = now
    original.superseded_by_id = caller.user_id
    session.flush()  # the original leaves the current team before its correction joins it
    ended_changed = values["valid_to"] != original.valid_to
    correction = GridAssignment(
        cell_id=cell.id,
        officer_id=officer.id,
        township_id=cell.township_id,
        role=values["role"],
        valid_from=values["valid_from"],
        valid_to=values["valid_to"],
        reason=original.reason,
        assigned_by_id=original.assigned_by_id,
        created_at=now,
        ended_at=None if still_current else (now if ended_changed else original.ended_at),
        ended_by_id=None if still_current else (caller.user_id if ended_changed else original.ended_by_id),
        end_reason=None if still_current else (reason if ended_changed else original.end_reason),
        corrects_id=original.id,
        correction_reason=reason,
    )
    session.add(correction)
    _commit_team(session)
    return correction
