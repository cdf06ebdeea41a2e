"""Reading enterprises in the caller's scope: one, a list with its filters, never the raw geometry. Never commits."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from models.enterprises.model import Enterprise, EnterpriseDepartment
from models.errors import NotFound, RuleViolation
from models.listing import Listing
from models.roles import Caller
from models.scope import built_once, record_in_scope, row_in_scope, scope_clauses, scope_values
from models.search import name_search

# Every column but the geometry: the point is answered from lon and lat, which are the same numbers.
ENTERPRISE_SELECT = select(*[c for c in Enterprise.__table__.columns if c.key != "location"])


def enterprise_row(session: Session, *, caller: Caller, enterprise_id: int) -> dict[str, Any]:
    return row_in_scope(
        session, caller=caller, stmt=ENTERPRISE_SELECT, model=Enterprise, record_id=enterprise_id, what="enterprise"
    )


def get_enterprise(session: Session, *, caller: Caller, enterprise_id: int) -> Enterprise:
    return record_in_scope(session, caller=caller, model=Enterprise, record_id=enterprise_id, what="enterprise")


def named_enterprise(session: Session, *, caller: Caller, enterprise_id: int) -> Enterprise:
    """The enterprise a request body names (`enterprise_id`), in the caller's scope: one outside it, or missing, is
    a 422 `enterprise-not-found` of that field (the body is wrong, not the URL)."""
    try:
        return get_enterprise(session, caller=caller, enterprise_id=enterprise_id)
    except NotFound as exc:
        raise RuleViolation(exc.detail, code="enterprise-not-found", pointer="/enterprise_id") from exc


def enterprise_filters(
    *,
    township_id: int | None = None,
    village_id: int | None = None,
    cell_id: int | None = None,
    sector: str | None = None,
    department_id: int | None = None,
    risk_level: str | None = None,
    major_hazard: bool | None = None,
    key_level: str | None = None,
    status: str | None = None,
    licence_expires_before: date | None = None,
    unassigned: bool | None = None,
    credit_code: str | None = None,
    include_closed: bool = False,
) -> list[Any]:
    """The WHERE clauses of the filters every enterprise question offers (lists and the spatial questions alike)."""
    clauses: list[Any] = []
    for column, value in (
        (Enterprise.township_id, township_id),
        (Enterprise.village_id, village_id),
        (Enterprise.cell_id, cell_id),
        (Enterprise.sector, sector),
        (Enterprise.risk_level, risk_level),
        (Enterprise.key_level, key_level),
        (Enterprise.status, status),
        (Enterprise.credit_code, credit_code),
    ):
        if value is not None:
            clauses.append(column == value)
    if department_id is not None:
        supervised = select(EnterpriseDepartment.enterprise_id).where(
            EnterpriseDepartment.department_id == department_id
        )
        clauses.append(Enterprise.id.in_(supervised))
    if major_hazard is not None:
        clauses.append(
            Enterprise.major_hazard_grade.is_not(None) if major_hazard else Enterprise.major_hazard_grade.is_(None)
        )
    if licence_expires_before is not None:
        clauses.append(Enterprise.licence_expires_on < licence_expires_before)
    if unassigned is not None:
        clauses.append(Enterprise.cell_id.is_(None) if unassigned else Enterprise.cell_id.is_not(None))
    if not include_closed:
        clauses.append(Enterprise.closed_at.is_(None))
    return clauses


# Filters that change the form of a clause rather than a value in it: part of a statement's shape.
_SHAPING = frozenset({"major_hazard", "unassigned", "include_closed"})


def bound_filters(filters: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any], dict[str, Any]]:
    """For a statement built once per shape (`models.scope.built_once`): the shape of these filters (which are
    given, and the values of those that change a clause's form), the filters with each value a bound parameter
    (for `enterprise_clauses`), and the parameters' values."""
    given = {k: v for k, v in filters.items() if v is not None}
    shape = tuple(sorted((k, v if k in _SHAPING else None) for k, v in given.items()))
    bound = {k: v if k in _SHAPING else bindparam(f"filter_{k}") for k, v in given.items()}
    values = {f"filter_{k}": v for k, v in given.items() if k not in _SHAPING}
    return shape, bound, values


def enterprise_clauses(caller: Caller, **filters: Any) -> list[Any]:
    """The caller's scope and the filters (see `enterprise_filters`): the WHERE of every enterprise question."""
    return scope_clauses(caller, Enterprise) + enterprise_filters(**filters)


def enterprise_listing(*, caller: Caller, name: str | None = None, **filters: Any) -> Listing:
    """Enterprises in the caller's scope by name (then id), filtered (see `enterprise_filters`); `name`: a part of
    the name, through the shared n-gram index. Built once per shape of filters and scope, the values bound."""
    shape, bound, values = bound_filters(filters)
    listing = built_once(
        ("enterprise-list", shape),
        caller,
        lambda: Listing(
            ENTERPRISE_SELECT, tuple(enterprise_clauses(caller, **bound)), (Enterprise.name, Enterprise.id)
        ).with_first_page(),
    )
    listing = replace(listing, params={**values, **scope_values(caller)})
    return name_search(listing, Enterprise, name) if name else listing
