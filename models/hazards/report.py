"""Reporting hazards and correcting a report: where a hazard is (its enterprise, its point, the place derived from
it and kept true when boundaries are redrawn), what it is, and its number in its township's ledger. Each public
function is one transaction; the steps that follow are `models.hazards.service`'s.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from geo import SRID
from models import locks
from models.base import check_version, commit_guarded, county_zone, utcnow, write_transaction
from models.departments.queries import departments_of_sector, sector_codes
from models.enterprises.model import Enterprise
from models.enterprises.places import derive_places_again, places_of
from models.enterprises.queries import named_enterprise
from models.errors import Conflict, RuleViolation
from models.hazards.model import (
    Action,
    Hazard,
    HazardDepartment,
    Status,
)
from models.hazards.queries import get_hazard
from models.hazards.rules import check_signer
from models.hazards.service import sign_step, signer_of
from models.listing import prefix_clause
from models.roles import Caller, Role
from models.scope import in_scope
from models.territory.guards import boundary_changed
from models.territory.model import Level, Township

_OUT_OF_SCOPE = {
    Role.TOWNSHIP_LEADER: "a township leader reports hazards in their own township",
    Role.GRID_OFFICER: "a grid officer reports hazards in the cells they are assigned to now",
    Role.DEPARTMENT_STAFF: "department staff report hazards at the enterprises, or in the sectors, their department "
    "supervises",
}


def _enterprise(session: Session, caller: Caller, enterprise_id: int) -> Enterprise:
    enterprise = named_enterprise(session, caller=caller, enterprise_id=enterprise_id)
    if enterprise.closed_at is not None:
        raise Conflict(
            f"enterprise {enterprise_id} is closed: a hazard there is reported without it, by its place",
            code="enterprise-closed",
        )
    return enterprise


def _number(session: Session, township_id: int | None, year: int) -> tuple[str, int]:
    """The next number of the township's ledger for the year (its lock held): 430199101-2026-0007."""
    code = session.scalar(select(Township.code).where(Township.id == township_id)) if township_id else None
    prefix = f"{code or 'county'}-{year}-"
    last = session.scalar(select(func.max(Hazard.seq)).where(prefix_clause(Hazard.number, prefix))) or 0
    return f"{prefix}{last + 1:04d}", last + 1


def report_hazard(session: Session, *, caller: Caller, **report: Any) -> Hazard:
    """Report a hazard (see `add_report`) in a transaction of its own."""
    hazard = add_report(session, caller=caller, **report)
    session.commit()
    return hazard


def add_report(
    session: Session,
    *,
    caller: Caller,
    description: str,
    kind: str,
    severity: str,
    source: str,
    lon: float | None = None,
    lat: float | None = None,
    enterprise_id: int | None = None,
    place_description: str | None = None,
    sector: str | None = None,
    found_at: datetime | None = None,
    comment: str | None = None,
) -> Hazard:
    """Report a hazard at a WGS-84 point (by default its enterprise's), signed by the caller as its finder. Its
    place (cell, village, township) is derived from the point; its sector and departments from its enterprise
    unless the sector is given. Within the caller's write transaction (a patrol's findings land with the patrol):
    never commits; on a refusal the caller rolls back."""
    check_signer(caller, None, Action.REPORT)
    write_transaction(session, locks.places())
    enterprise = _enterprise(session, caller, enterprise_id) if enterprise_id is not None else None
    if enterprise is None and not place_description:
        raise RuleViolation(
            "say where the hazard is: an enterprise (enterprise_id) or a place description",
            code="place-required",
            pointer="/place_description",
        )
    if sector is None and enterprise is None:
        raise RuleViolation(
            "a hazard away from any enterprise needs its sector", code="sector-required", pointer="/sector"
        )
    sector = sector or enterprise.sector  # type: ignore[union-attr]
    if sector not in sector_codes(session, caller=caller):
        raise RuleViolation(
            f"no such sector: {sector} (GET /api/v1/sectors lists them)", code="sector-unknown", pointer="/sector"
        )
    if lon is None or lat is None:
        if enterprise is None:
            raise RuleViolation(
                "a hazard away from any enterprise needs its position", code="position-required", pointer="/position"
            )
        lon, lat = enterprise.lon, enterprise.lat
    now = utcnow()
    found_at = found_at or now
    if found_at > now:
        raise RuleViolation(
            "a hazard is found in the past, not in the future", code="time-in-future", pointer="/found_at"
        )
    place = places_of(session, caller=caller, points=[(lon, lat)])[0]
    year = found_at.astimezone(county_zone()).year
    write_transaction(session, locks.hazard_numbers(place.township_id, year))
    number, seq = _number(session, place.township_id, year)
    departments = (
        list(enterprise.department_ids)
        if enterprise is not None and enterprise.sector == sector
        else departments_of_sector(session, caller=caller, sector=sector)
    )
    signer = signer_of(session, caller=caller)
    hazard = Hazard(
        number=number,
        year=year,
        seq=seq,
        enterprise_id=enterprise_id,
        place_description=place_description,
        description=description,
        kind=str(kind),
        sector=sector,
        severity=str(severity),
        source=str(source),
        found_by_user_id=caller.user_id,
        found_by=signer["signer"],
        found_at=found_at,
        location=from_shape(Point(lon, lat), srid=SRID),
        lon=lon,
        lat=lat,
        cell_id=place.cell_id,
        village_id=place.village_id,
        township_id=place.township_id,
        department_ids=departments,
        status=Status.REPORTED.value,
        five_implementations={},
        created_at=now,
        updated_at=now,
    )
    session.add(hazard)
    session.flush()
    if departments:
        session.execute(
            insert(HazardDepartment.__table__), [{"hazard_id": hazard.id, "department_id": d} for d in departments]
        )
    if not in_scope(session, caller=caller, model=Hazard, record_id=hazard.id):
        raise RuleViolation(
            f"this hazard would lie outside your scope: {_OUT_OF_SCOPE.get(caller.role, '')}",
            code="hazard-outside-scope",
            pointer="/position",
        )
    details = {"severity": hazard.severity, "found_at": found_at.isoformat()}
    sign_step(session, caller=caller, hazard=hazard, action=Action.REPORT, from_status=None, at=now, comment=comment,
              details=details, signer=signer)  # fmt: skip
    return hazard


@boundary_changed.register(locks.places)
def follow_boundary(
    session: Session, *, caller: Caller, level: Level, unit: Any, old_boundary: BaseGeometry | None
) -> None:
    """Hazards follow a boundary drawn, redrawn or retired, as enterprises do (their numbers stay)."""
    derive_places_again(session, caller=caller, model=Hazard, level=level, unit=unit, old_boundary=old_boundary)


CORRECTABLE = ("description", "kind", "severity", "source", "sector", "place_description")


def correct_hazard(
    session: Session,
    *,
    caller: Caller,
    hazard_id: int,
    expected_version: int | None,
    lon: float | None = None,
    lat: float | None = None,
    **fields: Any,
) -> Hazard:
    """Correct what was reported (a wrong kind, a general hazard that review finds major, a better position) while
    it is still only reported: once its rectification has started, its steps are its record. Each change is in the
    audit trail; a new position derives its place again and must keep it in the caller's scope."""
    write_transaction(session, locks.places(), locks.hazard(hazard_id))
    hazard = get_hazard(session, caller=caller, hazard_id=hazard_id)
    check_version(hazard, expected_version)
    if hazard.status != Status.REPORTED.value:
        raise Conflict(
            f"a hazard that is {hazard.status} is no longer corrected: its steps are its record",
            code="hazard-not-correctable",
        )
    check_signer(caller, hazard, Action.PLAN)  # those who decide its handling
    if fields.get("sector") is not None and fields["sector"] not in sector_codes(session, caller=caller):
        raise RuleViolation(f"no such sector: {fields['sector']}", code="sector-unknown", pointer="/sector")
    if "place_description" in fields and fields["place_description"] is None and hazard.enterprise_id is None:
        raise RuleViolation("a hazard away from any enterprise keeps its place description", code="place-required",
                            pointer="/place_description")  # fmt: skip
    for key in CORRECTABLE:
        if key not in fields or (fields[key] is None and key != "place_description"):
            continue
        value = str(fields[key]) if key in ("kind", "severity", "source") else fields[key]
        if value != getattr(hazard, key):
            setattr(hazard, key, value)
    if lon is not None and lat is not None and (lon, lat) != (hazard.lon, hazard.lat):
        place = places_of(session, caller=caller, points=[(lon, lat)])[0]
        hazard.location, hazard.lon, hazard.lat = from_shape(Point(lon, lat), srid=SRID), lon, lat
        hazard.cell_id, hazard.village_id, hazard.township_id = place.cell_id, place.village_id, place.township_id
    if not session.is_modified(hazard):
        session.rollback()
        return hazard
    hazard.updated_at = utcnow()
    session.flush()
    if not in_scope(session, caller=caller, model=Hazard, record_id=hazard.id):
        session.rollback()
        raise RuleViolation(f"this would move the hazard outside your scope: {_OUT_OF_SCOPE.get(caller.role, '')}",
                            code="hazard-outside-scope", pointer="/position")  # fmt: skip
    commit_guarded(session)
    return hazard
