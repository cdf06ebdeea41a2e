"""The row rules: which rows of each table a caller reaches, as WHERE clauses. Imports the models it rules.

Every query that reads or changes a record adds `scope_clauses(caller, Model)`, so that an object out of scope is
found exactly as often as one that does not exist: never. The roles themselves are in `models.roles`.
A table without a rule here is out of every scope but the county's (`false()`): a new fact table adds its rule in
the same commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import Session

from models.accounts.model import User
from models.errors import NotFound
from models.people.model import GridAssignment, Officer
from models.roles import Caller, Role
from models.territory.model import GridCell, Township, Village


def officer_current_cells(officer_id: int | None) -> Select:
    """Ids of the cells the officer is assigned to now (as owner or member)."""
    return select(GridAssignment.cell_id).where(
        GridAssignment.officer_id == officer_id,
        GridAssignment.valid_to.is_(None),
        GridAssignment.superseded_at.is_(None),
    )


# A grid officer's row rule per table: they reach their current cells, those cells' village and township, their own
# officer record and account, and the assignments of their cells and their own.
_OFFICER_RULES: dict[type, Callable[[Caller, Select], ColumnElement[bool]]] = {
    GridCell: lambda caller, cells: GridCell.id.in_(cells),
    Village: lambda caller, cells: Village.id.in_(select(GridCell.village_id).where(GridCell.id.in_(cells))),
    Township: lambda caller, cells: Township.id.in_(select(GridCell.township_id).where(GridCell.id.in_(cells))),
    Officer: lambda caller, cells: Officer.id == caller.officer_id,
    GridAssignment: lambda caller, cells: or_(
        GridAssignment.officer_id == caller.officer_id, GridAssignment.cell_id.in_(cells)
    ),
    User: lambda caller, cells: User.id == caller.user_id,
}


def scope_clauses(caller: Caller, model: type) -> list[ColumnElement[bool]]:
    """WHERE clauses that keep only the rows of `model` inside the caller's scope ([] for the whole county)."""
    if caller.county_wide:
        return []
    if caller.role is not Role.GRID_OFFICER:
        if caller.township_id is None:
            return [false()]
        column = Township.id if model is Township else getattr(model, "township_id", None)
        if column is None:
            raise TypeError(f"{model.__name__} has no township scope")
        return [column == caller.township_id]
    rule = _OFFICER_RULES.get(model)
    if rule is None:
        return [false()]
    return [rule(caller, officer_current_cells(caller.officer_id))]


def record_in_scope(session: Session, *, caller: Caller, model: type, record_id: int | None, what: str) -> Any:
    """The record of `model` with this id, or `NotFound`, the same when it exists outside the caller's scope."""
    record = session.scalar(select(model).where(model.id == record_id, *scope_clauses(caller, model)))
    if record is None:
        raise NotFound(f"there is no {what} with id {record_id}")
    return record


def row_in_scope(
    session: Session, *, caller: Caller, stmt: Select, model: type, record_id: int, what: str
) -> dict[str, Any]:
    """The one row of `stmt` for this id of `model`, as a dict, or `NotFound` like `record_in_scope`."""
    row = session.execute(stmt.where(model.id == record_id, *scope_clauses(caller, model))).mappings().first()
    if row is None:
        raise NotFound(f"there is no {what} with id {record_id}")
    return dict(row)


def in_scope(session: Session, *, caller: Caller, model: type, record_id: int) -> bool:
    """Whether the caller may see this record (e.g. before naming its id in a conflict)."""
    return session.scalar(select(model.id).where(model.id == record_id, *scope_clauses(caller, model))) is not None
