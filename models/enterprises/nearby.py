"""The spatial questions about enterprises, each within the caller's scope and with the filters of every list,
each through the spatial index on both backends (`geo.nearby`; see docs/spatial.md):

- within a radius of a point, nearest first, each with its distance in geodesic metres;
- the nearest n to a point;
- inside a box (a map's view), paged by cursor;
- within a distance of any geometry (a river, a pipeline, a planned road), paged by cursor.

In a cell, a village or a township is the list's filter: the place is derived from the geometry and kept true (see
`models.enterprises.places`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from geo.near_geometry import within_distance_of
from geo.nearby import Nearby, in_box
from models.base import dialect_of
from models.enterprises.model import Enterprise
from models.enterprises.queries import ENTERPRISE_SELECT, bound_filters, enterprise_clauses
from models.listing import Listing
from models.reads import read_rows
from models.roles import Caller
from models.scope import built_once, scope_values

MAX_RADIUS_M = 50_000.0  # a county is some 50 km across
MAX_NEAREST = 100


def _nearby(session: Session, caller: Caller, filters: dict[str, Any]) -> tuple[Nearby, dict[str, Any]]:
    """The statements by a point for the caller's shape of scope and these filters, built once; their parameters."""
    dialect = dialect_of(session)
    shape, bound, values = bound_filters(filters)
    nearby = built_once(
        ("enterprises-nearby", dialect, shape),
        caller,
        lambda: Nearby.build(
            dialect, ENTERPRISE_SELECT.where(*enterprise_clauses(caller, **bound)), Enterprise.location
        ),
    )
    return nearby, {**values, **scope_values(caller)}


def within_radius(
    session: Session, *, caller: Caller, lon: float, lat: float, radius_m: float, limit: int, **filters: Any
) -> tuple[list[dict[str, Any]], bool]:
    """The enterprises within `radius_m` of the point, nearest first (ties by id), at most `limit`; and whether
    more lie within the radius."""
    nearby, params = _nearby(session, caller, filters)
    rows = nearby.within_radius(lambda stmt, p: read_rows(session, stmt, p), params, lon, lat, radius_m, limit + 1)
    return rows[:limit], len(rows) > limit


def nearest_n(
    session: Session, *, caller: Caller, lon: float, lat: float, n: int, **filters: Any
) -> list[dict[str, Any]]:
    """The `n` enterprises nearest to the point, nearest first (ties by id), each with its distance."""
    nearby, params = _nearby(session, caller, filters)
    return nearby.nearest(lambda stmt, p: read_rows(session, stmt, p), params, lon, lat, n)


def box_listing(*, caller: Caller, dialect: str, bounds: tuple[float, float, float, float], **filters: Any) -> Listing:
    """The enterprises inside the box (edges included), by id: a map's view, page after page."""
    clauses = [*enterprise_clauses(caller, **filters), in_box(dialect, Enterprise.location, bounds)]
    return Listing(ENTERPRISE_SELECT, tuple(clauses), (Enterprise.id,))


def near_geometry_listing(*, caller: Caller, dialect: str, geometry: Any, distance_m: float, **filters: Any) -> Listing:
    """The enterprises within `distance_m` (geodesic) of any part of `geometry`, by name then id."""
    clauses = [
        *enterprise_clauses(caller, **filters),
        within_distance_of(dialect, Enterprise.location, geometry, distance_m),
    ]
    return Listing(ENTERPRISE_SELECT, tuple(clauses), (Enterprise.name, Enterprise.id))
