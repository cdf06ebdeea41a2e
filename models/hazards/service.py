"""Writing the hazard ledger: report a hazard, then take the signed steps of its life (`models.hazards.rules`).
Each public function is one transaction; every step is kept as a `HazardStep`, and the hazard's own changes go to the
audit trail as any register's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from geo import SRID
from models import locks
from models.accounts.model import User
from models.base import check_version, commit_guarded, county_today, county_zone, utcnow, write_transaction
from models.departments.queries import departments_of_sector, sector_codes
from models.enterprises.model import Enterprise
from models.enterprises.places import derive_places_again, places_of
from models.errors import Conflict, NotFound, RuleViolation
from models.hazards.model import (
    FIVE_IMPLEMENTATIONS,
    IN_PLACE,
    TRANSITIONS,
    Action,
    Hazard,
    HazardDepartment,
    HazardStep,
    Severity,
    Status,
)
from models.hazards.queries import get_hazard
from models.hazards.rules import check_allowed, check_signer, missing_implementations
from models.listing import prefix_clause
from models.roles import Caller, Role
from models.scope import in_scope, record_in_scope
from models.territory.guards import boundary_changed
from models.territory.model import Level, Township

_OUT_OF_SCOPE = {
    Role.TOWNSHIP_LEADER: "a township leader reports hazards in their own township",
    Role.GRID_OFFICER: "a grid officer reports hazards in the cells they are assigned to now",
    Role.DEPARTMENT_STAFF: "department staff report hazards at the enterprises, or in the sectors, their department "
    "supervises",
}


def _signer(session: Session, caller: Caller) -> dict[str, Any]:
    """Who signs: the user, by name as it reads at this moment, and their role."""
    name = caller.username
    if caller.user_id is not None:
        name = session.scalar(select(User.display_name).where(User.id == caller.user_id)) or name
    return {"signer_user_id": caller.user_id, "signer": name, "signer_role": caller.role.value}


def _step(
    session: Session,
    hazard: Hazard,
    signer: dict[str, Any],
    action: Action,
    from_status: str | None,
    *,
    at: datetime,
    comment: str | None,
    details: dict[str, Any],
) -> None:
    session.add(
        HazardStep(
            hazard_id=hazard.id,
            township_id=hazard.township_id,
            action=action.value,
            from_status=from_status,
            to_status=hazard.status,
            signed_at=at,
            comment=comment,
            details={k: (v.isoformat() if isinstance(v, date) else v) for k, v in details.items() if v is not None},
            **signer,
        )
    )


def _enterprise(session: Session, caller: Caller, enterprise_id: int) -> Enterprise:
    try:
        enterprise = record_in_scope(
            session, caller=caller, model=Enterprise, record_id=enterprise_id, what="enterprise"
        )
    except NotFound as exc:
        raise RuleViolation(exc.detail, code="enterprise-not-found", pointer="/enterprise_id") from exc
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


def report_hazard(
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
    unless the sector is given."""
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
    signer = _signer(session, caller)
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
        session.rollback()
        raise RuleViolation(
            f"this hazard would lie outside your scope: {_OUT_OF_SCOPE.get(caller.role, '')}",
            code="hazard-outside-scope",
            pointer="/position",
        )
    _step(
        session,
        hazard,
        signer,
        Action.REPORT,
        None,
        at=now,
        comment=comment,
        details={"severity": hazard.severity, "found_at": found_at.isoformat()},
    )
    session.commit()
    return hazard


def _check_deadline(value: date, pointer: str) -> None:
    if value < county_today():
        raise RuleViolation("a deadline lies ahead, not in the past", code="deadline-in-past", pointer=pointer)


def plan_hazard(
    session: Session,
    *,
    caller: Caller,
    hazard_id: int,
    expected_version: int | None,
    plan: dict[str, Any],
    comment: str | None = None,
) -> Hazard:
    """Set the five implementations (五落实) of a hazard, all at once: the parts not given are cleared."""
    write_transaction(session, locks.hazard(hazard_id))
    hazard = get_hazard(session, caller=caller, hazard_id=hazard_id)
    check_version(hazard, expected_version)
    check_allowed(hazard, Action.PLAN)
    check_signer(caller, hazard, Action.PLAN)
    if plan.get("deadline") is not None:
        _check_deadline(plan["deadline"], "/deadline")
    stored = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in plan.items() if k in FIVE_IMPLEMENTATIONS}
    stored = {k: v for k, v in stored.items() if v not in (None, "")}
    now = utcnow()
    if stored != hazard.five_implementations:
        hazard.five_implementations = stored
        hazard.updated_at = now
    details = {**stored, "missing": missing_implementations(stored)}
    _step(
        session, hazard, _signer(session, caller), Action.PLAN, hazard.status, at=now, comment=comment, details=details
    )
    commit_guarded(session)
    return hazard


def take_step(
    session: Session,
    *,
    caller: Caller,
    hazard_id: int,
    action: Action,
    expected_version: int | None,
    comment: str | None = None,
    deadline: date | None = None,
    responsible_person: str | None = None,
    rectifier: str | None = None,
) -> Hazard:
    """Take one step of the hazard's life (see `models.hazards.rules`), signed by the caller:

    - start_rectification: `deadline` and `responsible_person`; a major hazard only with its five implementations;
    - rectify_on_the_spot, rectified: `rectifier` (the person who did the work) and `comment`;
    - accept: `comment`; reject: `comment` (the reason) and `deadline` (the re-check deadline, 复查);
    - void: `comment` (the reason).
    """
    if action in IN_PLACE or action is Action.REPORT:
        raise ValueError(f"{action} is not a step between states")
    write_transaction(session, locks.hazard(hazard_id))
    hazard = get_hazard(session, caller=caller, hazard_id=hazard_id)
    check_version(hazard, expected_version)
    check_allowed(hazard, action)
    check_signer(caller, hazard, action)
    details: dict[str, Any] = {}
    if action is Action.START_RECTIFICATION:
        if hazard.severity == Severity.MAJOR:
            missing = missing_implementations(hazard.five_implementations)
            if missing:
                raise RuleViolation(
                    "a major hazard starts rectification only with its five implementations complete (PUT its "
                    f"five-implementations); missing: {', '.join(missing)}",
                    code="five-implementations-incomplete",
                    missing=missing,
                )
        _check_deadline(deadline, "/deadline")  # type: ignore[arg-type]
        hazard.deadline, hazard.responsible_person = deadline, responsible_person
        details = {"deadline": deadline, "responsible_person": responsible_person}
    elif action is Action.REJECT:
        _check_deadline(deadline, "/deadline")  # type: ignore[arg-type]
        hazard.deadline = deadline
        details = {"deadline": deadline}
    now = utcnow()
    if action in (Action.RECTIFY_ON_THE_SPOT, Action.RECTIFIED):
        hazard.rectified_by_user_id, hazard.rectified_at = caller.user_id, now
        details = {"rectifier": rectifier}
    elif action is Action.ACCEPT:
        hazard.closed_at = now
        hazard.closed_on_time = hazard.deadline is None or now.astimezone(county_zone()).date() <= hazard.deadline
    elif action is Action.VOID:
        hazard.voided_at = now
    before = hazard.status
    hazard.status = TRANSITIONS[Status(before)][action].value
    hazard.updated_at = now
    _step(session, hazard, _signer(session, caller), action, before, at=now, comment=comment, details=details)
    commit_guarded(session)
    return hazard


@boundary_changed.register(locks.places)
def follow_boundary(
    session: Session, *, caller: Caller, level: Level, unit: Any, old_boundary: BaseGeometry | None
) -> None:
    """Hazards follow a boundary drawn, redrawn or retired, as enterprises do (their numbers stay)."""
    derive_places_again(session, caller=caller, model=Hazard, level=level, unit=unit, old_boundary=old_boundary)
