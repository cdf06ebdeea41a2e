"""Roles, the caller, and the one way to check scope.

Roles gate the verbs (each endpoint declares the roles it admits); scope filters the objects. Every query that reads
or changes a record adds `scope_clauses(caller, Model)`, so that an object out of scope is found exactly as often as
one that does not exist: never.

| role            | scope                                                                        |
|-----------------|------------------------------------------------------------------------------|
| county_admin    | the whole county                                                             |
| township_leader | one township                                                                 |
| grid_officer    | the cells they are assigned to now (and those cells' village and township),  |
|                 | their own officer record and the assignments of their cells                  |
| viewer          | read-only: one township, or the whole county when it has none                |
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import Session

from models.errors import NotFound


class Role(StrEnum):
    COUNTY_ADMIN = "county_admin"
    TOWNSHIP_LEADER = "township_leader"
    GRID_OFFICER = "grid_officer"
    VIEWER = "viewer"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.COUNTY_ADMIN: "county administrator (县级管理员)",
    Role.TOWNSHIP_LEADER: "township leader (乡镇领导)",
    Role.GRID_OFFICER: "grid officer (网格员)",
    Role.VIEWER: "viewer (只读)",
}
ALL_ROLES = frozenset(Role)
MANAGERS = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_LEADER})


@dataclass(frozen=True)
class Caller:
    """Who is asking: an authenticated user, or the system itself (command-line tools)."""

    user_id: int | None
    username: str
    role: Role
    township_id: int | None = None
    officer_id: int | None = None
    session_id: int | None = None

    @property
    def county_wide(self) -> bool:
        return self.role is Role.COUNTY_ADMIN or (self.role is Role.VIEWER and self.township_id is None)


SYSTEM = Caller(user_id=None, username="system", role=Role.COUNTY_ADMIN)


def officer_current_cells(officer_id: int | None) -> Select:
    """Ids of the cells the officer is assigned to now (as owner or member)."""
    from models.people import GridAssignment

    return select(GridAssignment.cell_id).where(
        GridAssignment.officer_id == officer_id,
        GridAssignment.valid_to.is_(None),
        GridAssignment.superseded_at.is_(None),
    )


def scope_clauses(caller: Caller, model: type) -> list[ColumnElement[bool]]:
    """WHERE clauses that keep only the rows of `model` inside the caller's scope ([] for the whole county)."""
    if caller.county_wide:
        return []
    from models.accounts import User
    from models.people import GridAssignment, Officer
    from models.territory import GridCell, Township, Village

    if caller.role is not Role.GRID_OFFICER:
        if caller.township_id is None:
            return [false()]
        column = Township.id if model is Township else getattr(model, "township_id", None)
        if column is None:
            raise TypeError(f"{model.__name__} has no township scope")
        return [column == caller.township_id]

    cells = officer_current_cells(caller.officer_id)
    clauses: dict[type, Any] = {
        GridCell: lambda: GridCell.id.in_(cells),
        Village: lambda: Village.id.in_(select(GridCell.village_id).where(GridCell.id.in_(cells))),
        Township: lambda: Township.id.in_(select(GridCell.township_id).where(GridCell.id.in_(cells))),
        Officer: lambda: Officer.id == caller.officer_id,
        GridAssignment: lambda: or_(GridAssignment.officer_id == caller.officer_id, GridAssignment.cell_id.in_(cells)),
        User: lambda: User.id == caller.user_id,
    }
    if model not in clauses:
        return [false()]
    return [clauses[model]()]


def record_in_scope(session: Session, caller: Caller, model: type, record_id: int | None, what: str) -> Any:
    """The record of `model` with this id, or `NotFound`, the same when it exists outside the caller's scope."""
    record = session.scalar(select(model).where(model.id == record_id, *scope_clauses(caller, model)))
    if record is None:
        raise NotFound(f"there is no {what} with id {record_id}")
    return record


def row_in_scope(
    session: Session, caller: Caller, stmt: Select, model: type, record_id: int, what: str
) -> dict[str, Any]:
    """The one row of `stmt` for this id of `model`, as a dict, or `NotFound` like `record_in_scope`."""
    row = session.execute(stmt.where(model.id == record_id, *scope_clauses(caller, model))).mappings().first()
    if row is None:
        raise NotFound(f"there is no {what} with id {record_id}")
    return dict(row)
