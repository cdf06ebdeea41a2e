"""Writing enterprises: register, change, close. Each public function is one transaction.

Who writes: the county administrator anywhere; a township leader the enterprises that stand in their township (a
new location must keep it there). Department staff and grid officers read. The place (cell, village, township) is
derived from the location, and the supervising departments from the sector unless given by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from geo import SRID
from models import locks
from models.base import UNSET, check_version, commit_guarded, utcnow, write_transaction
from models.departments.guards import department_sectors_changed
from models.departments.model import Department
from models.departments.queries import departments_of_sector, sector_codes
from models.enterprises.credit_code import credit_code_problem
from models.enterprises.model import Enterprise, EnterpriseDepartment, KeyLevel, RiskLevel, Status
from models.enterprises.places import Place, places_of, set_place
from models.enterprises.queries import get_enterprise
from models.errors import Conflict, RuleViolation
from models.roles import Caller
from models.scope import existing_id_if_visible

# What a change may set, besides the location, the sector and the departments (which have their own rules).
PLAIN_FIELDS = (
    "name", "risk_level", "major_hazard_grade", "key_level", "scale", "status", "licence_number",
    "licence_expires_on", "legal_representative", "safety_manager", "duty_phone", "address", "liaison_leader",
    "liaison_department_id",
)  # fmt: skip


def _check_credit_code(code: str) -> None:
    problem = credit_code_problem(code)
    if problem is None:
        return
    kind, message = problem
    if kind == "credit-code-check":
        raise RuleViolation(message, code="credit-code-check", pointer="/credit_code")
    raise RuleViolation(message, code="credit-code-format", pointer="/credit_code")


def _refuse_taken_code(session: Session, caller: Caller, code: str, enterprise_id: int | None) -> None:
    existing = session.scalar(
        select(Enterprise.id).where(
            Enterprise.credit_code == code, Enterprise.closed_at.is_(None), Enterprise.id != (enterprise_id or 0)
        )
    )
    if existing is not None:
        raise Conflict(
            f"a live enterprise already has the credit code {code}",
            code="credit-code-taken",
            **existing_id_if_visible(session, caller=caller, model=Enterprise, record_id=existing),
        )


def _check_sector(session: Session, caller: Caller, sector: str) -> None:
    if sector not in sector_codes(session, caller=caller):
        raise RuleViolation(
            f"no such sector: {sector} (GET /api/v1/sectors lists them)", code="sector-unknown", pointer="/sector"
        )


def _active_departments(session: Session, ids: Sequence[int], pointer: str) -> list[int]:
    wanted = sorted(set(ids))
    found = set(
        session.scalars(select(Department.id).where(Department.id.in_(wanted), Department.retired_at.is_(None)))
    )
    missing = [i for i in wanted if i not in found]
    if missing:
        raise RuleViolation(
            f"no active department with id {', '.join(map(str, missing))}", code="department-not-found", pointer=pointer
        )
    return wanted


def _set_departments(session: Session, enterprise: Enterprise, ids: list[int], *, new: bool = False) -> None:
    """The supervising departments, on the record (for its history) and as rows (for department staff's scope).
    Call it last in a write: it flushes."""
    if not new and enterprise.department_ids == ids:
        return
    enterprise.department_ids = ids
    session.flush()
    links = EnterpriseDepartment.__table__
    if not new:
        session.execute(delete(links).where(links.c.enterprise_id == enterprise.id))
    if ids:
        session.execute(insert(links), [{"enterprise_id": enterprise.id, "department_id": d} for d in ids])


def _place_for(session: Session, caller: Caller, lon: float, lat: float) -> Place:
    place = places_of(session, caller=caller, points=[(lon, lat)])[0]
    if not caller.county_wide and place.township_id != caller.township_id:
        raise RuleViolation(
            "the location lies outside your township: a township leader places enterprises in their own township",
            code="location-outside-township",
            pointer="/position",
        )
    return place


def _set_location(enterprise: Enterprise, lon: float, lat: float) -> None:
    enterprise.location = from_shape(Point(lon, lat), srid=SRID)
    enterprise.lon, enterprise.lat = lon, lat


def create_enterprise(
    session: Session,
    *,
    caller: Caller,
    name: str,
    credit_code: str,
    sector: str,
    lon: float,
    lat: float,
    department_ids: Sequence[int] | None = None,
    risk_level: str = RiskLevel.BLUE,
    key_level: str = KeyLevel.NONE,
    status: str = Status.OPERATING,
    **fields: Any,
) -> Enterprise:
    """Register an enterprise at a WGS-84 location (`lon`, `lat`); its place and departments follow."""
    _check_credit_code(credit_code)
    write_transaction(session, locks.places(), locks.credit_code(credit_code))
    _refuse_taken_code(session, caller, credit_code, None)
    _check_sector(session, caller, sector)
    chosen = _active_departments(session, department_ids, "/department_ids") if department_ids is not None else None
    if fields.get("liaison_department_id") is not None:
        _active_departments(session, [fields["liaison_department_id"]], "/liaison_department_id")
    place = _place_for(session, caller, lon, lat)
    derived = chosen if chosen is not None else departments_of_sector(session, caller=caller, sector=sector)
    now = utcnow()
    enterprise = Enterprise(
        name=name,
        credit_code=credit_code,
        sector=sector,
        departments_set=chosen is not None,
        risk_level=str(risk_level),
        key_level=str(key_level),
        status=str(status),
        created_at=now,
        updated_at=now,
        **{key: fields[key] for key in PLAIN_FIELDS if key in fields},
    )
    _set_location(enterprise, lon, lat)
    set_place(enterprise, place)
    session.add(enterprise)
    _set_departments(session, enterprise, derived, new=True)
    session.commit()
    return enterprise


def update_enterprise(
    session: Session,
    *,
    caller: Caller,
    enterprise_id: int,
    expected_version: int | None,
    lon: float | None = None,
    lat: float | None = None,
    credit_code: str | None = None,
    sector: str | None = None,
    department_ids: Sequence[int] | None = UNSET,
    **fields: Any,
) -> Enterprise:
    """Change an enterprise. `department_ids`: a list sets them by hand, None goes back to the sector's."""
    if credit_code is not None:
        _check_credit_code(credit_code)
    write_transaction(session, locks.places(), *([locks.credit_code(credit_code)] if credit_code else []))
    enterprise = get_enterprise(session, caller=caller, enterprise_id=enterprise_id)
    check_version(enterprise, expected_version)
    if enterprise.closed_at is not None:
        raise Conflict(f"enterprise {enterprise.id} is closed and can no longer change", code="enterprise-closed")
    if credit_code is not None and credit_code != enterprise.credit_code:
        _refuse_taken_code(session, caller, credit_code, enterprise.id)
    if sector is not None:
        _check_sector(session, caller, sector)
    set_by_hand = enterprise.departments_set if department_ids is UNSET else department_ids is not None
    if department_ids not in (None, UNSET):
        new_departments = _active_departments(session, department_ids, "/department_ids")
    elif not set_by_hand:
        new_departments = departments_of_sector(session, caller=caller, sector=sector or enterprise.sector)
    else:
        new_departments = enterprise.department_ids
    if fields.get("liaison_department_id") is not None:
        _active_departments(session, [fields["liaison_department_id"]], "/liaison_department_id")
    place = _place_for(session, caller, lon, lat) if lon is not None else None
    # (every read is done: from here on, only changes, so that one UPDATE makes one new version)
    if place is not None and (lon, lat) != (enterprise.lon, enterprise.lat):
        _set_location(enterprise, lon, lat)
        set_place(enterprise, place)
    if credit_code is not None:
        enterprise.credit_code = credit_code
    if sector is not None:
        enterprise.sector = sector
    for key in PLAIN_FIELDS:
        if key in fields and fields[key] != getattr(enterprise, key):
            setattr(enterprise, key, fields[key])
    if set_by_hand != enterprise.departments_set:
        enterprise.departments_set = set_by_hand
    if session.is_modified(enterprise) or new_departments != enterprise.department_ids:
        enterprise.updated_at = utcnow()
    _set_departments(session, enterprise, new_departments)
    commit_guarded(session)
    return enterprise


def close_enterprise(
    session: Session, *, caller: Caller, enterprise_id: int, expected_version: int | None, reason: str
) -> Enterprise:
    """Close the record (关闭: shut down, deregistered, or entered twice): it stays, with its history; its credit
    code is free for a new record. Closing twice is closing once."""
    write_transaction(session, locks.places())
    enterprise = get_enterprise(session, caller=caller, enterprise_id=enterprise_id)
    if enterprise.closed_at is not None:
        return enterprise
    check_version(enterprise, expected_version)
    enterprise.closed_at = enterprise.updated_at = utcnow()
    enterprise.status, enterprise.close_reason = Status.CLOSED.value, reason
    commit_guarded(session)
    return enterprise


@department_sectors_changed.register(locks.places)
def follow_department_sectors(session: Session, *, caller: Caller, department: Department) -> None:
    """A department's sectors changed, or it was added or retired: the enterprises whose departments follow their
    sector take theirs again."""
    affected = session.scalars(
        select(Enterprise).where(Enterprise.departments_set.is_(False), Enterprise.closed_at.is_(None))
    ).all()
    by_sector: dict[str, list[int]] = {}
    now = utcnow()
    for enterprise in affected:
        if enterprise.sector not in by_sector:
            by_sector[enterprise.sector] = departments_of_sector(session, caller=caller, sector=enterprise.sector)
        if by_sector[enterprise.sector] != enterprise.department_ids:
            enterprise.updated_at = now
            _set_departments(session, enterprise, by_sector[enterprise.sector])
