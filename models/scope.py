"""The row rules: which rows of each table a caller reaches, as WHERE clauses. Imports the models it rules.

Every query that reads or changes a record adds `scope_clauses(caller, Model)`, so that an object out of scope is
found exactly as often as one that does not exist: never. The roles themselves are in `models.roles`.
A table without a rule here is out of every scope but the county's (`false()`): a new fact table adds its rule in
the same commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, false, or_, select
from sqlalchemy.orm import Session

from models.accounts.model import User
from models.departments.model import Department, Sector
from models.duty.model import DutyRoster
from models.enterprises.model import Enterprise, EnterpriseDepartment
from models.errors import NotFound
from models.hazards.model import EnforcementDocument, Hazard, HazardDepartment
from models.patrols.model import Patrol, PatrolCell, PatrolOfficer
from models.people.model import GridAssignment, Officer
from models.roles import Caller, Role
from models.territory.model import GridCell, Township, Village

T = TypeVar("T")


def officer_current_cells(officer_id: int | None) -> Select:
    """Ids of the cells the officer is assigned to now (as owner or member)."""
    return select(GridAssignment.cell_id).where(
        GridAssignment.officer_id == bindparam("scope_officer_id", officer_id),
        GridAssignment.valid_to.is_(None),
        GridAssignment.superseded_at.is_(None),
    )


# ---- statements built once --------------------------------------------------------------------------------------
# The clauses below name their values with these parameters, so that a statement built for one caller serves every
# caller of the same shape of scope (`scope_shape`) when executed with `scope_values(caller)`: hot paths build their
# statements once instead of on every request.


def scope_shape(caller: Caller) -> str:
    if caller.county_wide:
        return "county"
    if caller.role is Role.DEPARTMENT_STAFF:
        return "department"
    if caller.role is Role.GRID_OFFICER:
        return "cells"
    return "township" if caller.township_id is not None else "nothing"


def scope_values(caller: Caller) -> dict[str, int | None]:
    """Every scope parameter, always all of them: no value of an earlier caller may remain in force."""
    return {
        "scope_township_id": caller.township_id,
        "scope_officer_id": caller.officer_id,
        "scope_user_id": caller.user_id,
        "scope_department_id": caller.department_id,
    }


_BUILT: dict[tuple[Any, ...], Any] = {}


def built_once(key: tuple[Any, ...], caller: Caller, build: Callable[[], T]) -> T:
    """The statement (or `PreparedRead`) `build` makes for this key and the caller's shape of scope, built on first
    use only. Run it with `scope_values(caller)` among its parameters."""
    full_key = (*key, scope_shape(caller))
    stmt = _BUILT.get(full_key)
    if stmt is None:
        stmt = _BUILT[full_key] = build()
    return stmt


# A grid officer's row rule per table: they reach their current cells, those cells' village and township, their own
# officer record and account, and the assignments of their cells and their own.
_OFFICER_RULES: dict[type, Callable[[Caller, Select], ColumnElement[bool]]] = {
    GridCell: lambda caller, cells: GridCell.id.in_(cells),
    Village: lambda caller, cells: Village.id.in_(select(GridCell.village_id).where(GridCell.id.in_(cells))),
    Township: lambda caller, cells: Township.id.in_(select(GridCell.township_id).where(GridCell.id.in_(cells))),
    Officer: lambda caller, cells: Officer.id == bindparam("scope_officer_id", caller.officer_id),
    GridAssignment: lambda caller, cells: or_(
        GridAssignment.officer_id == bindparam("scope_officer_id", caller.officer_id),
        GridAssignment.cell_id.in_(cells),
    ),
    User: lambda caller, cells: User.id == bindparam("scope_user_id", caller.user_id),
    Enterprise: lambda caller, cells: Enterprise.cell_id.in_(cells),
    Hazard: lambda caller, cells: Hazard.cell_id.in_(cells),
    EnforcementDocument: lambda caller, cells: EnforcementDocument.cell_id.in_(cells),
    # the duty rosters of their cells' townships
    DutyRoster: lambda caller, cells: DutyRoster.township_id.in_(
        select(GridCell.township_id).where(GridCell.id.in_(cells))
    ),
    # the patrols in their cells, and those they took part in
    Patrol: lambda caller, cells: or_(
        Patrol.id.in_(select(PatrolCell.patrol_id).where(PatrolCell.cell_id.in_(cells))),
        Patrol.id.in_(
            select(PatrolOfficer.patrol_id).where(
                PatrolOfficer.officer_id == bindparam("scope_officer_id", caller.officer_id)
            )
        ),
    ),
}


# The county's organisation chart: every role reads it whole.
_PUBLIC = frozenset({Department, Sector})

# Department staff read the territory and who patrols it county-wide (they work with every township), their own
# account, and of the facts, those of their department (rules added by the domains that hold them).
_DEPARTMENT_RULES: dict[type, Callable[[Caller], ColumnElement[bool] | None]] = {
    Township: lambda caller: None,
    Village: lambda caller: None,
    GridCell: lambda caller: None,
    Officer: lambda caller: None,
    GridAssignment: lambda caller: None,
    User: lambda caller: User.id == bindparam("scope_user_id", caller.user_id),
    Enterprise: lambda caller: Enterprise.id.in_(
        select(EnterpriseDepartment.enterprise_id).where(
            EnterpriseDepartment.department_id == bindparam("scope_department_id", caller.department_id)
        )
    ),
    # the hazards of the enterprises it supervises now, and those it was named for (its sector's, when reported)
    Hazard: lambda caller: or_(
        Hazard.enterprise_id.in_(
            select(EnterpriseDepartment.enterprise_id).where(
                EnterpriseDepartment.department_id == bindparam("scope_department_id", caller.department_id)
            )
        ),
        Hazard.id.in_(
            select(HazardDepartment.hazard_id).where(
                HazardDepartment.department_id == bindparam("scope_department_id", caller.department_id)
            )
        ),
    ),
    # its own duty rosters
    DutyRoster: lambda caller: DutyRoster.department_id == bindparam("scope_department_id", caller.department_id),
    # the patrols its staff recorded
    Patrol: lambda caller: Patrol.recorded_by_user_id == bindparam("scope_user_id", caller.user_id),
    # the documents it issued, and those issued to the enterprises it supervises
    EnforcementDocument: lambda caller: or_(
        EnforcementDocument.department_id == bindparam("scope_department_id", caller.department_id),
        EnforcementDocument.enterprise_id.in_(
            select(EnterpriseDepartment.enterprise_id).where(
                EnterpriseDepartment.department_id == bindparam("scope_department_id", caller.department_id)
            )
        ),
    ),
}


def scope_clauses(caller: Caller, model: type) -> list[ColumnElement[bool]]:
    """WHERE clauses that keep only the rows of `model` inside the caller's scope ([] for the whole county)."""
    if caller.county_wide or model in _PUBLIC:
        return []
    if caller.role is Role.DEPARTMENT_STAFF:
        department_rule = _DEPARTMENT_RULES.get(model)
        if department_rule is None:
            return [false()]
        clause = department_rule(caller)
        return [] if clause is None else [clause]
    if caller.role is not Role.GRID_OFFICER:
        if caller.township_id is None:
            return [false()]
        column = Township.id if model is Township else getattr(model, "township_id", None)
        if column is None:
            raise TypeError(f"{model.__name__} has no township scope")
        return [column == bindparam("scope_township_id", caller.township_id)]
    rule = _OFFICER_RULES.get(model)
    if rule is None:
        return [false()]
    return [rule(caller, officer_current_cells(caller.officer_id))]


def record_in_scope(session: Session, *, caller: Caller, model: type, record_id: int | None, what: str) -> Any:
    """The record of `model` with this id, or `NotFound`, the same when it exists outside the caller's scope."""
    stmt = built_once(
        ("record", model),
        caller,
        lambda: select(model).where(model.id == bindparam("record_id"), *scope_clauses(caller, model)),
    )
    record = session.scalar(stmt, {"record_id": record_id, **scope_values(caller)})
    if record is None:
        raise NotFound(f"there is no {what} with id {record_id}")
    return record


def row_in_scope(
    session: Session, *, caller: Caller, stmt: Select, model: type, record_id: int, what: str
) -> dict[str, Any]:
    """The one row of `stmt` (a statement built once, e.g. a module constant) for this id of `model`, as a dict,
    or `NotFound` like `record_in_scope`."""
    scoped = built_once(
        ("row", stmt, model),
        caller,
        lambda: stmt.where(model.id == bindparam("record_id"), *scope_clauses(caller, model)),
    )
    # (a statement of columns, not of mapped objects: straight on the connection, without the ORM's round)
    row = session.connection().execute(scoped, {"record_id": record_id, **scope_values(caller)}).mappings().first()
    if row is None:
        raise NotFound(f"there is no {what} with id {record_id}")
    return dict(row)


def in_scope(session: Session, *, caller: Caller, model: type, record_id: int) -> bool:
    """Whether the caller may see this record (e.g. before naming its id in a conflict)."""
    stmt = built_once(
        ("in-scope", model),
        caller,
        lambda: select(model.id).where(model.id == bindparam("record_id"), *scope_clauses(caller, model)),
    )
    return session.scalar(stmt, {"record_id": record_id, **scope_values(caller)}) is not None


def existing_id_if_visible(session: Session, *, caller: Caller, model: type, record_id: int) -> dict[str, int]:
    """`existing_id` for a conflict (a taken code, number or name), only when the caller may see that record:
    otherwise it would tell them the record exists."""
    return {"existing_id": record_id} if in_scope(session, caller=caller, model=model, record_id=record_id) else {}
