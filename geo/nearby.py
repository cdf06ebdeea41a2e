"""Point queries in geodesic metres, through the spatial index, one form per backend: points in a box, within a
radius, the n nearest (and, in `geo.near_geometry`, within a distance of a line or polygon).

Each form takes the mapped geometry attribute of a point table (`Enterprise.location`: POINT, SRID 4326, WGS-84
lon/lat, a spatial index, an integer primary key `id`, as `geo.index.bbox_filter` needs) and works on any such table.
Metres are geodesic, on the WGS-84 ellipsoid, on both backends:

- PostGIS: the GiST index on the geometry column picks the candidates (`&&` with a lon/lat box that holds the whole
  circle), then geography tests them exactly on the spheroid (`ST_DWithin`, `ST_Distance`). `ST_DWithin` on a cast to
  geography alone would read the whole table: it can only use an index on the expression `(location::geography)`,
  which measured no faster and would be a second index to keep (docs/spatial.md).
- SpatiaLite: the R*Tree `idx_<table>_<column>` picks the candidates, then `PtDistWithin(a, b, m, 1)` and
  `ST_Distance(a, b, 1)` test them on the ellipsoid: between two points they agree with pyproj's geodesic to the
  last digit. Between a point and a line they do not (SpatiaLite takes the nearest point in degrees: measured up to
  5 % too long at 28°N, 40 % at 53°N), so distances to lines and polygons test points against a geodesic buffer
  (`geo.near_geometry.geodesic_buffer`).

The sphere (PostGIS `use_spheroid=false`, SpatiaLite without the `1`) errs by up to 0.46 % in China: never used.
Longitudes are taken not to wrap around ±180°.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
from geoalchemy2 import Geography
from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    CompoundSelect,
    Connection,
    Float,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from geo import SRID
from geo.index import Bounds, bbox_filter, entries_in_box
from geo.measure import ECCENTRICITY2, SEMI_MAJOR_M, geodesic_distances_m, metres_per_degree

MIN_M_PER_DEG_LAT = 110_574.0  # metres per degree of latitude at the equator, its least (WGS-84: 110 574.27)
SLACK = 1.001  # boxes are widened by this much more than the geometry needs (rounding; a box is only a filter)
WHOLE_EARTH_M = 20_100_000.0  # longer than any geodesic on WGS-84 (half a meridian: 20 004 km)
_GEOGRAPHY = Geography(geometry_type=None)

Read = Callable[[Select, dict[str, Any]], list[dict[str, Any]]]  # runs a statement with parameters: its rows


def _reach_deg(bounds: Bounds, metres: float) -> tuple[float, float]:
    """How far, in degrees of longitude and of latitude, a point within `metres` (geodesic) of the box may lie
    beyond it.

    A path of length m from a point of the box changes latitude by at most m / 110 574 degrees and so stays within
    that latitude band; there a degree of longitude is at least as long as on the band's poleward edge.
    """
    if metres < 0:
        raise ValueError("a distance is never negative")
    _minx, miny, _maxx, maxy = bounds
    dlat = metres * SLACK / MIN_M_PER_DEG_LAT
    poleward = max(abs(miny), abs(maxy)) + dlat
    if poleward >= 89.0:
        return 360.0, dlat
    return metres * SLACK / metres_per_degree(poleward)[0], dlat


def expand_geodesic(bounds: Bounds, metres: float) -> Bounds:
    """A lon/lat box holding every point within `metres` (geodesic) of the box `bounds` (minx, miny, maxx, maxy)."""
    minx, miny, maxx, maxy = bounds
    dlon, dlat = _reach_deg(bounds, metres)
    south, north = max(miny - dlat, -90.0), min(maxy + dlat, 90.0)
    if dlon >= 180.0:
        return -180.0, south, 180.0, north
    return minx - dlon, south, maxx + dlon, north


def circle_bounds(lon: float, lat: float, metres: float) -> Bounds:
    """A lon/lat box holding every point within `metres` (geodesic) of (lon, lat)."""
    return expand_geodesic((lon, lat, lon, lat), metres)


def _value(value: Any) -> Any:
    """A number as a float; a bound parameter (a statement built once) as it is."""
    return value if isinstance(value, ClauseElement) else float(value)


def _point(dialect: str, lon: Any, lat: Any) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return func.MakePoint(_value(lon), _value(lat), SRID)
    return func.ST_SetSRID(func.ST_MakePoint(_value(lon), _value(lat)), SRID)


def in_box(dialect: str, geom: InstrumentedAttribute, bounds: Bounds) -> ColumnElement[bool]:
    """Points in the box `bounds` (minx, miny, maxx, maxy), edges included, through the spatial index.

    `bbox_filter` alone is not exact for points: both indexes keep boxes in 32-bit floats, rounded outwards (at 113°E
    one step is 7.6e-6°, ~0.75 m), so it also answers points up to a step outside. The exact test follows it here.
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    if dialect == "sqlite":
        box = func.BuildMbr(minx, miny, maxx, maxy, SRID)
        return and_(bbox_filter(dialect, geom, bounds), func.MbrIntersects(geom, box) == 1)
    return func.ST_Intersects(geom, func.ST_MakeEnvelope(minx, miny, maxx, maxy, SRID))


def distance_m(dialect: str, geom: InstrumentedAttribute, lon: float, lat: float) -> ColumnElement[float]:
    """The geodesic distance in metres from each row's point to (lon, lat) (for answering and ordering; filter with
    `within_radius`, which goes through the index)."""
    point = _point(dialect, lon, lat)
    if dialect == "sqlite":
        return func.ST_Distance(geom, point, 1, type_=Float)
    return func.ST_Distance(cast(geom, _GEOGRAPHY), cast(point, _GEOGRAPHY), type_=Float)


def within_radius(
    dialect: str, geom: InstrumentedAttribute, lon: Any, lat: Any, metres: Any, bounds: Any = None
) -> ColumnElement[bool]:
    """Points within `metres` (geodesic, edge included) of (lon, lat), through the spatial index. Numbers; or bound
    parameters, then with `bounds` as parameters too (their values from `circle_bounds`)."""
    candidates = bbox_filter(dialect, geom, circle_bounds(lon, lat, metres) if bounds is None else bounds)
    point = _point(dialect, lon, lat)
    if dialect == "sqlite":
        return and_(candidates, func.PtDistWithin(geom, point, _value(metres), 1) == 1)
    return and_(candidates, func.ST_DWithin(cast(geom, _GEOGRAPHY), cast(point, _GEOGRAPHY), _value(metres)))


def nearest_within(
    dialect: str, base: Select, geom: InstrumentedAttribute, lon: Any, lat: Any, n: Any, metres: Any, bounds: Any = None
) -> Select:
    """The statement: the `n` rows of `base` nearest to (lon, lat) among those within `metres`, nearest first (ties by
    primary key), each with its geodesic distance added as the column `distance_m` (numbers or bound parameters, as
    `within_radius` takes them)."""
    distance = distance_m(dialect, geom, lon, lat).label("distance_m")
    primary_key = geom.class_.__table__.primary_key.columns
    return (
        base.add_columns(distance)
        .where(within_radius(dialect, geom, lon, lat, metres, bounds))
        .order_by(None)
        .order_by(distance, *primary_key)
        .limit(n)
    )


def _dialect_of(db: Session | Connection) -> str:
    return (db.get_bind() if isinstance(db, Session) else db).dialect.name


_NEAR = {name: bindparam(f"near_{name}", type_=Float) for name in ("lon", "lat", "m", "minx", "miny", "maxx", "maxy")}
_NEAR_N = bindparam("near_n", type_=Integer)
_NEAR_IDS = bindparam("near_ids", type_=String)  # SpatiaLite: a JSON array of primary keys


def _number(value: float) -> ColumnElement[float]:
    """A constant written into the statement (a bound one would leave PostgreSQL to guess its type)."""
    return literal_column(repr(float(value)), Float)


def _reach(radius: ColumnElement[float], lat: ColumnElement[float]) -> tuple[ColumnElement[float], ...]:
    """`circle_bounds` in SQL (PostGIS), for a radius the statement finds itself: how far, in degrees of longitude
    and of latitude, a point within `radius` metres of latitude `lat` may lie (`_reach_deg` for a point)."""
    dlat = radius * _number(SLACK / MIN_M_PER_DEG_LAT)
    poleward = func.radians(func.abs(lat) + dlat, type_=Float)
    sin2 = func.power(func.sin(poleward, type_=Float), _number(2))
    w = func.sqrt(_number(1) - _number(ECCENTRICITY2) * sin2, type_=Float)
    per_degree = _number(math.radians(1) * SEMI_MAJOR_M) * func.cos(poleward, type_=Float) / w  # metres_per_degree()[0]
    dlon = case((func.abs(lat) + dlat >= _number(89.0), _number(360.0)), else_=radius * _number(SLACK) / per_degree)
    return dlon, dlat


RUNGS = tuple(250.0 * 2 ** (i / 2) for i in range(19))  # metres: 250 m to 128 km, each √2 times the last


def _first_candidates(base: Select, geom: InstrumentedAttribute, n: int) -> CompoundSelect:
    """SpatiaLite, in one statement: the candidates of `base` in the box of a circle likely to hold n of them, as
    `Nearby.within` answers them; and a row of its own with that circle's radius (`near_m`, NULL in the others).
    The radius is the half-width of the smallest of the boxes `RUNGS` around (near_lon, near_lat) that holds 4n/π
    entries of the R*Tree (near_dlon, near_dlat: degrees per metre there), so that the circle inside it holds about
    n; WHOLE_EARTH_M when none does. Each count reads at most that many entries of the index. The count is written
    into the statement: SQLite runs it in 30 µs so, and in 400 µs with it a parameter. The point is bound once, in
    `near_point` (4 parameters, not 152 for the rungs' boxes)."""
    count = math.ceil(n * 4 / math.pi)
    names = ("lon", "lat", "dlon", "dlat")
    point = select(*(bindparam(f"near_{name}", type_=Float).label(name) for name in names)).cte("near_point")
    lon, lat, per_lon, per_lat = (point.c[name] for name in names)
    holds = []  # whether the box of each rung holds enough entries: true from some rung on
    for metres in RUNGS:
        half_lon, half_lat = _number(metres) * per_lon, _number(metres) * per_lat
        box = (lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat)
        held = select(func.count()).select_from(entries_in_box(geom, box, count).subquery()).scalar_subquery()
        holds.append(held >= literal_column(str(count), Integer))

    def smallest(low: int, high: int) -> ColumnElement[float]:
        """The first rung from `low` to `high` that holds enough (`high` past the last: none), by bisection: 4 or 5
        counts instead of one per rung up to it (7 on the demo county)."""
        if low == high:
            return _number(RUNGS[low] if low < len(RUNGS) else WHOLE_EARTH_M)
        middle = (low + high) // 2
        return case((holds[middle], smallest(low, middle)), else_=smallest(middle + 1, high))

    radius = select(smallest(0, len(RUNGS)).label("m"), lon, lat).cte("near_radius")
    radius = radius.prefix_with("MATERIALIZED")  # the ladder run once, not once for each use of the radius
    dlon, dlat = _reach(radius.c.m, radius.c.lat)  # `circle_bounds` in SQL
    reach = select(
        radius.c.m,
        (radius.c.lon - dlon).label("minx"),
        func.max(radius.c.lat - dlat, _number(-90)).label("miny"),
        (radius.c.lon + dlon).label("maxx"),
        func.min(radius.c.lat + dlat, _number(90)).label("maxy"),
    ).cte("near_reach")
    reach = reach.prefix_with("MATERIALIZED")
    bounds = tuple(select(reach.c[name]).scalar_subquery() for name in ("minx", "miny", "maxx", "maxy"))
    candidates = _candidates(base, geom, bounds, null().label("near_m"))
    return union_all(candidates, select(null(), null(), null(), reach.c.m))


def _candidates(base: Select, geom: InstrumentedAttribute, bounds: tuple[Any, ...], *more: Any) -> Select:
    """SpatiaLite: the primary key and lon/lat (`near_id`, `near_x`, `near_y`) of `base`'s rows in the box
    `bounds`, through the R*Tree; `more` columns after them."""
    (key,) = geom.class_.__table__.primary_key.columns
    return base.with_only_columns(
        key.label("near_id"), func.ST_X(geom).label("near_x"), func.ST_Y(geom).label("near_y"), *more,
        maintain_column_froms=True,
    ).where(bbox_filter("sqlite", geom, bounds))  # fmt: skip


@dataclass(frozen=True)
class Nearby:
    """The statements of the questions by a point for one `base` and dialect, with the point, the radius and the
    count as bound parameters: built once (per shape of `base`), then run with other values each time, without
    building or compiling anything again.

    `base` is a select of the point table with whatever WHERE clauses the caller needs (sector, scope...), its values
    bound parameters for a `Nearby` built once; its own order and limit are replaced. Each method takes `read`, which
    runs a statement with parameters and answers its rows as mappings (`models.reads.read_rows`); the rows answered
    are `base`'s, each with its geodesic distance added as `distance_m`.

    PostGIS measures in the statement (geography, on the spheroid: a microsecond a row). SpatiaLite's own geodesic
    distance costs 5 to 20 µs a row (`ST_Distance(a, b, 1)`), so there the statement only picks the candidates in
    the circle's box through the R*Tree (primary key and coordinates), pyproj measures them all at once
    (`geo.measure.geodesic_distances_m`: GeographicLib, the same numbers as SpatiaLite's and PostGIS's), and the
    rows wanted are read by primary key.
    """

    dialect: str
    within: Select  # PostGIS: nearest_within, every value a parameter; SpatiaLite: the candidates in the box
    by_keys: Select | None  # SpatiaLite: `base`'s rows whose primary key is in the JSON array `near_ids`
    key: str  # the primary key's name in `base`'s rows
    base: Select
    geom: InstrumentedAttribute
    _by_count: dict[int, Select] = field(default_factory=dict, compare=False, repr=False)  # statements per n

    @classmethod
    def build(cls, dialect: str, base: Select, geom: InstrumentedAttribute) -> Nearby:
        p = _NEAR
        bounds = (p["minx"], p["miny"], p["maxx"], p["maxy"])
        (key,) = geom.class_.__table__.primary_key.columns
        base = base.order_by(None).limit(None)
        if dialect == "sqlite":
            candidates = _candidates(base, geom, bounds)
            keys = func.json_each(_NEAR_IDS).table_valued("value")
            by_keys = base.where(key.in_(select(keys.c.value)))
            return cls(dialect, candidates, by_keys, key.key, base, geom)
        within = nearest_within(dialect, base, geom, p["lon"], p["lat"], _NEAR_N, p["m"], bounds)
        return cls(dialect, within, None, key.key, base, geom)

    def _nearest_in_one(self, n: int) -> Select:
        """PostGIS: the n nearest in one statement, built once per n. n is written into it: with it a parameter,
        PostgreSQL's plan for any n (a generic plan) reckons with a tenth of the table, so it would plan the
        statement anew on every run (0.1 to 0.3 ms), as its estimate of a plan made for the values is lower."""
        found = self._by_count.get(n)
        if found is not None:
            return found
        p, base, geom, count = _NEAR, self.base, self.geom, literal_column(str(int(n)), Integer)
        # The radius that holds the n nearest: the geodesic distance of the farthest of the n nearest in degrees (KNN
        # on the index), a hair longer (distances are computed again by another function); then its box.
        distance = distance_m(self.dialect, geom, p["lon"], p["lat"]).label("d")
        by_degrees = geom.op("<->", return_type=Float)(_point(self.dialect, p["lon"], p["lat"]))
        in_degrees = (
            base.with_only_columns(distance, maintain_column_froms=True).order_by(by_degrees).limit(count).subquery()
        )
        radius = select((func.max(in_degrees.c.d) * _number(1 + 1e-9) + _number(1e-6)).label("m")).subquery().c.m
        dlon, dlat = _reach(radius, p["lat"])
        reach = (
            select(
                radius.label("m"),
                (p["lon"] - dlon).label("minx"),
                func.greatest(p["lat"] - dlat, _number(-90)).label("miny"),
                (p["lon"] + dlon).label("maxx"),
                func.least(p["lat"] + dlat, _number(90)).label("maxy"),
            )
            .cte("near_reach")
            .prefix_with("MATERIALIZED")
        )  # computed once, not in each place it is named
        m, *reach_bounds = (select(c).scalar_subquery() for c in reach.c)  # each read from the CTE's one row
        stmt = nearest_within(self.dialect, base, geom, p["lon"], p["lat"], count, m, tuple(reach_bounds))
        self._by_count[n] = stmt
        return stmt

    @staticmethod
    def values(lon: float, lat: float, metres: float, n: int) -> dict[str, Any]:
        minx, miny, maxx, maxy = circle_bounds(lon, lat, metres)
        return {"near_lon": lon, "near_lat": lat, "near_m": metres, "near_n": n,
                "near_minx": minx, "near_miny": miny, "near_maxx": maxx, "near_maxy": maxy}  # fmt: skip

    def within_radius(self, read: Read, params: dict[str, Any], lon: float, lat: float, metres: float, n: int) -> Any:
        """The `n` rows nearest to (lon, lat) among those within `metres`, nearest first, with `distance_m`."""
        values = {**params, **self.values(lon, lat, metres, n)}
        if self.by_keys is None:
            return read(self.within, values)
        keys, metres_to = self._measured(read(self.within, values), lon, lat)
        inside = metres_to <= metres
        return self._rows(read, params, keys[inside], metres_to[inside], n)

    def nearest(
        self, read: Read, params: dict[str, Any], lon: float, lat: float, n: int, start_m: float | None = None
    ) -> Any:
        """The `n` rows nearest to (lon, lat) by geodesic distance, nearest first (ties by primary key), with
        `distance_m`; fewer when there are fewer. Exact, not a planar approximation: the answer is always the n
        nearest within a radius that holds n rows, through the index (whichever the radius: it only sets the cost).

        PostGIS: one statement; it finds that radius by KNN on the index (the n nearest in degrees: the farthest of
        them by geodesic distance is a radius that holds n rows), then the n nearest within it. SpatiaLite (whose KNN
        virtual table answers nothing in 5.0.1): circles from `start_m` (by default one the R*Tree suggests, read
        with its candidates: see `_first_candidates`), each grown by how many rows the last one held, until one
        holds n rows or the whole Earth, each a cheap read of the candidates in its box; then the n rows."""
        if n <= 0:
            return []
        if self.by_keys is None:
            return read(self._nearest_in_one(n), {**params, "near_lon": lon, "near_lat": lat})
        if start_m is None:
            radius, candidates = self._first(read, params, lon, lat, n)
        else:
            radius, candidates = start_m, read(self.within, {**params, **self.values(lon, lat, start_m, n)})
        while True:
            keys, metres_to = self._measured(candidates, lon, lat)
            inside = metres_to <= radius
            held = int(inside.sum())
            if held >= n or radius >= WHOLE_EARTH_M:
                return self._rows(read, params, keys[inside], metres_to[inside], n)
            # grow by what the circle held: k rows in it, n wanted -> an area n / k times larger (a little more),
            # at least 1.5 times; nothing in it -> 4 times
            grow = 4.0 if not held else max(1.5, 1.25 * math.sqrt(n / held))
            radius = min(radius * grow, WHOLE_EARTH_M)
            candidates = read(self.within, {**params, **self.values(lon, lat, radius, n)})

    def _first(self, read: Read, params: dict[str, Any], lon: float, lat: float, n: int) -> tuple[float, list[Any]]:
        """SpatiaLite: a circle likely to hold n rows, from the R*Tree alone, and the candidates in its box, in one
        read (see `_first_candidates`): reading the candidates of a circle costs far less than reading them again
        for a larger one, but each costs its box's entries."""
        stmt = self._by_count.get(n)
        if stmt is None:
            stmt = self._by_count[n] = _first_candidates(self.base, self.geom, n)
        per_lon, per_lat = metres_per_degree(lat)
        point = {"near_lon": lon, "near_lat": lat, "near_dlon": 1 / per_lon, "near_dlat": 1 / per_lat}
        rows = read(stmt, {**params, **point})
        radius = next(row["near_m"] for row in rows if row["near_m"] is not None)
        return float(radius), [row for row in rows if row["near_m"] is None]

    @staticmethod
    def _measured(candidates: list[Any], lon: float, lat: float) -> tuple[np.ndarray, np.ndarray]:
        """SpatiaLite: the primary keys of the candidates in the box, and their geodesic distances to (lon, lat)."""
        keys = np.array([row["near_id"] for row in candidates], dtype=np.int64)
        lons = [row["near_x"] for row in candidates]
        lats = [row["near_y"] for row in candidates]
        return keys, geodesic_distances_m(lons, lats, lon, lat)

    def _rows(self, read: Read, params: dict[str, Any], keys: np.ndarray, metres_to: np.ndarray, n: int) -> Any:
        """SpatiaLite: the rows of the `n` nearest of these candidates, nearest first (ties by primary key)."""
        order = np.lexsort((keys, metres_to))[:n]
        if not len(order):
            return []
        chosen = keys[order].tolist()
        rows = read(self.by_keys, {**params, "near_ids": orjson.dumps(chosen).decode()})
        found = {row[self.key]: row for row in rows}
        answered = []
        for key, metres in zip(chosen, metres_to[order].tolist(), strict=True):
            row = found[key]  # read for this answer: completed in place
            row["distance_m"] = metres
            answered.append(row)
        return answered


def nearest(
    db: Session | Connection,
    base: Select,
    geom: InstrumentedAttribute,
    lon: float,
    lat: float,
    n: int,
    *,
    start_m: float | None = None,
) -> list[dict[str, Any]]:
    """The `n` rows of `base` nearest to (lon, lat) by geodesic distance (see `Nearby.nearest`), as mappings: the
    statements built for this call."""
    read: Read = lambda stmt, params: [dict(row) for row in db.execute(stmt, params).mappings()]  # noqa: E731
    return Nearby.build(_dialect_of(db), base, geom).nearest(read, {}, lon, lat, n, start_m)
