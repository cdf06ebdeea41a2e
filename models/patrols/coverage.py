"""Patrol coverage of a cell, village or township over a period of days: what was patrolled, what was not, who did
how much. Everything counted is what the caller may see (their scope); never commits.

The patrols of a unit are those that name one of its cells, started within the period. Their tracks cover the part
of the unit within `within_m` (50 m by default) of them: the union of the tracks' reaches. A track's reach (`reach`)
is its buffer, computed with shapely in a Lambert azimuthal equal-area projection centred near the track, the track
simplified to `SIMPLIFY_M` first (the edges move by less than that metre; GPS fixes are 3-15 m off anyway) and
buffered in pieces of `PIECE` segments whose buffers are united (the same area as one buffer, to the arcs'
approximation, several times faster on noisy tracks). Each patrol's reach at `REACH_M` is stored with it when it is
uploaded (`Patrol.reach`), so that a month of a township is a union of stored shapes (made tile by tile, see
`covered_area`); another distance, or a patrol stored without one, is computed on the spot. Areas are measured in
such a projection (true areas). The same computation on both backends: their answers are the same.

Visit policy (PATROL_VISIT_DAYS, default `red=7,orange=14,yellow=30,blue=90`): an enterprise of that risk level not
checked in at for longer than that many days by the period's end (or ever) is overdue for a visit.
"""

from __future__ import annotations

import functools
import os
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from pyproj import Transformer
from shapely.geometry import LineString, mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.base import county_zone
from models.enterprises.model import Enterprise, RiskLevel
from models.errors import RuleViolation
from models.patrols.model import Patrol, PatrolCell, PatrolCheckIn, PatrolFinding
from models.people.model import Officer
from models.roles import Caller
from models.scope import row_in_scope, scope_clauses, scope_values
from models.territory.model import GridCell, Township, Village

SIMPLIFY_M = 1.0
PIECE = 8  # segments per piece of a track buffered on its own
REACH_M = 50.0  # the distance of the reach stored with each patrol (the coverage's default)
FAR_M = 1_000_000.0  # a fix this far from the track's median is no part of it
TILE_DEG = 0.01  # the side of the squares the reaches are united in, in degrees
MAX_DAYS = 366
DEFAULT_VISIT_DAYS = {RiskLevel.RED: 7, RiskLevel.ORANGE: 14, RiskLevel.YELLOW: 30, RiskLevel.BLUE: 90}
LEVELS = {"township": Township, "village": Village, "cell": GridCell}


def visit_policy() -> dict[str, int]:
    """Days between visits by risk level (PATROL_VISIT_DAYS, e.g. `red=7,orange=14`; the rest keep the default)."""
    days = {str(level): n for level, n in DEFAULT_VISIT_DAYS.items()}
    for pair in filter(None, (os.environ.get("PATROL_VISIT_DAYS") or "").split(",")):
        level, _, n = pair.partition("=")
        if level.strip() in days:
            days[level.strip()] = int(n)
    return days


def _cells_of(level: str, unit_id: int) -> Any:
    column = {"township": GridCell.township_id, "village": GridCell.village_id, "cell": GridCell.id}[level]
    return column == unit_id


def _projections(centre: BaseGeometry) -> tuple[Transformer, Transformer]:
    """To and from a Lambert azimuthal equal-area projection centred within 0.05° of `centre` (metres). Areas are
    true everywhere in it; lengths within 20 km of its centre are off by less than 2e-6 (made once per 0.1°
    square: a transformer costs milliseconds to make)."""
    return _laea(round(centre.x, 1), round(centre.y, 1))


@functools.lru_cache(maxsize=256)
def _laea(lon: float, lat: float) -> tuple[Transformer, Transformer]:
    projection = f"+proj=laea +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m"
    return (
        Transformer.from_crs("EPSG:4326", projection, always_xy=True),
        Transformer.from_crs(projection, "EPSG:4326", always_xy=True),
    )


def _project(geometry: Any, transformer: Transformer) -> Any:
    return shapely.transform(geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def reach(track: BaseGeometry, within_m: float = REACH_M) -> BaseGeometry:
    """The part of the plane within `within_m` of the track (WGS-84 in and out). The projection is centred on the
    fixes' median; a fix farther than FAR_M from it (a record no phone makes: the other side of the earth) breaks
    the track there and counts for nothing."""
    lonlat = shapely.get_coordinates(track)
    forward, backward = _projections(shapely.Point(np.median(lonlat, axis=0)))
    xy = np.column_stack(forward.transform(lonlat[:, 0], lonlat[:, 1]))
    near = np.isfinite(xy).all(axis=1) & (np.hypot(xy[:, 0], xy[:, 1]) < FAR_M)
    parts = []
    for run in np.split(xy, np.flatnonzero(np.diff(near)) + 1):
        if not (np.isfinite(run).all() and np.hypot(run[:, 0], run[:, 1]).max() < FAR_M):
            continue
        line = shapely.get_coordinates(shapely.simplify(LineString(run), SIMPLIFY_M)) if len(run) > 1 else run[[0, 0]]
        parts += [line[i : i + PIECE + 1] for i in range(0, max(len(line) - 1, 1), PIECE)]
    if not parts:
        return shapely.Polygon()
    which = np.repeat(np.arange(len(parts)), [len(p) for p in parts])
    pieces = shapely.linestrings(np.concatenate(parts), indices=which)
    return _project(shapely.union_all(shapely.buffer(pieces, within_m)), backward)


def stored_reach(track: BaseGeometry | None) -> bytes | None:
    """What a patrol stores of its track's reach at REACH_M (WKB), none without a track."""
    return shapely.to_wkb(reach(track)) if track is not None else None


def covered_area(
    unit: BaseGeometry, reaches: list[BaseGeometry], *, shapes: bool = False
) -> tuple[float, float, BaseGeometry | None, BaseGeometry | None]:
    """The unit's area (m²), the part of it the tracks' reaches cover (m²), and with `shapes` both parts as WGS-84
    geometries (covered, uncovered).

    The reaches are united tile by tile (TILE_DEG squares, about a kilometre): the tiles are disjoint, so their
    covered areas add up, and a month of a township's reaches unites two or three times faster in small pieces than
    in one."""
    forward, _ = _projections(unit.centroid)
    parts = []
    if reaches:
        shapes_of = np.array(reaches, dtype=object)
        tree = shapely.STRtree(shapes_of)
        west, south, east, north = unit.bounds
        for x in np.arange(west, east, TILE_DEG):
            for y in np.arange(south, north, TILE_DEG):
                tile = (x, y, x + TILE_DEG, y + TILE_DEG)
                near = tree.query(shapely.box(*tile))
                if len(near):
                    parts.append(_tile_covered(unit, shapes_of[near], tile))
    covered_m2 = float(shapely.area(_project(np.array(parts, dtype=object), forward)).sum()) if parts else 0.0
    area = float(_project(unit, forward).area)
    if not shapes:
        return area, covered_m2, None, None
    covered = shapely.union_all(parts) if parts else shapely.Polygon()
    return area, covered_m2, covered, shapely.difference(unit, covered)


def _tile_covered(unit: BaseGeometry, reaches: Any, tile: tuple[float, ...]) -> BaseGeometry:
    """The part of the unit in the tile within the reaches (clipped the fast way; should that fail on a degenerate
    piece, by a full intersection)."""
    try:
        return shapely.intersection(
            shapely.clip_by_rect(unit, *tile), shapely.union_all(shapely.clip_by_rect(reaches, *tile))
        )
    except shapely.errors.GEOSException:
        box = shapely.box(*tile)
        return shapely.intersection(
            shapely.intersection(unit, box), shapely.union_all(shapely.intersection(reaches, box))
        )


def _reaches(session: Session, patrols: list[Any], within_m: float) -> list[BaseGeometry]:
    """The patrols' reaches at `within_m`: stored ones at REACH_M, the others computed from their tracks (read here,
    only for those)."""
    stored = {p.id: p.reach for p in patrols if p.reach is not None} if within_m == REACH_M else {}
    wanted = [p.id for p in patrols if p.has_track and p.id not in stored]
    tracks = dict(session.execute(select(Patrol.id, Patrol.track).where(Patrol.id.in_(wanted))).all()) if wanted else {}
    computed = [reach(to_shape(tracks[i]), within_m) for i in wanted]
    return [*shapely.from_wkb(np.array(list(stored.values()), dtype=object)), *computed] if stored else computed


def coverage(
    session: Session,
    *,
    caller: Caller,
    level: str,
    unit_id: int,
    from_day: date,
    to_day: date,
    within_m: float = 50.0,
    idle_days: int = 7,
    geometry: bool = False,
) -> dict[str, Any]:
    """The figures of the unit for the days `from_day` to `to_day` (both included, in the county); with `geometry`,
    also its covered and uncovered parts and its enterprises' and idle cells' places (for a map)."""
    if (to_day - from_day).days + 1 > MAX_DAYS:
        raise RuleViolation(f"a period of at most {MAX_DAYS} days", code="period-too-long", pointer="/to")
    zone = county_zone()
    start, end = datetime.combine(from_day, time(0), zone), datetime.combine(to_day + timedelta(days=1), time(0), zone)
    model = LEVELS[level]
    stmt = select(model.id, model.code, model.name, model.boundary, model.area_m2)
    unit = row_in_scope(session, caller=caller, stmt=stmt, model=model, record_id=unit_id, what=level)
    params = scope_values(caller)
    cells = session.execute(
        select(GridCell.id, GridCell.code, GridCell.name, GridCell.boundary).where(
            _cells_of(level, unit_id), GridCell.retired_at.is_(None), *scope_clauses(caller, GridCell)
        ).order_by(GridCell.code), params,
    ).all()  # fmt: skip
    cell_ids = [c.id for c in cells]
    patrols = session.execute(
        select(Patrol.id, Patrol.track.is_not(None).label("has_track"), Patrol.reach, Patrol.distance_m,
               Patrol.person_visits, Patrol.officer_ids, Patrol.started_at).where(
            Patrol.id.in_(select(PatrolCell.patrol_id).where(PatrolCell.cell_id.in_(cell_ids))),
            Patrol.started_at >= start, Patrol.started_at < end, *scope_clauses(caller, Patrol),
        ), params,
    ).all()  # fmt: skip
    patrol_ids = [p.id for p in patrols]
    check_ins = Counter(dict(session.execute(
        select(PatrolCheckIn.patrol_id, func.count()).where(PatrolCheckIn.patrol_id.in_(patrol_ids))
        .group_by(PatrolCheckIn.patrol_id)
    ).all()))  # fmt: skip
    found = Counter(dict(session.execute(
        select(PatrolFinding.patrol_id, func.count()).where(PatrolFinding.patrol_id.in_(patrol_ids))
        .group_by(PatrolFinding.patrol_id)
    ).all()))  # fmt: skip
    boundary = to_shape(unit["boundary"])
    area_m2, covered_m2, covered, uncovered = covered_area(
        boundary, _reaches(session, patrols, within_m), shapes=geometry
    )
    enterprises = _enterprises(session, caller, level, unit_id, start, end)
    idle = _idle_cells(session, cells, end, idle_days)
    answer = {
        "unit": {"level": level, "id": unit["id"], "code": unit["code"], "name": unit["name"]},
        "from": from_day, "to": to_day, "start": start, "end": end, "within_m": within_m,
        "patrols": len(patrols), "person_visits": sum(p.person_visits for p in patrols),
        "distance_m": round(sum(p.distance_m for p in patrols), 1),
        "check_ins": sum(check_ins.values()), "hazards_found": sum(found.values()),
        "area_m2": round(area_m2, 1), "covered_m2": round(covered_m2, 1),
        "covered_share": round(covered_m2 / area_m2, 4) if area_m2 else None,
        "enterprises": {
            "total": len(enterprises), "visited": sum(1 for e in enterprises if e["visited"]),
            "not_visited": sum(1 for e in enterprises if not e["visited"]),
            "not_visited_ids": [e["id"] for e in enterprises if not e["visited"]],
            "overdue_for_visit": [{k: e[k] for k in ("id", "name", "risk_level", "last_visit_at", "due_since")}
                                  for e in enterprises if e["overdue"]],
        },
        "visit_policy_days": visit_policy(),
        "idle_days": idle_days,
        "idle_cells": [{k: c[k] for k in ("id", "code", "name", "last_patrol_at")} for c in idle],
        "officers": _per_officer(session, patrols, check_ins, found),
    }  # fmt: skip
    if geometry:
        answer["geometry"] = {
            "unit": mapping(boundary), "covered": mapping(covered), "uncovered": mapping(uncovered),
            "enterprises": enterprises, "idle_cells": [{**c, "boundary": mapping(c["shape"])} for c in idle],
        }  # fmt: skip
    return answer


def _enterprises(
    session: Session, caller: Caller, level: str, unit_id: int, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """The unit's operating (not closed) enterprises, with their last visit by the period's end, whether they were
    visited within it and whether they are overdue under the visit policy."""
    column = {"township": Enterprise.township_id, "village": Enterprise.village_id, "cell": Enterprise.cell_id}[level]
    last_visit = (
        select(func.max(PatrolCheckIn.at)).where(PatrolCheckIn.enterprise_id == Enterprise.id, PatrolCheckIn.at < end)
    ).scalar_subquery()  # fmt: skip
    first_in_period = (
        select(func.min(PatrolCheckIn.at)).where(PatrolCheckIn.enterprise_id == Enterprise.id,
                                                 PatrolCheckIn.at >= start, PatrolCheckIn.at < end)
    ).scalar_subquery()  # fmt: skip
    rows = session.execute(
        select(Enterprise.id, Enterprise.name, Enterprise.risk_level, Enterprise.lon, Enterprise.lat,
               last_visit.label("last_visit_at"), first_in_period.label("visited_at"))
        .where(column == unit_id, Enterprise.closed_at.is_(None), *scope_clauses(caller, Enterprise))
        .order_by(Enterprise.id), scope_values(caller),
    ).all()  # fmt: skip
    policy, answer = visit_policy(), []
    for row in rows:
        last = _aware(row.last_visit_at)
        due = last + timedelta(days=policy[row.risk_level]) if last is not None else None
        answer.append({
            "id": row.id, "name": row.name, "risk_level": row.risk_level, "lon": row.lon, "lat": row.lat,
            "last_visit_at": last, "visited": row.visited_at is not None,
            "overdue": due is None or due < end, "due_since": due if due is not None and due < end else None,
        })  # fmt: skip
    return answer


def _aware(value: Any) -> datetime | None:
    """A time read by an aggregate (MAX keeps its column's type; should a backend answer text, it is UTC)."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _idle_cells(session: Session, cells: list[Any], end: datetime, idle_days: int) -> list[dict[str, Any]]:
    """The cells with no patrol started in the `idle_days` before the period's end."""
    last = dict(session.execute(
        select(PatrolCell.cell_id, func.max(Patrol.started_at)).join(Patrol, Patrol.id == PatrolCell.patrol_id)
        .where(PatrolCell.cell_id.in_([c.id for c in cells]), Patrol.started_at < end).group_by(PatrolCell.cell_id)
    ).all())  # fmt: skip
    since = end - timedelta(days=idle_days)
    idle = []
    for cell in cells:
        at = _aware(last.get(cell.id))
        if at is None or at < since:
            idle.append({"id": cell.id, "code": cell.code, "name": cell.name, "last_patrol_at": at,
                         "shape": to_shape(cell.boundary)})  # fmt: skip
    return idle


def _per_officer(session: Session, patrols: list[Any], check_ins: Counter, found: Counter) -> list[dict[str, Any]]:
    figures: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"patrols": 0, "distance_m": 0.0, "check_ins": 0, "hazards_found": 0}
    )
    for p in patrols:
        for officer_id in p.officer_ids:
            row = figures[officer_id]
            row["patrols"] += 1
            row["distance_m"] += p.distance_m
            row["check_ins"] += check_ins[p.id]
            row["hazards_found"] += found[p.id]
    names = dict(session.execute(select(Officer.id, Officer.name).where(Officer.id.in_(list(figures)))).all())
    return [{"officer_id": i, "name": names.get(i), **row, "distance_m": round(row["distance_m"], 1)}
            for i, row in sorted(figures.items(), key=lambda item: (-item[1]["patrols"], item[0]))]  # fmt: skip
