"""Storing patrol records sent by phones: each record once, whatever the retries (see `models.patrols.model`).

`store_patrol` is one transaction per record: the patrol, its cells and its check-ins land together or not at all.
What its fixes give (the line, its length, its reach, the speed and gap flags) is computed before that transaction
begins: SQLite has one write lock, and a record's geometry is most of its cost.
The record's UUID is its identity: sent again with the same content it answers the stored record ("stored"); with
other content it is refused (409 `patrol-uuid-reused`) and changes nothing. Two copies sent at once are serialised
on the UUID's lock, so the second finds the first.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from geoalchemy2.shape import from_shape, to_shape
from pyproj import Geod
from shapely import unary_union
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from geo import SRID
from models import locks
from models.accounts.model import User
from models.base import utcnow, write_transaction
from models.enterprises.model import Enterprise
from models.errors import Conflict, DomainError, RuleViolation
from models.hazards.model import Source
from models.hazards.report import add_report
from models.patrols.coverage import stored_reach
from models.patrols.model import (
    Patrol,
    PatrolCell,
    PatrolCheckIn,
    PatrolFinding,
    PatrolKind,
    PatrolOfficer,
    TravelMode,
)
from models.patrols.plausibility import (
    Rules,
    distance_m,
    far_flag,
    gap_flag,
    outside_flag,
    share_inside,
    speed_flag,
)
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
    """The fixes sorted by time, each time once (the first fix of it kept): [[datetime, lon, lat, accuracy], ...]."""
    kept: dict[datetime, list[Any]] = {}
    for p in sorted(points, key=lambda p: p["at"]):
        kept.setdefault(p["at"], [p["at"], p["lon"], p["lat"], p.get("accuracy_m")])
    return list(kept.values())


def _source(kind: str) -> str:
    """The ledger's source of what a patrol of this kind finds."""
    return {PatrolKind.GRID_PATROL: Source.PATROL, PatrolKind.EXPERT: Source.THIRD_PARTY}.get(
        PatrolKind(kind), Source.GOVERNMENT_INSPECTION
    ).value


def _check(record: dict[str, Any]) -> None:
    if record["ended_at"] < record["started_at"]:
        raise RuleViolation("a patrol ends after it starts", code="ended-before-started", pointer="/ended_at")
    if record["started_at"] > utcnow():
        raise RuleViolation("a patrol is recorded after it starts", code="time-in-future", pointer="/started_at")


def _participants(session: Session, caller: Caller, record: dict[str, Any]) -> tuple[list[int], list[int]]:
    officers = sorted(set(record.get("officer_ids") or ([caller.officer_id] if caller.officer_id else [])))
    known = set(session.scalars(select(Officer.id).where(Officer.id.in_(officers))))
    if missing := [o for o in officers if o not in known]:
        raise RuleViolation(f"no officer with id {_listed(missing)}", code="officer-not-found",
                            pointer="/officer_ids")  # fmt: skip
    users = record.get("user_ids")
    if users is None:  # the recorder, unless they are there as an officer
        users = [] if caller.officer_id or caller.user_id is None else [caller.user_id]
    users = sorted(set(users))
    if missing := sorted(set(users) - set(session.scalars(select(User.id).where(User.id.in_(users))))):
        raise RuleViolation(f"no user with id {_listed(missing)}", code="user-not-found", pointer="/user_ids")
    return officers, users


def _cells(session: Session, caller: Caller, cells: list[int]) -> tuple[BaseGeometry | None, int | None]:
    """The patrol's cells together (none without any) and the township of the first; 422 `cell-not-found` when one
    is not in the caller's scope."""
    stmt = select(GridCell.id, GridCell.township_id, GridCell.boundary).where(
        GridCell.id.in_(cells), *scope_clauses(caller, GridCell)
    )
    found = {row.id: row for row in session.execute(stmt, scope_values(caller))}
    if missing := [c for c in cells if c not in found]:
        raise RuleViolation(f"no grid cell with id {_listed(missing)} in your scope", code="cell-not-found",
                            pointer="/cell_ids")  # fmt: skip
    if not cells:
        return None, None
    return unary_union([to_shape(found[c].boundary) for c in cells]), found[cells[0]].township_id


@dataclass(frozen=True)
class _Track:
    """What a record's fixes give, computed before the write transaction (no database needed: milliseconds of
    geometry that SQLite's single write lock need not wait for)."""

    fixes: list[list[Any]]
    line: LineString | None
    distance_m: float
    reach: bytes | None
    flags: list[dict[str, Any] | None]  # speed and gaps

    @classmethod
    def of(cls, record: dict[str, Any], mode: str, rules: Rules) -> _Track:
        fixes = _fixes(record.get("points") or [])
        line = LineString([(f[1], f[2]) for f in fixes]) if len(fixes) >= 2 else None
        return cls(
            fixes=fixes,
            line=line,
            distance_m=round(float(_GEOD.geometry_length(line)), 1) if line is not None else 0.0,
            reach=stored_reach(line),
            flags=[
                speed_flag(fixes, mode, rules),
                gap_flag([f[0] for f in fixes], record["started_at"], record["ended_at"], rules),
            ],
        )


def store_patrol(session: Session, *, caller: Caller, record: dict[str, Any]) -> tuple[Patrol, str]:
    """Store one patrol record (loaded by the API's schema, positions in WGS-84) with the hazards it found; answers
    it and `created`, or the stored one and `stored` when it was sent before with the same content."""
    uuid, digest = record["uuid"].lower(), content_digest(record)
    check_ins = record.get("check_ins") or []
    findings = [*record.get("findings", []), *(f for c in check_ins for f in c.get("findings", []))]
    rules, mode = Rules.from_env(), str(record.get("travel_mode") or default_mode(record["kind"]))
    # The track's figures before the lock, unless the record is stored already (records are never deleted)
    stored_before = session.scalar(select(Patrol.id).where(Patrol.uuid == uuid)) is not None
    track = None if stored_before else _Track.of(record, mode, rules)
    # (findings report to the ledger: its lock on places is taken with the patrol's, in the one order)
    write_transaction(session, locks.patrol(uuid), *([locks.places()] if findings else []))
    existing = session.scalar(select(Patrol).where(Patrol.uuid == uuid))
    if existing is not None:
        existing_id = existing.id
        session.rollback()  # (nothing to write: the transaction and its locks end here, as a batch goes on)
        if existing.content_sha256 != digest:
            raise Conflict(
                f"a patrol record with UUID {uuid} was stored with other content: a new record needs a new UUID",
                code="patrol-uuid-reused",
                existing_id=existing_id,
            )
        return existing, STORED
    _check(record)
    track = track or _Track.of(record, mode, rules)
    cells = sorted(set(record["cell_ids"]))
    area, township = _cells(session, caller, cells)
    officers, users = _participants(session, caller, record)
    if missing := _missing(session, caller, Enterprise, [c["enterprise_id"] for c in check_ins]):
        raise RuleViolation(f"no enterprise with id {_listed(missing)} in your scope", code="enterprise-not-found",
                            pointer="/check_ins")  # fmt: skip
    share = share_inside(track.line, area)
    wanted = {c["enterprise_id"] for c in check_ins}
    places = {e.id: e for e in session.execute(select(
        Enterprise.id, Enterprise.lon, Enterprise.lat, Enterprise.name, Enterprise.sector, Enterprise.closed_at
    ).where(Enterprise.id.in_(wanted)))}  # fmt: skip
    distances = [
        round(distance_m(c["lon"], c["lat"], places[c["enterprise_id"]].lon, places[c["enterprise_id"]].lat), 1)
        if "lon" in c else None
        for c in check_ins
    ]  # fmt: skip
    far = [{"check_in": i, "enterprise_id": c["enterprise_id"], "distance_m": d}
           for i, (c, d) in enumerate(zip(check_ins, distances, strict=True))
           if d is not None and d > rules.check_in_max_m]  # fmt: skip
    speed, gap = track.flags
    flags = [f for f in (speed, outside_flag(share, rules), far_flag(far, rules), gap) if f is not None]
    patrol = Patrol(
        uuid=uuid, content_sha256=digest, kind=str(record["kind"]), officer_ids=officers, user_ids=users,
        person_visits=len(officers) + len(users), cell_ids=cells, township_id=township,
        started_at=record["started_at"], ended_at=record["ended_at"],
        points=[[f[0].isoformat(), *f[1:]] for f in track.fixes],
        track=from_shape(track.line, srid=SRID) if track.line is not None else None,
        distance_m=track.distance_m, reach=track.reach,
        travel_mode=mode, share_inside=share, flags=flags, flag_codes=" ".join(["", *(f["code"] for f in flags), ""]),
        notes=record.get("notes"), recorded_by_user_id=caller.user_id, created_at=utcnow(),
    )  # fmt: skip
    session.add(patrol)
    session.flush()
    if cells:
        session.execute(insert(PatrolCell.__table__), [{"patrol_id": patrol.id, "cell_id": c} for c in cells])
    if officers:
        session.execute(insert(PatrolOfficer.__table__), [{"patrol_id": patrol.id, "officer_id": o} for o in officers])
    stops = [PatrolCheckIn(patrol_id=patrol.id, enterprise_id=c["enterprise_id"], at=c["at"], lon=c.get("lon"),
                           lat=c.get("lat"), result=str(c["result"]), notes=c.get("notes"), distance_m=d, seq=i)
             for i, (c, d) in enumerate(zip(check_ins, distances, strict=True))]  # fmt: skip
    session.add_all(stops)
    if findings:
        session.flush()
        _report_findings(session, caller, patrol, record, stops, places)
    session.commit()
    return patrol, CREATED


def _report_findings(
    session: Session,
    caller: Caller,
    patrol: Patrol,
    record: dict[str, Any],
    stops: list[PatrolCheckIn],
    enterprises: dict[int, Any],
) -> None:
    """Each finding a hazard in the ledger, through its rules (`add_report`), in the patrol's transaction: found at
    its check-in's enterprise and time unless it says otherwise. A refusal names the finding (its pointer)."""
    source = _source(record["kind"])
    listed = [(f"/findings/{i}", None, f, i) for i, f in enumerate(record.get("findings", []))]
    for stop, sent in zip(stops, record.get("check_ins") or [], strict=True):
        listed += [(f"/check_ins/{stop.seq}/findings/{i}", stop, f, i) for i, f in enumerate(sent.get("findings", []))]
    for pointer, stop, finding, seq in listed:
        where: dict[str, Any] = {"found_at": record["ended_at"]}
        if stop is not None:
            plant = enterprises[stop.enterprise_id]
            where = {"enterprise_id": plant.id, "found_at": stop.at}
            if plant.closed_at is not None:  # found where a closed enterprise was (擅自复产): reported by its place
                where = {"place_description": f"{plant.name}（已关闭）"[:200], "sector": plant.sector,
                         "lon": plant.lon, "lat": plant.lat, "found_at": stop.at}  # fmt: skip
        report = {**where, **finding, "source": source}
        try:
            hazard = add_report(session, caller=caller, **report)
        except DomainError as error:
            error.pointer = pointer + (error.pointer or "")
            error.detail = f"{pointer.lstrip('/').replace('/', ' ')}: {error.detail}"
            raise
        session.add(PatrolFinding(hazard_id=hazard.id, patrol_id=patrol.id,
                                  check_in_id=stop.id if stop is not None else None, seq=seq))  # fmt: skip


def default_mode(kind: str) -> TravelMode:
    """A grid patrol walks unless it says otherwise; inspections drive to the enterprises."""
    return TravelMode.WALKING if kind == PatrolKind.GRID_PATROL else TravelMode.DRIVING


RECORDERS = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_LEADER, Role.GRID_OFFICER, Role.DEPARTMENT_STAFF})
