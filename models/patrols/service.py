"""Storing patrol records sent by phones: each record once, whatever the retries (see `models.patrols.model`).

`store_patrol` is one transaction per record: the patrol, its cells and its check-ins land together or not at all.
The record's UUID is its identity: sent again with the same content it answers the stored record ("stored"); with
other content it is refused (409 `patrol-uuid-reused`) and changes nothing. Two copies sent at once are serialised
on the UUID's lock, so the second finds the first.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson
from geoalchemy2.shape import from_shape
from pyproj import Geod
from shapely.geometry import LineString
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from geo import SRID
from models import locks
from models.accounts.model import User
from models.base import utcnow, write_transaction
from models.enterprises.model import Enterprise
from models.errors import Conflict, RuleViolation
from models.patrols.model import Patrol, PatrolCell, PatrolCheckIn, PatrolOfficer
from models.people.model import Officer
from models.roles import Caller, Role
from models.scope import scope_clauses, scope_values
from models.territory.model import GridCell

_GEOD = Geod(ellps="WGS84")
CREATED, STORED = "created", "stored"


def content_digest(record: dict[str, Any]) -> str:
    """The SHA-256 of the record as loaded (canonical JSON: keys sorted, times in UTC): the same content sent in
    another key order or time zone is the same record."""

    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        raise TypeError(type(value))

    return hashlib.sha256(orjson.dumps(record, option=orjson.OPT_SORT_KEYS, default=plain)).hexdigest()


def _missing(session: Session, caller: Caller, model: type, ids: list[int]) -> list[int]:
    """Those of the ids that name no record of `model` in the caller's scope."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    stmt = select(model.id).where(model.id.in_(wanted), *scope_clauses(caller, model))
    found = set(session.scalars(stmt, scope_values(caller)))
    return [i for i in wanted if i not in found]


def _listed(ids: list[int]) -> str:
    return ", ".join(map(str, ids))


def _fixes(points: list[dict[str, Any]]) -> list[list[Any]]:
    """The fixes sorted by time, each time once (the first fix of it kept)."""
    kept: dict[datetime, list[Any]] = {}
    for p in sorted(points, key=lambda p: p["at"]):
        kept.setdefault(p["at"], [p["at"].isoformat(), p["lon"], p["lat"], p.get("accuracy_m")])
    return list(kept.values())


def store_patrol(session: Session, *, caller: Caller, record: dict[str, Any]) -> tuple[Patrol, str]:
    """Store one patrol record (loaded by the API's schema, positions in WGS-84); answers it and `created`, or the
    stored one and `stored` when it was sent before with the same content."""
    uuid, digest = record["uuid"].lower(), content_digest(record)
    write_transaction(session, locks.patrol(uuid))
    existing = session.scalar(select(Patrol).where(Patrol.uuid == uuid))
    if existing is not None:
        if existing.content_sha256 != digest:
            session.rollback()
            raise Conflict(
                f"a patrol record with UUID {uuid} was stored with other content: a new record needs a new UUID",
                code="patrol-uuid-reused",
                existing_id=existing.id,
            )
        return existing, STORED
    if record["ended_at"] < record["started_at"]:
        raise RuleViolation("a patrol ends after it starts", code="ended-before-started", pointer="/ended_at")
    if record["started_at"] > utcnow():
        raise RuleViolation("a patrol is recorded after it starts", code="time-in-future", pointer="/started_at")
    cells = sorted(set(record["cell_ids"]))
    if missing := _missing(session, caller, GridCell, cells):
        raise RuleViolation(f"no grid cell with id {_listed(missing)} in your scope", code="cell-not-found",
                            pointer="/cell_ids")  # fmt: skip
    officers = sorted(set(record.get("officer_ids") or ([caller.officer_id] if caller.officer_id else [])))
    known = set(session.scalars(select(Officer.id).where(Officer.id.in_(officers))))
    if missing := [o for o in officers if o not in known]:
        raise RuleViolation(f"no officer with id {', '.join(map(str, missing))}", code="officer-not-found",
                            pointer="/officer_ids")  # fmt: skip
    users = record.get("user_ids")
    if users is None:  # the recorder, unless they are there as an officer
        users = [] if caller.officer_id or caller.user_id is None else [caller.user_id]
    users = sorted(set(users))
    if missing := sorted(set(users) - set(session.scalars(select(User.id).where(User.id.in_(users))))):
        raise RuleViolation(f"no user with id {', '.join(map(str, missing))}", code="user-not-found",
                            pointer="/user_ids")  # fmt: skip
    check_ins = record.get("check_ins") or []
    if missing := _missing(session, caller, Enterprise, [c["enterprise_id"] for c in check_ins]):
        raise RuleViolation(f"no enterprise with id {_listed(missing)} in your scope", code="enterprise-not-found",
                            pointer="/check_ins")  # fmt: skip
    fixes = _fixes(record.get("points") or [])
    line = LineString([(f[1], f[2]) for f in fixes]) if len(fixes) >= 2 else None
    distance = float(_GEOD.geometry_length(line)) if line is not None else 0.0
    township = session.scalar(select(GridCell.township_id).where(GridCell.id == cells[0])) if cells else None
    patrol = Patrol(
        uuid=uuid, content_sha256=digest, kind=str(record["kind"]), officer_ids=officers, user_ids=users,
        person_visits=len(officers) + len(users), cell_ids=cells, township_id=township,
        started_at=record["started_at"], ended_at=record["ended_at"], points=fixes,
        track=from_shape(line, srid=SRID) if line is not None else None, distance_m=round(distance, 1),
        notes=record.get("notes"), recorded_by_user_id=caller.user_id, created_at=utcnow(),
    )  # fmt: skip
    session.add(patrol)
    session.flush()
    if cells:
        session.execute(insert(PatrolCell.__table__), [{"patrol_id": patrol.id, "cell_id": c} for c in cells])
    if officers:
        session.execute(insert(PatrolOfficer.__table__), [{"patrol_id": patrol.id, "officer_id": o} for o in officers])
    for c in check_ins:
        session.add(PatrolCheckIn(patrol_id=patrol.id, enterprise_id=c["enterprise_id"], at=c["at"], lon=c.get("lon"),
                                  lat=c.get("lat"), result=str(c["result"]), notes=c.get("notes")))  # fmt: skip
    session.commit()
    return patrol, CREATED


RECORDERS = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_LEADER, Role.GRID_OFFICER, Role.DEPARTMENT_STAFF})
