"""The place of a point: the active grid cell, village and township it lies in, and keeping enterprises' places true.

One rule everywhere, the same as locate's: a point lies in a unit when the unit's boundary contains or touches it;
a point on an edge shared by two cells belongs to the one with the lower code (likewise villages and townships).
A point in no active cell is unassigned: its village and township are then those whose own boundaries hold it.

The candidates come from the database through the spatial index; the test is GEOS's (shapely), the same library
PostGIS and SpatiaLite use, on the same stored coordinates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from geo.index import bbox_filter
from models import locks
from models.base import dialect_of, utcnow
from models.enterprises.model import Enterprise
from models.roles import Caller
from models.territory.guards import boundary_changed
from models.territory.model import GRID_CELL, TOWNSHIP, VILLAGE, GridCell, Level, Village


@dataclass(frozen=True)
class Place:
    cell_id: int | None = None
    village_id: int | None = None
    township_id: int | None = None


class _Level:
    """The active units of one level whose boxes meet `bounds`, ready for point queries."""

    def __init__(self, session: Session, level: Level, bounds: tuple[float, float, float, float]) -> None:
        model = level.model
        columns = [model.id, model.code, model.boundary]
        if model is GridCell:
            columns += [GridCell.village_id, GridCell.township_id]
        elif model is Village:
            columns.append(Village.township_id)
        stmt = select(*columns).where(
            bbox_filter(dialect_of(session), model.boundary, bounds), model.retired_at.is_(None)
        )
        self.rows = session.execute(stmt.order_by(model.code)).all()  # in code order: the first match wins
        self.tree = shapely.STRtree([to_shape(row.boundary) for row in self.rows])

    def first(self, point: Point) -> Any:
        hits = self.tree.query(point, predicate="intersects")
        return self.rows[min(hits)] if len(hits) else None


def places_of(session: Session, *, caller: Caller, points: Sequence[tuple[float, float]]) -> list[Place]:
    """The place of each (lon, lat), WGS-84 (see the module's rule). A place is a fact, not a view: every caller
    gets the same answer."""
    if not points:
        return []
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    bounds = (min(lons), min(lats), max(lons), max(lats))
    cells, villages, townships = (_Level(session, level, bounds) for level in (GRID_CELL, VILLAGE, TOWNSHIP))
    out = []
    for lon, lat in points:
        point = Point(lon, lat)
        cell = cells.first(point)
        if cell is not None:
            out.append(Place(cell.id, cell.village_id, cell.township_id))
            continue
        village = villages.first(point)
        if village is not None:
            out.append(Place(None, village.id, village.township_id))
            continue
        township = townships.first(point)
        out.append(Place(None, None, township.id if township is not None else None))
    return out


def set_place(record: Any, place: Place) -> None:
    record.cell_id, record.village_id, record.township_id = place.cell_id, place.village_id, place.township_id


def derive_places_again(
    session: Session, *, caller: Caller, model: type, level: Level, unit: Any, old_boundary: BaseGeometry | None
) -> None:
    """A unit was drawn, redrawn or retired: derive again the place of every record of `model` (a point table with
    `location`, `lon`, `lat`, the three place columns and `updated_at`: enterprises, hazards) that may have changed
    side (those in the box of the old or the new boundary, and those placed in the unit), in the same transaction."""
    shapes = [to_shape(unit.boundary)] + ([old_boundary] if old_boundary is not None else [])
    minx, miny, maxx, maxy = shapely.union_all(shapes).bounds
    column = {GRID_CELL.key: model.cell_id, VILLAGE.key: model.village_id, TOWNSHIP.key: model.township_id}[level.key]
    near = bbox_filter(dialect_of(session), model.location, (minx, miny, maxx, maxy))
    session.flush()  # the unit as it now is: the places below are derived from the stored boundaries
    records = session.scalars(select(model).where(or_(near, column == unit.id))).all()
    places = places_of(session, caller=caller, points=[(r.lon, r.lat) for r in records])
    now = utcnow()
    for record, place in zip(records, places, strict=True):
        if (record.cell_id, record.village_id, record.township_id) != (
            place.cell_id,
            place.village_id,
            place.township_id,
        ):
            set_place(record, place)
            record.updated_at = now


@boundary_changed.register(locks.places)
def follow_boundary(
    session: Session, *, caller: Caller, level: Level, unit: Any, old_boundary: BaseGeometry | None
) -> None:
    """Enterprises follow a boundary drawn, redrawn or retired (see `derive_places_again`)."""
    derive_places_again(session, caller=caller, model=Enterprise, level=level, unit=unit, old_boundary=old_boundary)
