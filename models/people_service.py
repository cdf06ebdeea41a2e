"""Officers and grid assignments: plain functions, keyword-only, every read and write within the caller's scope.

Assignment history rules (checked under a per-cell write lock; the database itself holds the "one current owner"
and "one current assignment per officer and cell" rules with partial unique indexes):
- intervals are half-open, [valid_from, valid_to): at the instant of a handover the new owner is responsible;
- the owner intervals of a cell never overlap; nor do two intervals of one officer in one cell;
- times are never in the future: an assignment starts, ends or is corrected at a moment that has come;
- nothing is deleted: an assignment is ended (valid_to), or superseded by a correction that keeps the original.

Locks (PostgreSQL advisory locks; SQLite has one write lock for everything) are always taken in this order, so that
no two writes wait on each other in a circle: accounts, then a cell's team, then an officer, then a mobile number.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from models.access import Caller, record_in_scope, row_in_scope, scope_clauses
from models.accounts_service import ACCOUNTS_LOCK, deactivate_accounts_of_officer, move_accounts_of_officer
from models.base import check_version, commit_guarded, utcnow, write_transaction
from models.errors import Conflict, PreconditionFailed, RuleViolation
from models.people import AssignmentRole, GridAssignment, Officer
from models.territory import GridCell, Township

# ---- officers ---------------------------------------------------------------------------------------------------


def officer_select() -> Select:
    return select(*Officer.__table__.columns)


def officer_filters(
    caller: Caller,
    *,
    township_id: int | None = None,
    name: str | None = None,
    mobile: str | None = None,
    include_inactive: bool = False,
) -> list[Any]:
    clauses: list[Any] = scope_clauses(caller, Officer)
    if township_id is not None:
        clauses.append(Officer.township_id == township_id)
    if name:
        clauses.append(func.lower(Officer.name).contains(name.lower(), autoescape=True))
    if mobile:
        clauses.append(Officer.mobile.startswith(mobile, autoescape=True))
    if not include_inactive:
        clauses.append(Officer.deactivated_at.is_(None))
    return clauses


def officer_row(session: Session, caller: Caller, officer_id: int) -> dict[str, Any]:
    return row_in_scope(session, caller, officer_select(), Officer, officer_id, "officer")


def get_officer(session: Session, caller: Caller, officer_id: int) -> Officer:
    return record_in_scope(session, caller, Officer, officer_id, "officer")


def _township_in_scope(session: Session, caller: Caller, township_id: int | None) -> Township:
    township = session.scalar(select(Township).where(Township.id == township_id, *scope_clauses(caller, Township)))
    if township is None:
        raise RuleViolation(
            f"there is no township with id {township_id}", code="township-not-found", pointer="/township_id"
        )
    if township.retired_at is not None:
        raise RuleViolation(f"township {township.code} is retired", code="township-retired", pointer="/township_id")
    return township


def _refuse_taken_mobile(session: Session, caller: Caller, mobile: str, officer_id: int | None) -> None:
    existing = session.scalar(
        select(Officer.id).where(
            Officer.mobile == mobile, Officer.deactivated_at.is_(None), Officer.id != (officer_id or 0)
        )
    )
    if existing is not None:
        # existing_id only when the caller may see that officer: otherwise it would tell them it exists.
        visible = session.scalar(select(Officer.id).where(Officer.id == existing, *scope_clauses(caller, Officer)))
        raise Conflict(
            f"an active officer already has the mobile number {mobile}",
            code="mobile-taken",
            **({"existing_id": existing} if visible else {}),
        )


def create_officer(
    session: Session,
    *,
    caller: Caller,
    name: str,
    mobile: str,
    township_id: int | None = None,
    title: str | None = None,
) -> Officer:
    """Register an officer in a township (a township leader: in their own, which is the default)."""
    if township_id is None:
        township_id = caller.township_id
    if township_id is None:
        raise RuleViolation("give the officer's township_id", code="township-required", pointer="/township_id")
    write_transaction(session, _mobile_lock(mobile))
    township = _township_in_scope(session, caller, township_id)
    _refuse_taken_mobile(session, caller, mobile, None)
    now = utcnow()
    officer = Officer(name=name, mobile=mobile, township_id=township.id, title=title, created_at=now, updated_at=now)
    session.add(officer)
    try:
        session.commit()
    except IntegrityError:  # a write outside this code (the lock covers ours) took the number
        session.rollback()
        _refuse_taken_mobile(session, caller, mobile, None)
        raise
    return officer


def _mobile_lock(mobile: str) -> str:
    return f"mobile:{mobile}"


def _officer_lock(officer_id: int) -> str:
    """Held by every write that depends on an officer being active: assigning them, and deactivating them."""
    return f"officer:{officer_id}"


_UNSET: Any = object()


def update_officer(
    session: Session,
    *,
    caller: Caller,
    officer_id: int,
    expected_version: int | None,
    name: str | None = None,
    mobile: str | None = None,
    title: str | None = _UNSET,
    township_id: int | None = None,
) -> Officer:
    """Change an officer's details. Moving them to another township needs county scope and no current cells."""
    locks = [ACCOUNTS_LOCK, _officer_lock(officer_id), *([_mobile_lock(mobile)] if mobile else [])]
    write_transaction(session, *locks)
    officer = get_officer(session, caller, officer_id)
    check_version(officer, expected_version)
    if not officer.active:
        raise Conflict(f"officer {officer.id} is deactivated and can no longer change", code="officer-inactive")
    if mobile is not None and mobile != officer.mobile:
        _refuse_taken_mobile(session, caller, mobile, officer.id)
        officer.mobile = mobile
    if township_id is not None and township_id != officer.township_id:
        _township_in_scope(session, caller, township_id)
        if not caller.county_wide:
            raise RuleViolation(
                "only a county administrator moves an officer to another township",
                code="township-change-not-allowed",
                pointer="/township_id",
            )
        if _current_assignments_of(session, officer.id):
            raise Conflict(
                "the officer still has current cells in their township: end those assignments first",
                code="officer-has-cells",
            )
        officer.township_id = township_id
        move_accounts_of_officer(session, officer.id, township_id)
    if name is not None:
        officer.name = name
    if title is not _UNSET:
        officer.title = title
    if session.is_modified(officer):
        officer.updated_at = utcnow()
    commit_guarded(session)
    return officer


def deactivate_officer(
    session: Session, *, caller: Caller, officer_id: int, expected_version: int | None, reason: str | None = None
) -> Officer:
    """The officer has left: their current assignments end now, their accounts are deactivated. Nothing is deleted.

    Takes the officer's lock, which every assignment of this officer also takes, so no assignment can slip in
    between reading their current cells and marking them inactive, and the accounts lock, so that no account can
    be linked to them meanwhile. (No team locks: a concurrent change of one of those assignments is caught by its
    version.)
    """
    write_transaction(session, ACCOUNTS_LOCK, _officer_lock(officer_id))
    officer = get_officer(session, caller, officer_id)
    if not officer.active:
        return officer  # deactivating twice is deactivating once
    check_version(officer, expected_version)
    now = utcnow()
    for assignment in _current_assignments_of(session, officer.id):
        _end(assignment, caller=caller, at=now, reason=f"officer deactivated: {reason or 'no reason given'}")
    officer.deactivated_at = officer.updated_at = now
    deactivate_accounts_of_officer(session, officer.id)
    commit_guarded(session)
    return officer


def _current_assignments_of(session: Session, officer_id: int) -> list[GridAssignment]:
    return list(
        session.scalars(
            select(GridAssignment).where(
                GridAssignment.officer_id == officer_id,
                GridAssignment.valid_to.is_(None),
                GridAssignment.superseded_at.is_(None),
            )
        )
    )


# ---- assignments: reading ---------------------------------------------------------------------------------------


def valid_at(at: datetime | None) -> list[Any]:
    """Assignments in force at `at` (now when None); superseded entries never are."""
    clauses: list[Any] = [GridAssignment.superseded_at.is_(None)]
    if at is None:
        clauses.append(GridAssignment.valid_to.is_(None))
    else:
        clauses += [
            GridAssignment.valid_from <= at,
            or_(GridAssignment.valid_to.is_(None), GridAssignment.valid_to > at),
        ]
    return clauses


def assignment_select() -> Select:
    """Assignments with their officer and cell named, and the correction that superseded each, if any."""
    correction = aliased(GridAssignment)
    return (
        select(
            *GridAssignment.__table__.columns,
            Officer.name.label("officer_name"),
            Officer.mobile.label("officer_mobile"),
            Officer.title.label("officer_title"),
            GridCell.code.label("cell_code"),
            GridCell.name.label("cell_name"),
            GridCell.village_id.label("village_id"),
            select(correction.id)
            .where(correction.corrects_id == GridAssignment.id)
            .scalar_subquery()
            .label("superseded_by_assignment_id"),
        )
        .join(Officer, Officer.id == GridAssignment.officer_id)
        .join(GridCell, GridCell.id == GridAssignment.cell_id)
    )


def assignment_filters(
    caller: Caller,
    *,
    cell_id: int | None = None,
    officer_id: int | None = None,
    township_id: int | None = None,
    role: AssignmentRole | None = None,
    at: datetime | None = None,
    current: bool | None = None,
    include_superseded: bool = False,
) -> list[Any]:
    clauses: list[Any] = scope_clauses(caller, GridAssignment)
    for column, value in (
        (GridAssignment.cell_id, cell_id),
        (GridAssignment.officer_id, officer_id),
        (GridAssignment.township_id, township_id),
    ):
        if value is not None:
            clauses.append(column == value)
    if role is not None:
        clauses.append(GridAssignment.role == role.value)
    if at is not None:
        clauses += valid_at(at)
    elif current is not None:
        now = valid_at(None)
        clauses.append(and_(*now) if current else ~and_(*now))
    if not include_superseded and at is None:
        clauses.append(GridAssignment.superseded_at.is_(None))
    return clauses


def assignment_row(session: Session, caller: Caller, assignment_id: int) -> dict[str, Any]:
    return row_in_scope(session, caller, assignment_select(), GridAssignment, assignment_id, "grid assignment")


def team_etag(assignment_ids: list[int]) -> str:
    """The team's version: it changes whenever someone joins or leaves the cell's current team."""
    digest = hashlib.sha256(",".join(str(i) for i in sorted(assignment_ids)).encode()).hexdigest()
    return f"team-{digest[:16]}"


@dataclass(frozen=True)
class Team:
    cell: dict[str, Any]
    at: datetime | None
    assignments: list[dict[str, Any]]  # owner first, then members by start

    @property
    def etag(self) -> str:
        return team_etag([a["id"] for a in self.assignments])


def cell_in_scope(session: Session, caller: Caller, cell_id: int) -> GridCell:
    return record_in_scope(session, caller, GridCell, cell_id, "grid cell (网格)")


def team(session: Session, *, caller: Caller, cell_id: int, at: datetime | None = None) -> Team:
    """Who is in charge of a cell now, or at a past instant: its owner and members."""
    cell = cell_in_scope(session, caller, cell_id)
    rows = session.execute(
        assignment_select()
        .where(GridAssignment.cell_id == cell.id, *valid_at(at))
        .order_by(
            (GridAssignment.role == AssignmentRole.OWNER.value).desc(), GridAssignment.valid_from, GridAssignment.id
        )
    ).mappings()
    summary = {
        "id": cell.id,
        "code": cell.code,
        "name": cell.name,
        "village_id": cell.village_id,
        "township_id": cell.township_id,
        "retired_at": cell.retired_at,
    }
    return Team(cell=summary, at=at, assignments=[dict(r) for r in rows])


def officer_cells(session: Session, *, caller: Caller, officer_id: int, at: datetime | None = None) -> list[dict]:
    """The cells an officer is (or was, at `at`) assigned to, as their assignments."""
    officer = get_officer(session, caller, officer_id)
    rows = session.execute(
        assignment_select()
        .where(GridAssignment.officer_id == officer.id, *valid_at(at), *scope_clauses(caller, GridAssignment))
        .order_by(GridCell.code, GridAssignment.id)
    ).mappings()
    return [dict(r) for r in rows]


def has_owner_clause(has_owner: bool) -> Any:
    """Grid cells with (or without) a current owner: the second is a township leader's to-do list."""
    owned = exists().where(
        GridAssignment.cell_id == GridCell.id,
        GridAssignment.role == AssignmentRole.OWNER.value,
        *valid_at(None),
    )
    return owned if has_owner else ~owned


# ---- assignments: writing ---------------------------------------------------------------------------------------


def _team_lock(cell_id: int) -> str:
    return f"team:{cell_id}"


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


def _end(assignment: GridAssignment, *, caller: Caller, at: datetime, reason: str) -> None:
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
    write_transaction(session, _team_lock(cell_id), _officer_lock(officer_id))  # always team first, then officer
    cell = cell_in_scope(session, caller, cell_id)
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
            _end(ended, caller=caller, at=start, reason=f"{why}: {reason}")
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


def _assignment_for_write(session: Session, caller: Caller, assignment_id: int) -> GridAssignment:
    """Lock the assignment's team, then load it within scope."""
    cell_id = session.scalar(select(GridAssignment.cell_id).where(GridAssignment.id == assignment_id))
    write_transaction(session, _team_lock(cell_id or 0))
    return record_in_scope(session, caller, GridAssignment, assignment_id, "grid assignment")


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
    assignment = _assignment_for_write(session, caller, assignment_id)
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
    _end(assignment, caller=caller, at=end, reason=reason)
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
    original = _assignment_for_write(session, caller, assignment_id)
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
    write_transaction(session, _officer_lock(values["officer_id"]))
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
