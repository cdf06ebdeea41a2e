"""Plain functions over the territorial hierarchy: create, redraw, retire, locate, coverage gaps.

Every rule here holds on both backends because it is checked in Python (shapely) on candidates that the
database finds through its spatial index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geo import SRID
from geo.geojson import OUTPUT_DECIMALS
from geo.index import bbox_filter, point_filter
from geo.measure import (
    TOLERANCE_M,
    Discrepancy,
    expand_bounds,
    geodesic_area_m2,
    outside_of,
    overlap_of,
    uncovered_part,
)
from models.access import Caller, record_in_scope, row_in_scope, scope_clauses
from models.base import check_version, commit_guarded, dialect_of, utcnow, write_transaction
from models.errors import Conflict, RuleViolation
from models.people import GridAssignment
from models.people_service import has_owner_clause
from models.territory import GRID_CELL, VILLAGE, GridCell, Level, TerritorialUnit, Township, Village, child_level

Areal = Polygon | MultiPolygon


def get_unit(session: Session, level: Level, unit_id: int, caller: Caller) -> Any:
    """The unit, retired or not, or `NotFound` (also when it lies outside the caller's scope)."""
    return record_in_scope(session, caller, level.model, unit_id, level.label)


def create_unit(
    session: Session,
    *,
    caller: Caller,
    level: Level,
    code: str,
    name: str,
    boundary: Areal,
    parent_id: int | None = None,
) -> Any:
    """Create a unit after checking its code, its parent, and that it fits in its parent beside its siblings."""
    write_transaction(session, _sibling_scope(level, parent_id))
    parent = _active_parent(session, level, parent_id, caller)
    if parent is not None and not code.startswith(parent.code):
        raise RuleViolation(
            f"code {code} does not start with its parent's code {parent.code}",
            code="code-parent-mismatch",
            pointer="/code",
        )
    existing = session.scalar(select(level.model.id).where(level.model.code == code))
    if existing is not None:
        raise Conflict(f"a {level.label} with code {code} already exists", code="code-taken", existing_id=existing)
    _check_fits(session, level, boundary, parent=parent, parent_id=parent_id, self_id=None)

    now = utcnow()
    unit = level.model(code=code, name=name, created_at=now, updated_at=now)
    _set_boundary(unit, boundary)
    if level.parent_fk:
        setattr(unit, level.parent_fk, parent_id)
    if level is GRID_CELL:
        unit.township_id = parent.township_id
    session.add(unit)
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent insert of the same code won the race
        session.rollback()
        raise Conflict(f"a {level.label} with code {code} already exists", code="code-taken") from exc
    return unit


def update_unit(
    session: Session,
    *,
    caller: Caller,
    level: Level,
    unit_id: int,
    expected_version: int | None,
    name: str | None = None,
    boundary: Areal | None = None,
) -> Any:
    """Rename and/or redraw a unit. `expected_version` (from If-Match) guards against lost updates."""
    scopes = [f"{child.key}:{unit_id}"] if (child := child_level(level)) else []
    write_transaction(session, *scopes)
    unit = get_unit(session, level, unit_id, caller)
    check_version(unit, expected_version)
    if unit.retired_at is not None:
        raise Conflict(f"{level.label} {unit.code} is retired and can no longer change", code="unit-retired")
    parent_id = getattr(unit, level.parent_fk) if level.parent_fk else None
    write_transaction(session, _sibling_scope(level, parent_id))
    if boundary is not None:
        parent = session.get(level.parent.model, parent_id) if level.parent else None
        _check_fits(session, level, boundary, parent=parent, parent_id=parent_id, self_id=unit.id)
        _check_children_inside(session, level, unit, boundary)
        _set_boundary(unit, boundary)
    if name is not None:
        unit.name = name
    unit.updated_at = utcnow()
    commit_guarded(session)
    return unit


def retire_unit(session: Session, *, caller: Caller, level: Level, unit_id: int, expected_version: int | None) -> Any:
    """Retire a unit: it keeps its history and code but no longer counts.

    Its children must be retired first, and a cell's team must have ended: nobody stays responsible for a
    cell that no longer exists.
    """
    child = child_level(level)
    write_transaction(session, *([f"{child.key}:{unit_id}"] if child else [f"team:{unit_id}"]))
    unit = get_unit(session, level, unit_id, caller)
    if unit.retired_at is not None:
        return unit  # retiring twice is retiring once, whatever version the retry names
    check_version(unit, expected_version)
    if child is not None:
        active = session.scalars(
            select(child.model.code)
            .where(child.parent_id_column == unit.id, child.model.retired_at.is_(None))
            .order_by(child.model.code)
            .limit(6)
        ).all()
        if active:
            listed = ", ".join(active[:5]) + (" …" if len(active) > 5 else "")
            raise Conflict(
                f"{level.label} {unit.code} still has active {child.label}s ({listed}); retire them first",
                code="has-active-children",
            )
    if level is GRID_CELL:
        team = session.scalars(
            select(GridAssignment.id).where(
                GridAssignment.cell_id == unit.id,
                GridAssignment.valid_to.is_(None),
                GridAssignment.superseded_at.is_(None),
            )
        ).all()
        if team:
            raise Conflict(
                f"grid cell {unit.code} still has officers in charge (assignments "
                f"{', '.join(map(str, team))}); end their assignments first",
                code="cell-has-team",
            )
    unit.retired_at = unit.updated_at = utcnow()
    commit_guarded(session)
    return unit


def locate_statement(dialect: str, lon: float, lat: float, scope: list[Any] | tuple = ()) -> Select:
    """The active grid cell containing the point, with its village and township, through the spatial index.

    `scope`: the caller's scope clauses on GridCell."""
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


def locate_cell(session: Session, lon: float, lat: float, caller: Caller) -> dict[str, Any] | None:
    """The active grid cell in the caller's scope containing the point, with its village and township, or None."""
    stmt = locate_statement(dialect_of(session), lon, lat, scope_clauses(caller, GridCell))
    row = session.execute(stmt).mappings().first()
    return dict(row) if row else None


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


def coverage_gaps(session: Session, village_id: int, caller: Caller) -> CoverageGaps:
    """The part of a village that no active cell covers (slivers within the tolerance ignored)."""
    village = get_unit(session, VILLAGE, village_id, caller)
    cells = session.scalars(
        select(GridCell.boundary).where(GridCell.village_id == village.id, GridCell.retired_at.is_(None))
    ).all()
    shapes = [to_shape(c) for c in cells]
    return CoverageGaps(
        village=village, cell_count=len(shapes), gaps=uncovered_part(to_shape(village.boundary), shapes)
    )


def unit_select(level: Level) -> Select:
    """Every column of a level except the raw boundary, which comes out as GeoJSON text built by the database."""
    model = level.model
    columns = [c for c in model.__table__.columns if c.key != "boundary"]
    return select(*columns, func.ST_AsGeoJSON(model.boundary, OUTPUT_DECIMALS).label("boundary_geojson"))


def unit_row(session: Session, level: Level, unit_id: int, caller: Caller) -> dict[str, Any]:
    """One unit as a row of `unit_select`, retired or not, or `NotFound` (also when out of the caller's scope)."""
    return row_in_scope(session, caller, unit_select(level), level.model, unit_id, level.label)


def unit_filters(
    level: Level,
    caller: Caller,
    *,
    equals: dict[str, Any] | None = None,
    name: str | None = None,
    code_prefix: str | None = None,
    include_retired: bool = False,
    has_owner: bool | None = None,
) -> list[Any]:
    """WHERE clauses for a list of units in the caller's scope: column equalities (parents), name substring, code
    prefix, retired or not, and for cells whether they have a current owner."""
    model = level.model
    clauses: list[Any] = scope_clauses(caller, model)
    clauses += [getattr(model, column) == value for column, value in (equals or {}).items()]
    if has_owner is not None:
        if level is not GRID_CELL:
            raise ValueError("has_owner filters grid cells only")
        clauses.append(has_owner_clause(has_owner))
    if name:
        clauses.append(func.lower(model.name).contains(name.lower(), autoescape=True))
    if code_prefix:
        clauses.append(model.code.startswith(code_prefix, autoescape=True))
    if not include_retired:
        clauses.append(model.retired_at.is_(None))
    return clauses


def _sibling_scope(level: Level, parent_id: int | None) -> str:
    return f"{level.key}:{parent_id or 0}"


def _active_parent(session: Session, level: Level, parent_id: int | None, caller: Caller) -> Any:
    if level.parent is None:
        return None
    pointer = f"/{level.parent_fk}"
    model = level.parent.model
    parent = (
        session.scalar(select(model).where(model.id == parent_id, *scope_clauses(caller, model)))
        if parent_id is not None
        else None
    )
    if parent is None:
        raise RuleViolation(
            f"there is no {level.parent.label} with id {parent_id}", code="parent-not-found", pointer=pointer
        )
    if parent.retired_at is not None:
        raise RuleViolation(
            f"{level.parent.label} {parent.code} is retired; nothing new can be placed in it",
            code="parent-retired",
            pointer=pointer,
        )
    return parent


def _check_fits(
    session: Session, level: Level, boundary: Areal, *, parent: Any, parent_id: int | None, self_id: int | None
) -> None:
    """Within the parent and clear of the active siblings, both up to the digitising tolerance."""
    if parent is not None:
        outside = outside_of(boundary, to_shape(parent.boundary))
        if outside is not None:
            raise RuleViolation(
                f"the boundary extends outside its {level.parent.label} {parent.code} by {outside.describe()} "
                f"(tolerance {TOLERANCE_M:g} m)",
                code="outside-parent",
                pointer="/boundary",
                area_m2=round(outside.area_m2, 1),
            )
    candidates = sibling_candidates_statement(dialect_of(session), level, boundary.bounds, parent_id, self_id)
    for sibling_code, sibling_boundary in session.execute(candidates):
        overlap = overlap_of(boundary, to_shape(sibling_boundary))
        if overlap is not None:
            raise RuleViolation(
                f"the boundary overlaps {level.label} {sibling_code} by {overlap.describe()} "
                f"(tolerance {TOLERANCE_M:g} m)",
                code="overlaps-sibling",
                pointer="/boundary",
                sibling_code=sibling_code,
                area_m2=round(overlap.area_m2, 1),
            )


def _check_children_inside(session: Session, level: Level, unit: Any, boundary: Areal) -> None:
    child = child_level(level)
    if child is None:
        return
    rows = session.execute(
        select(child.model.code, child.model.boundary)
        .where(child.parent_id_column == unit.id, child.model.retired_at.is_(None))
        .order_by(child.model.code)
    )
    for child_code, child_boundary in rows:
        outside = outside_of(to_shape(child_boundary), boundary)
        if outside is not None:
            raise RuleViolation(
                f"the new boundary would leave {child.label} {child_code} outside by {outside.describe()}; "
                f"redraw or retire it first",
                code="children-outside",
                pointer="/boundary",
                child_code=child_code,
            )


def _set_boundary(unit: TerritorialUnit, boundary: BaseGeometry) -> None:
    unit.boundary = from_shape(boundary, srid=SRID)
    unit.area_m2 = geodesic_area_m2(boundary)
    centroid = boundary.centroid
    unit.centroid_lon, unit.centroid_lat = centroid.x, centroid.y
