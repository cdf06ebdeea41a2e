"""Reading the hazard ledger in the caller's scope: one hazard, its steps, a list with its filters. Never commits."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from geo.nearby import Nearby, in_box
from models.base import county_today, dialect_of
from models.enterprises.model import Enterprise
from models.hazards.model import OPEN_STATUSES, Hazard, HazardDepartment, HazardStep
from models.listing import Listing
from models.reads import read_rows
from models.roles import Caller
from models.scope import built_once, record_in_scope, row_in_scope, scope_clauses, scope_values

# Every column but the geometry (the point is answered from lon and lat), and the enterprise's name for the ledger.
HAZARD_SELECT = select(
    *[c for c in Hazard.__table__.columns if c.key != "location"],
    select(Enterprise.name).where(Enterprise.id == Hazard.enterprise_id).scalar_subquery().label("enterprise_name"),
)
STEP_SELECT = select(*HazardStep.__table__.columns)
_OPEN = [s.value for s in OPEN_STATUSES]


def overdue_clause(today: Any) -> ColumnElement[bool]:
    """Open, and past its deadline (a date in the county: the deadline's day is still in time)."""
    return and_(Hazard.status.in_(_OPEN), Hazard.deadline < today)


def is_overdue(row: dict[str, Any], today: date | None = None) -> bool:
    return row["status"] in _OPEN and row["deadline"] is not None and row["deadline"] < (today or county_today())


def hazard_row(session: Session, *, caller: Caller, hazard_id: int) -> dict[str, Any]:
    return row_in_scope(session, caller=caller, stmt=HAZARD_SELECT, model=Hazard, record_id=hazard_id, what="hazard")


def get_hazard(session: Session, *, caller: Caller, hazard_id: int) -> Hazard:
    return record_in_scope(session, caller=caller, model=Hazard, record_id=hazard_id, what="hazard")


def hazard_steps(session: Session, *, caller: Caller, hazard_id: int) -> list[dict[str, Any]]:
    """Every signed step of the hazard, oldest first (404 when the hazard is not the caller's to see)."""
    hazard_row(session, caller=caller, hazard_id=hazard_id)
    return read_rows(
        session, STEP_SELECT.where(HazardStep.hazard_id == bindparam("h")).order_by(HazardStep.id), {"h": hazard_id}
    )


def hazard_filters(
    *,
    status: str | None = None,
    severity: str | None = None,
    source: str | None = None,
    kind: str | None = None,
    sector: str | None = None,
    enterprise_id: int | None = None,
    township_id: int | None = None,
    village_id: int | None = None,
    cell_id: int | None = None,
    number: str | None = None,
    department_id: int | None = None,
    overdue: bool | None = None,
    listed: bool | None = None,
    referred_department_id: int | None = None,
    found_from: datetime | None = None,
    found_before: datetime | None = None,
) -> list[Any]:
    """The WHERE clauses of the filters every hazard question offers."""
    clauses: list[Any] = []
    for column, value in (
        (Hazard.status, status),
        (Hazard.severity, severity),
        (Hazard.source, source),
        (Hazard.kind, kind),
        (Hazard.sector, sector),
        (Hazard.enterprise_id, enterprise_id),
        (Hazard.township_id, township_id),
        (Hazard.village_id, village_id),
        (Hazard.cell_id, cell_id),
        (Hazard.number, number),
    ):
        if value is not None:
            clauses.append(column == value)
    if department_id is not None:
        clauses.append(
            Hazard.id.in_(select(HazardDepartment.hazard_id).where(HazardDepartment.department_id == department_id))
        )
    if overdue is not None:
        today = county_today()
        clauses.append(
            overdue_clause(today)
            if overdue
            else or_(Hazard.status.not_in(_OPEN), Hazard.deadline.is_(None), Hazard.deadline >= today)
        )
    if listed is not None:
        clauses.append(Hazard.listed_level.is_not(None) if listed else Hazard.listed_level.is_(None))
    if referred_department_id is not None:
        clauses.append(Hazard.referred_department_id == referred_department_id)
    if found_from is not None:
        clauses.append(Hazard.found_at >= found_from)
    if found_before is not None:
        clauses.append(Hazard.found_at < found_before)
    return clauses


def hazard_listing(*, caller: Caller, **filters: Any) -> Listing:
    """Hazards in the caller's scope, newest found first (then by id), filtered (see `hazard_filters`)."""
    listing = built_once(
        ("hazard-list",),
        caller,
        lambda: Listing(HAZARD_SELECT, tuple(scope_clauses(caller, Hazard)), (Hazard.found_at, Hazard.id), True),
    )
    return replace(listing.filtered(*hazard_filters(**filters)), params=scope_values(caller))


# ---- by place: near a point, in a map's box ---------------------------------------------------------------------


def hazards_within_radius(
    session: Session, *, caller: Caller, lon: float, lat: float, radius_m: float, limit: int, **filters: Any
) -> tuple[list[dict[str, Any]], bool]:
    """The hazards within `radius_m` (geodesic) of the point, nearest first (ties by id), each with `distance_m`,
    at most `limit`, through the spatial index (`geo.nearby`); and whether more lie within the radius."""
    dialect = dialect_of(session)
    base = HAZARD_SELECT.where(*scope_clauses(caller, Hazard), *hazard_filters(**filters))
    nearby = Nearby.build(dialect, base, Hazard.location)
    read = lambda stmt, params: read_rows(session, stmt, params)  # noqa: E731
    rows = nearby.within_radius(read, scope_values(caller), lon, lat, radius_m, limit + 1)
    return rows[:limit], len(rows) > limit


def hazard_box_listing(
    *, caller: Caller, dialect: str, bounds: tuple[float, float, float, float], **filters: Any
) -> Listing:
    """The hazards inside the box (edges included), by id: a map's view, page after page."""
    clauses = [*scope_clauses(caller, Hazard), *hazard_filters(**filters), in_box(dialect, Hazard.location, bounds)]
    return Listing(HAZARD_SELECT, tuple(clauses), (Hazard.id,), params=scope_values(caller))
