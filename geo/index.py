"""Index-backed spatial filters, one form per backend.

SpatiaLite never consults its R*Tree by itself, so every filter there goes through the index table
`idx_<table>_<column>` explicitly; PostGIS uses its GiST index for `&&` and `ST_Intersects` on its own.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, column, func, literal_column, select, table
from sqlalchemy.orm import InstrumentedAttribute

from geo import SRID

Bounds = tuple[float, float, float, float]


def _rtree(geom_table: Table, geom_column: str) -> Table:
    return table(
        f"idx_{geom_table.name}_{geom_column}",
        column("pkid"),
        column("xmin"),
        column("xmax"),
        column("ymin"),
        column("ymax"),
    )


def bbox_filter(dialect: str, geom: InstrumentedAttribute, bounds: Bounds) -> ColumnElement[bool]:
    """Rows whose geometry's bounding box meets `bounds` (minx, miny, maxx, maxy), through the spatial index."""
    minx, miny, maxx, maxy = bounds
    geom_table: Table = geom.class_.__table__
    if dialect == "sqlite":
        rtree = _rtree(geom_table, geom.key)
        candidates = select(rtree.c.pkid).where(
            rtree.c.xmin <= maxx, rtree.c.xmax >= minx, rtree.c.ymin <= maxy, rtree.c.ymax >= miny
        )
        return geom_table.c.id.in_(candidates)
    return geom.op("&&")(func.ST_MakeEnvelope(minx, miny, maxx, maxy, SRID))


def entries_in_box(geom: InstrumentedAttribute, bounds: Bounds, limit: int) -> Select:
    """SpatiaLite: up to `limit` entries of the R*Tree whose boxes meet `bounds`, read from the index alone (so
    regardless of any filter on the table): a cheap count of what lies around a place. The limit is written into
    the statement (SQLite took ten times as long over such counts with a bound LIMIT or OFFSET)."""
    minx, miny, maxx, maxy = bounds
    rtree = _rtree(geom.class_.__table__, geom.key)
    return (
        select(rtree.c.pkid)
        .where(rtree.c.xmin <= maxx, rtree.c.xmax >= minx, rtree.c.ymin <= maxy, rtree.c.ymax >= miny)
        .limit(literal_column(str(int(limit))))
        .offset(literal_column("0"))  # or SQLAlchemy binds an OFFSET of its own
    )


def point_filter(dialect: str, geom: InstrumentedAttribute, lon: Any, lat: Any) -> ColumnElement[bool]:
    """Rows whose geometry contains or touches the point, through the spatial index (`lon`, `lat`: numbers, or
    bound parameters for a statement built once)."""
    point = (
        func.ST_SetSRID(func.ST_MakePoint(lon, lat), SRID) if dialect != "sqlite" else func.MakePoint(lon, lat, SRID)
    )
    exact = func.ST_Intersects(geom, point)
    if dialect == "sqlite":
        return and_(bbox_filter(dialect, geom, (lon, lat, lon, lat)), exact)
    return exact
