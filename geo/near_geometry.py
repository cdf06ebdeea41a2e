"""Points within a geodesic distance of a line or polygon, through the spatial index, one form per backend (the
questions by a point are `geo.nearby`'s, whose notes on the two backends hold here too).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, and_, cast, func, select
from sqlalchemy.orm import InstrumentedAttribute

from geo import SRID
from geo.index import bbox_filter
from geo.measure import metres_per_degree
from geo.nearby import _GEOGRAPHY, _reach_deg, within_radius

EDGE_DEG = 0.001  # edges are cut to this length (~100 m), so that they mean the same straight lon/lat line everywhere
QUAD_SEGS = 32  # buffer arcs: a quarter circle in 32 chords


def as_geometry(value: BaseGeometry | dict[str, Any] | str) -> BaseGeometry:
    """A shapely geometry from a shapely geometry, a GeoJSON geometry (mapping or text) or WKT, in lon/lat."""
    if isinstance(value, BaseGeometry):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("{"):
            return shapely.from_wkt(text)
        value = json.loads(text)
    return shape(value)


def geodesic_buffer(geometry: BaseGeometry, metres: float) -> BaseGeometry:
    """A lon/lat polygon holding every point within `metres` (geodesic) of `geometry`, and none more than 0.08 %
    farther (measured: its edge lies 1.0000 to 1.0008 times `metres` from the geometry, at 20° to 53°N).

    Built in a transverse Mercator centred on the geometry (conformal: a local circle stays round; its scale, which
    grows as x²/2R² away from the central meridian, is made up for). The buffer's arcs are chords whose ends lie a
    little outside the circle, so that no chord cuts inside it.
    """
    minx, miny, maxx, maxy = geometry.bounds
    lon0, lat0 = (minx + maxx) / 2, (miny + maxy) / 2
    mercator = Transformer.from_pipeline(  # a pipeline: no look-up in PROJ's database (~20 ms for EPSG:4326)
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
        f"+step +proj=tmerc +lat_0={lat0!r} +lon_0={lon0!r} +ellps=WGS84"
    )

    def to_metres(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(mercator.transform(xy[:, 0], xy[:, 1]))

    def to_degrees(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(mercator.transform(xy[:, 0], xy[:, 1], direction="INVERSE"))

    local = shapely.transform(shapely.segmentize(geometry, EDGE_DEG), to_metres)
    reach = (maxx - minx) / 2 * metres_per_degree(lat0)[0] + metres  # farthest from the central meridian
    scale = 1 + reach**2 / (2 * 6_371_000.0**2)  # the projection's scale there: its metres are that much too long
    # GEOS cuts an arc of angle a into round(a / q) chords, q = 90° / QUAD_SEGS: a chord may span up to 1.5 q.
    chords = math.cos(1.5 * math.pi / (4 * QUAD_SEGS))
    zone = local.buffer(metres * scale / chords, quad_segs=QUAD_SEGS)
    return shapely.transform(shapely.segmentize(zone, 100.0), to_degrees)


def within_distance_of(
    dialect: str, geom: InstrumentedAttribute, geometry: BaseGeometry | dict[str, Any] | str, metres: float
) -> ColumnElement[bool]:
    """Points within `metres` (geodesic) of any part of `geometry` (WKT, GeoJSON or shapely, in lon/lat: a line, a
    polygon and its inside, or a multi-part one), through the spatial index.

    Edges are straight lines in lon/lat (as GeoJSON means them); they are cut to 0.001° first, so that PostGIS's
    great-circle edges (and the buffer's projected ones) follow them to a fraction of a millimetre.

    PostGIS: candidates by `ST_DWithin` in degrees on the geometry's index, then `ST_DWithin` on geography, exact.
    SpatiaLite: candidates in the box of `geodesic_buffer` through the R*Tree, then `ST_Intersects` with it, which
    may take in points up to 0.08 % beyond `metres`.
    """
    target = as_geometry(geometry)
    if isinstance(target, Point):
        return within_radius(dialect, geom, target.x, target.y, metres)
    edges = shapely.segmentize(target, EDGE_DEG)
    if dialect == "sqlite":
        zone = geodesic_buffer(edges, metres)
        exact = func.ST_Intersects(geom, func.GeomFromWKB(zone.wkb, SRID)) == 1
        return and_(bbox_filter(dialect, geom, zone.bounds), exact)
    # A planar distance in degrees picks the candidates through the index (a path m long spans at most m / kmin
    # degrees, kmin the shortest degree it may cross: see `_reach_deg`). Each geometry is built once, in a subquery:
    # after five runs of a prepared statement, PostgreSQL may switch to a generic plan that would rebuild it per row.
    reach = max(_reach_deg(edges.bounds, metres))
    in_degrees = select(func.ST_GeomFromWKB(edges.wkb, SRID)).scalar_subquery()
    as_geography = select(func.ST_GeogFromWKB(edges.wkb)).scalar_subquery()
    return and_(
        func.ST_DWithin(geom, in_degrees, reach),
        func.ST_DWithin(cast(geom, _GEOGRAPHY), as_geography, float(metres)),
    )
