"""Reading the territorial hierarchy: units in the caller's scope, lists, locate, coverage gaps. Never commits."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import Float, Select, bindparam, func, select
from sqlalchemy.orm import Session

from geo.geojson import OUTPUT_DECIMALS
from geo.index import bbox_filter, point_filter
from geo.measure import TOLERANCE_M, Discrepancy, expand_bounds, uncovered_part
from models.base import dialect_of
from models.listing import Listing, prefix_clause
from models.reads import PreparedRead
from models.roles import Caller
from models.scope import built_once, record_in_scope, row_in_scope, scope_clauses, scope_values
from models.search import name_search
from models.territory.model import GRID_CELL, VILLAGE, GridCell, Level, Township, Village


def get_unit(session: Session, *, caller: Caller, level: Level, unit_id: int) -> Any:
    """The unit, retired or not, or `NotFound` (also when it lies outside the caller's scope)."""
    return record_in_scope(session, caller=caller, model=level.model, record_id=unit_id, what=level.label)


@functools.cache
def unit_select(level: Level) -> Select:
    """Every column of a level except the raw boundary, which comes out as GeoJSON text built by the database."""
    model = level.model
    columns = [c for c in model.__table__.columns if c.key != "boundary"]
    return select(*columns, func.ST_AsGeoJSON(model.boundary, OUTPUT_DECIMALS).label("boundary_geojson"))


def unit_row(session: Session, *, caller: Caller, level: Level, unit_id: int) -> dict[str, Any]:
    """One unit as a row of `unit_select`, retired or not, or `NotFound` (also when out of the caller's scope)."""
    return row_in_scope(
        session, caller=caller, stmt=unit_select(level), model=level.model, record_id=unit_id, what=level.label
    )


def unit_listing(
    *,
    caller: Caller,
    level: Level,
    equals: dict[str, Any] | None = None,
    name: str | None = None,
    code_prefix: str | None = None,
    include_retired: bool = False,
) -> Listing:
    """The units of a level in the caller's scope, in code order: column equalities (parents), name substring
    (case-insensitive, through the gram index of `models.search`), code prefix, retired or not."""
    model = level.model
    clauses: list[Any] = scope_clauses(caller, model)
    clauses += [getattr(model, column) == value for column, value in (equals or {}).items()]
    if code_prefix:
        clauses.append(prefix_clause(model.code, code_prefix))
    if not include_retired:
        clauses.append(model.retired_at.is_(None))
    listing = Listing(unit_select(level), tuple(clauses), (model.code,))
    return name_search(listing, model, name) if name else listing


def locate_statement(dialect: str, lon: Any, lat: Any, scope: list[Any] | tuple = ()) -> Select:
    """The active grid cell containing the point, with its village and township, through the spatial index.

    `lon`, `lat`: numbers, or bound parameters; `scope`: the caller's scope clauses on GridCell."""
    return (
        unit_select(GRID_CELL)
        .add_columns(
            Village.code.label("village_code"),
            Village.name.label("village_name"),
            Township.code.label("township_code"),
            Township.name.label("township_name"),
        )
        .join(Village, Village.id == GridCell.village_id)
        .join(Township, Township.id == GridCell.township_id)
        .where(point_filter(dialect, GridCell.boundary, lon, lat), GridCell.retired_at.is_(None), *scope)
        .order_by(GridCell.code)  # a point on a shared edge touches two cells: answer the same one every time
        .limit(1)
    )


def locate_cell(session: Session, *, caller: Caller, lon: float, lat: float) -> dict[str, Any] | None:
    """The active grid cell in the caller's scope containing the point, with its village and township, or None.

    The hottest read of a phone: one prepared statement per dialect and shape of scope (see `PreparedRead`)."""
    dialect = dialect_of(session)
    read = built_once(
        ("locate", dialect),
        caller,
        lambda: PreparedRead(
            locate_statement(
                dialect, bindparam("lon", type_=Float), bindparam("lat", type_=Float), scope_clauses(caller, GridCell)
            )
        ),
    )
    return read.first_mapping(session, lon=lon, lat=lat, **scope_values(caller))


def sibling_candidates_statement(
    dialect: str, level: Level, bounds: tuple[float, float, float, float], parent_id: int | None, self_id: int | None
) -> Select:
    """Active units of the level under the same parent whose box meets `bounds`, through the spatial index."""
    model = level.model
    stmt = select(model.code, model.boundary).where(
        bbox_filter(dialect, model.boundary, expand_bounds(bounds, TOLERANCE_M)), model.retired_at.is_(None)
    )
    if level.parent_fk:
        stmt = stmt.where(level.parent_id_column == parent_id)
    if self_id is not None:
        stmt = stmt.where(model.id != self_id)
    return stmt.order_by(model.code)


@dataclass(frozen=True)
class CoverageGaps:
    village: Village
    cell_count: int
    gaps: Discrepancy | None


def coverage_gaps(session: Session, *, caller: Caller, village_id: int) -> CoverageGaps:
    """The part of a village that no active cell covers (slivers within the tolerance ignored)."""
    village = get_unit(session, caller=caller, level=VILLAGE, unit_id=village_id)
    cells = session.scalars(
        select(GridCell.boundary).where(GridCell.village_id == village.id, GridCell.retired_at.is_(None))
    ).all()
    shapes = [to_shape(c) for c in cells]
    return CoverageGaps(
        village=village, cell_count=len(shapes), gaps=uncovered_part(to_shape(village.boundary), shapes)
    )
