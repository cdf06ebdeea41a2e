"""Writing the territorial hierarchy: create, rename or redraw, retire. Each public function is one transaction.

Every rule here holds on both backends because it is checked in Python (shapely) on candidates that the
database finds through its spatial index.
"""

from __future__ import annotations

from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geo import SRID
from geo.geojson import OUTPUT_DECIMALS
from geo.measure import TOLERANCE_M, geodesic_area_m2, outside_of, overlap_of
from models import locks
from models.base import check_version, commit_guarded, dialect_of, utcnow, write_transaction
from models.errors import Conflict, RuleViolation
from models.roles import Caller
from models.scope import scope_clauses
from models.territory.guards import boundary_changed, cell_retiring
from models.territory.model import GRID_CELL, Level, TerritorialUnit, child_level
from models.territory.queries import get_unit, sibling_candidates_statement

Areal = Polygon | MultiPolygon


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
    write_transaction(session, locks.children_of(level.key, parent_id), *boundary_changed.locks(0))
    parent = _active_parent(session, caller=caller, level=level, parent_id=parent_id)
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
        session.flush()  # its id, for those who follow the boundary
        boundary_changed.run(session, caller=caller, level=level, unit=unit, old_boundary=None)
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
    child = child_level(level)
    write_transaction(session, *([locks.children_of(child.key, unit_id)] if child else []))
    unit = get_unit(session, caller=caller, level=level, unit_id=unit_id)
    check_version(unit, expected_version)
    if unit.retired_at is not None:
        raise Conflict(f"{level.label} {unit.code} is retired and can no longer change", code="unit-retired")
    parent_id = getattr(unit, level.parent_fk) if level.parent_fk else None
    write_transaction(
        session, locks.children_of(level.key, parent_id), *(boundary_changed.locks(unit.id) if boundary else [])
    )
    old_boundary = None
    # The boundary a GET answered (rounded to 7 decimals, ~1 cm) sent back unchanged is no change.
    if boundary is not None and not boundary.equals_exact(to_shape(unit.boundary), 10**-OUTPUT_DECIMALS):
        parent = session.get(level.parent.model, parent_id) if level.parent else None
        _check_fits(session, level, boundary, parent=parent, parent_id=parent_id, self_id=unit.id)
        _check_children_inside(session, level, unit, boundary)
        old_boundary = to_shape(unit.boundary)
        _set_boundary(unit, boundary)
    if name is not None and name != unit.name:
        unit.name = name
    if session.is_modified(unit):  # a PATCH that changes nothing leaves the version (and every ETag) alone
        unit.updated_at = utcnow()
    if old_boundary is not None:
        boundary_changed.run(session, caller=caller, level=level, unit=unit, old_boundary=old_boundary)
    commit_guarded(session)
    return unit


def retire_unit(session: Session, *, caller: Caller, level: Level, unit_id: int, expected_version: int | None) -> Any:
    """Retire a unit: it keeps its history and code but no longer counts.

    Its children must be retired first; a cell is retired only when every domain registered in `cell_retiring` lets
    it (its team has ended, say: nobody stays responsible for a cell that no longer exists).
    """
    child = child_level(level)
    write_transaction(
        session,
        *([locks.children_of(child.key, unit_id)] if child else cell_retiring.locks(unit_id)),
        *boundary_changed.locks(unit_id),
    )
    unit = get_unit(session, caller=caller, level=level, unit_id=unit_id)
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
        cell_retiring.run(session, caller=caller, cell=unit)
    unit.retired_at = unit.updated_at = utcnow()
    boundary_changed.run(session, caller=caller, level=level, unit=unit, old_boundary=to_shape(unit.boundary))
    commit_guarded(session)
    return unit


def _active_parent(session: Session, *, caller: Caller, level: Level, parent_id: int | None) -> Any:
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
