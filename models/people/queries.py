"""Reading officers, assignments and teams, always within the caller's scope. Never commits."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, or_, select
from sqlalchemy.orm import Session, aliased

from models.listing import Listing, prefix_clause
from models.people.model import AssignmentRole, GridAssignment, Officer
from models.roles import Caller
from models.scope import record_in_scope, row_in_scope, scope_clauses
from models.search import name_search
from models.territory.model import GridCell

# ---- officers ---------------------------------------------------------------------------------------------------

OFFICER_SELECT = select(*Officer.__table__.columns)


def officer_listing(
    *,
    caller: Caller,
    township_id: int | None = None,
    name: str | None = None,
    mobile: str | None = None,
    include_inactive: bool = False,
) -> Listing:
    """Officers in the caller's scope by name (then id); `name`: a case-insensitive substring of it, through the
    gram index of `models.search`."""
    clauses: list[Any] = scope_clauses(caller, Officer)
    if township_id is not None:
        clauses.append(Officer.township_id == township_id)
    if mobile:
        clauses.append(prefix_clause(Officer.mobile, mobile))
    if not include_inactive:
        clauses.append(Officer.deactivated_at.is_(None))
    listing = Listing(OFFICER_SELECT, tuple(clauses), (Officer.name, Officer.id))
    return name_search(listing, Officer, name) if name else listing


def officer_row(session: Session, *, caller: Caller, officer_id: int) -> dict[str, Any]:
    return row_in_scope(
        session, caller=caller, stmt=OFFICER_SELECT, model=Officer, record_id=officer_id, what="officer"
    )


def get_officer(session: Session, *, caller: Caller, officer_id: int) -> Officer:
    return record_in_scope(session, caller=caller, model=Officer, record_id=officer_id, what="officer")


# ---- assignments ------------------------------------------------------------------------------------------------


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


def _assignment_select() -> Select:
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


ASSIGNMENT_SELECT = _assignment_select()  # built once: statements are immutable, and building one costs a request


def assignment_listing(
    *,
    caller: Caller,
    cell_id: int | None = None,
    officer_id: int | None = None,
    township_id: int | None = None,
    role: AssignmentRole | None = None,
    at: datetime | None = None,
    current: bool | None = None,
    include_superseded: bool = False,
) -> Listing:
    """The assignment history in the caller's scope, oldest start first."""
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
    return Listing(ASSIGNMENT_SELECT, tuple(clauses), (GridAssignment.valid_from, GridAssignment.id))


def assignment_row(session: Session, *, caller: Caller, assignment_id: int) -> dict[str, Any]:
    return row_in_scope(
        session,
        caller=caller,
        stmt=ASSIGNMENT_SELECT,
        model=GridAssignment,
        record_id=assignment_id,
        what="grid assignment",
    )


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


def cell_in_scope(session: Session, *, caller: Caller, cell_id: int) -> GridCell:
    return record_in_scope(session, caller=caller, model=GridCell, record_id=cell_id, what="grid cell (网格)")


@functools.cache
def _team_statement(at_an_instant: bool) -> Select:
    """A cell's assignments in force now or at the instant `at`: owner first, then members by start. Built once."""
    at = bindparam("at", type_=GridAssignment.valid_from.type) if at_an_instant else None
    return ASSIGNMENT_SELECT.where(GridAssignment.cell_id == bindparam("cell_id"), *valid_at(at)).order_by(
        (GridAssignment.role == AssignmentRole.OWNER.value).desc(), GridAssignment.valid_from, GridAssignment.id
    )


def team(session: Session, *, caller: Caller, cell_id: int, at: datetime | None = None) -> Team:
    """Who is in charge of a cell now, or at a past instant: its owner and members."""
    cell = cell_in_scope(session, caller=caller, cell_id=cell_id)
    rows = session.connection().execute(_team_statement(at is not None), {"cell_id": cell.id, "at": at}).mappings()
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
    officer = get_officer(session, caller=caller, officer_id=officer_id)
    rows = session.execute(
        ASSIGNMENT_SELECT.where(
            GridAssignment.officer_id == officer.id, *valid_at(at), *scope_clauses(caller, GridAssignment)
        ).order_by(GridCell.code, GridAssignment.id)
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
