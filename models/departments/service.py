"""Writing sectors and departments (county administrators). Each public function is one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import locks
from models.base import UNSET, check_version, commit_guarded, utcnow, write_transaction
from models.departments.guards import department_retiring, department_sectors_changed
from models.departments.model import Department, Sector
from models.departments.queries import get_department, sector_codes
from models.errors import Conflict, RuleViolation
from models.roles import Caller


def create_sector(session: Session, *, caller: Caller, code: str, name: str, name_en: str) -> Sector:
    """Add a sector to the county's list (codes and names are unique)."""
    write_transaction(session, locks.departments())
    if session.scalar(select(Sector.id).where(Sector.code == code)) is not None:
        raise Conflict(f"a sector with code {code!r} already exists", code="sector-code-taken")
    if session.scalar(select(Sector.id).where(Sector.name == name)) is not None:
        raise Conflict(f"a sector named {name!r} already exists", code="sector-name-taken")
    sector = Sector(code=code, name=name, name_en=name_en, created_at=utcnow())
    session.add(sector)
    session.commit()
    return sector


def _checked_sectors(session: Session, caller: Caller, codes: Sequence[str]) -> list[str]:
    known = sector_codes(session, caller=caller)
    unknown = sorted(set(codes) - known)
    if unknown:
        raise RuleViolation(
            f"no such sector: {', '.join(unknown)} (GET /api/v1/sectors lists them)",
            code="sector-unknown",
            pointer="/sectors",
        )
    return sorted(set(codes))


def _taken(session: Session, column: Any, value: str | None, department_id: int | None) -> int | None:
    if value is None:
        return None
    return session.scalar(select(Department.id).where(column == value, Department.id != (department_id or 0)))


def _refuse_taken(session: Session, *, code: str | None, name: str | None, department_id: int | None) -> None:
    existing = _taken(session, Department.code, code, department_id)
    if existing is not None:
        raise Conflict(
            f"a department with code {code!r} already exists", code="department-code-taken", existing_id=existing
        )
    existing = _taken(session, Department.name, name, department_id)
    if existing is not None:
        raise Conflict(
            f"a department named {name!r} already exists", code="department-name-taken", existing_id=existing
        )


def create_department(
    session: Session,
    *,
    caller: Caller,
    code: str,
    name: str,
    sectors: Sequence[str] = (),
    duty_phone: str | None = None,
) -> Department:
    """Add a department with the sectors it supervises."""
    write_transaction(session, locks.departments(), *department_sectors_changed.locks(0))
    _refuse_taken(session, code=code, name=name, department_id=None)
    now = utcnow()
    department = Department(
        code=code,
        name=name,
        duty_phone=duty_phone,
        sectors=_checked_sectors(session, caller, sectors),
        created_at=now,
        updated_at=now,
    )
    session.add(department)
    session.flush()
    department_sectors_changed.run(session, caller=caller, department=department)
    session.commit()
    return department


def update_department(
    session: Session,
    *,
    caller: Caller,
    department_id: int,
    expected_version: int | None,
    code: str | None = None,
    name: str | None = None,
    sectors: Sequence[str] | None = None,
    duty_phone: str | None = UNSET,
) -> Department:
    """Rename a department, change its phone or the sectors it supervises (higher domains follow the sectors: see
    `department_sectors_changed`)."""
    write_transaction(session, locks.departments(), *department_sectors_changed.locks(department_id))
    department = get_department(session, caller=caller, department_id=department_id)
    check_version(department, expected_version)
    if department.retired_at is not None:
        raise Conflict(f"department {department.code} is retired and can no longer change", code="department-retired")
    new_sectors = _checked_sectors(session, caller, sectors) if sectors is not None else department.sectors
    _refuse_taken(
        session,
        code=code if code != department.code else None,
        name=name if name != department.name else None,
        department_id=department.id,
    )
    if code is not None:
        department.code = code
    if name is not None:
        department.name = name
    if duty_phone is not UNSET:
        department.duty_phone = duty_phone
    if new_sectors != department.sectors:  # (read before any change: a query would flush a first version)
        department.sectors = new_sectors
    if session.is_modified(department):
        department.updated_at = utcnow()
        department_sectors_changed.run(session, caller=caller, department=department)
    commit_guarded(session)
    return department


def retire_department(
    session: Session, *, caller: Caller, department_id: int, expected_version: int | None
) -> Department:
    """The department is abolished or merged away: it stays in the records, supervises nothing new. Refused while
    higher domains still hang on it (active staff accounts, enterprises it alone supervises). Retiring twice is
    harmless."""
    write_transaction(
        session,
        locks.departments(),
        *department_retiring.locks(department_id),
        *department_sectors_changed.locks(department_id),
    )
    department = get_department(session, caller=caller, department_id=department_id)
    check_version(department, expected_version)
    if department.retired_at is None:
        department_retiring.run(session, caller=caller, department=department)
        department.retired_at = department.updated_at = utcnow()
        department_sectors_changed.run(session, caller=caller, department=department)
    commit_guarded(session)
    return department
