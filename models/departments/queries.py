"""Reading sectors and departments. Every role reads them all: they are the county's public organisation chart."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from models.departments.model import Department, Sector
from models.listing import Listing
from models.roles import Caller
from models.scope import record_in_scope, row_in_scope, scope_clauses

DEPARTMENT_SELECT = select(*Department.__table__.columns)


def sectors(session: Session, *, caller: Caller) -> list[dict[str, Any]]:
    """Every sector, in the order they were added, each with the active departments that supervise it."""
    rows = session.execute(select(Sector.code, Sector.name, Sector.name_en).order_by(Sector.id)).mappings().all()
    supervising: dict[str, list[int]] = {row["code"]: [] for row in rows}
    active = select(Department.id, Department.sectors).where(
        Department.retired_at.is_(None), *scope_clauses(caller, Department)
    )
    for department_id, codes in session.execute(active.order_by(Department.id)):
        for code in codes:
            supervising.setdefault(code, []).append(department_id)
    return [{**row, "department_ids": supervising[row["code"]]} for row in rows]


def sector_codes(session: Session, *, caller: Caller) -> set[str]:
    return set(session.scalars(select(Sector.code)))


def departments_of_sector(session: Session, *, caller: Caller, sector: str) -> list[int]:
    """The active departments that supervise `sector`, by id (the default supervisors of its enterprises)."""
    rows = session.execute(select(Department.id, Department.sectors).where(Department.retired_at.is_(None)))
    return sorted(department_id for department_id, codes in rows if sector in codes)


def department_listing(
    *, caller: Caller, sector: str | None = None, name: str | None = None, include_retired: bool = False
) -> Listing:
    """Departments by code. (A few dozen per county: the filters need no index of their own.)"""
    clauses: list[Any] = scope_clauses(caller, Department)
    if name:
        clauses.append(Department.name.contains(name, autoescape=True))
    if sector:
        # JSON lists are compared as text on both backends: the codes are quoted in it, so '"gas"' is exact.
        clauses.append(cast(Department.sectors, String).contains(f'"{sector}"', autoescape=True))
    if not include_retired:
        clauses.append(Department.retired_at.is_(None))
    return Listing(DEPARTMENT_SELECT, tuple(clauses), (Department.code,))


def department_row(session: Session, *, caller: Caller, department_id: int) -> dict[str, Any]:
    return row_in_scope(
        session, caller=caller, stmt=DEPARTMENT_SELECT, model=Department, record_id=department_id, what="department"
    )


def get_department(session: Session, *, caller: Caller, department_id: int) -> Department:
    return record_in_scope(session, caller=caller, model=Department, record_id=department_id, what="department")
