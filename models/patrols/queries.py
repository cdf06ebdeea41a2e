"""Reading patrol records in the caller's scope: one (with its check-ins), its track, a list; the check-ins (an
enterprise's visits). Never commits."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from models.hazards.model import Hazard
from models.listing import Listing
from models.patrols.model import Patrol, PatrolCell, PatrolCheckIn, PatrolFinding, PatrolOfficer
from models.reads import read_rows
from models.roles import Caller
from models.scope import built_once, row_in_scope, scope_clauses, scope_values
from models.territory.model import GridCell

_INTERNAL = ("track", "reach", "points", "content_sha256", "flag_codes")
PATROL_SELECT = select(*[c for c in Patrol.__table__.columns if c.key not in _INTERNAL])
CHECK_IN_SELECT = select(*PatrolCheckIn.__table__.columns).where(PatrolCheckIn.patrol_id == bindparam("p"))
FINDING_SELECT = (
    select(
        PatrolFinding.hazard_id,
        Hazard.number,
        Hazard.status,
        Hazard.severity,
        PatrolFinding.check_in_id,
        PatrolCheckIn.seq.label("check_in_seq"),
        PatrolFinding.seq,
    )
    .join(Hazard, Hazard.id == PatrolFinding.hazard_id)
    .outerjoin(PatrolCheckIn, PatrolCheckIn.id == PatrolFinding.check_in_id)
    .where(PatrolFinding.patrol_id == bindparam("p"))
    .order_by(PatrolCheckIn.seq.is_(None), PatrolCheckIn.seq, PatrolFinding.seq)  # check-ins first
)


def patrol_row(session: Session, *, caller: Caller, patrol_id: int) -> dict[str, Any]:
    """The patrol with its check-ins and the hazards it found (404 out of scope)."""
    row = row_in_scope(session, caller=caller, stmt=PATROL_SELECT, model=Patrol, record_id=patrol_id, what="patrol")
    row["check_ins"] = read_rows(session, CHECK_IN_SELECT.order_by(PatrolCheckIn.seq, PatrolCheckIn.id),
                                 {"p": patrol_id})  # fmt: skip
    row["findings"] = read_rows(session, FINDING_SELECT, {"p": patrol_id})
    return row


def patrol_points(session: Session, *, caller: Caller, patrol_id: int) -> list[list[Any]]:
    """The fixes kept for the patrol, oldest first (404 out of scope)."""
    stmt = select(Patrol.id, Patrol.points)
    return row_in_scope(session, caller=caller, stmt=stmt, model=Patrol, record_id=patrol_id, what="patrol")["points"]


def patrol_listing(
    *,
    caller: Caller,
    kind: str | None = None,
    township_id: int | None = None,
    village_id: int | None = None,
    cell_id: int | None = None,
    officer_id: int | None = None,
    recorded_by_user_id: int | None = None,
    started_from: datetime | None = None,
    started_before: datetime | None = None,
    flagged: bool | None = None,
    flag: str | None = None,
) -> Listing:
    """Patrols in the caller's scope, newest started first (then by id), filtered."""
    listing = built_once(
        ("patrol-list",),
        caller,
        lambda: Listing(PATROL_SELECT, tuple(scope_clauses(caller, Patrol)), (Patrol.started_at, Patrol.id), True),
    )
    clauses: list[Any] = []
    for column, value in ((Patrol.kind, kind), (Patrol.township_id, township_id),
                          (Patrol.recorded_by_user_id, recorded_by_user_id)):  # fmt: skip
        if value is not None:
            clauses.append(column == value)
    if village_id is not None:
        in_village = select(PatrolCell.patrol_id).join(GridCell, GridCell.id == PatrolCell.cell_id)
        clauses.append(Patrol.id.in_(in_village.where(GridCell.village_id == village_id)))
    if cell_id is not None:
        clauses.append(Patrol.id.in_(select(PatrolCell.patrol_id).where(PatrolCell.cell_id == cell_id)))
    if officer_id is not None:
        clauses.append(Patrol.id.in_(select(PatrolOfficer.patrol_id).where(PatrolOfficer.officer_id == officer_id)))
    if started_from is not None:
        clauses.append(Patrol.started_at >= started_from)
    if started_before is not None:
        clauses.append(Patrol.started_at < started_before)
    if flagged is not None:
        clauses.append(Patrol.flag_codes != " " if flagged else Patrol.flag_codes == " ")
    if flag is not None:
        clauses.append(Patrol.flag_codes.contains(f" {flag} ", autoescape=True))
    return replace(listing.filtered(*clauses), params=scope_values(caller))


VISIT_SELECT = select(
    *PatrolCheckIn.__table__.columns,
    Patrol.uuid.label("patrol_uuid"),
    Patrol.kind,
    Patrol.officer_ids,
    Patrol.user_ids,
    Patrol.person_visits,
).join(Patrol, Patrol.id == PatrolCheckIn.patrol_id)


def check_in_listing(
    *,
    caller: Caller,
    enterprise_id: int | None = None,
    officer_id: int | None = None,
    result: str | None = None,
    at_from: datetime | None = None,
    at_before: datetime | None = None,
) -> Listing:
    """Check-ins (visits to enterprises) of the patrols in the caller's scope, the latest first (then by id),
    with their patrol's kind and participants; filtered by enterprise, participating officer, result and time."""
    listing = built_once(
        ("check-in-list",),
        caller,
        lambda: Listing(VISIT_SELECT, tuple(scope_clauses(caller, Patrol)), (PatrolCheckIn.at, PatrolCheckIn.id), True),
    )
    clauses: list[Any] = []
    if enterprise_id is not None:
        clauses.append(PatrolCheckIn.enterprise_id == enterprise_id)
    if officer_id is not None:
        clauses.append(Patrol.id.in_(select(PatrolOfficer.patrol_id).where(PatrolOfficer.officer_id == officer_id)))
    if result is not None:
        clauses.append(PatrolCheckIn.result == result)
    if at_from is not None:
        clauses.append(PatrolCheckIn.at >= at_from)
    if at_before is not None:
        clauses.append(PatrolCheckIn.at < at_before)
    return replace(listing.filtered(*clauses), params=scope_values(caller))
