"""Point queries in geodesic metres (geo.nearby) give the brute-force answers (tests/geo/reference.py) and go
through the spatial index, on both backends.

The points live in a scratch table of this module (`Spot`), created with its spatial index on each backend and
dropped afterwards: ~4,000 random points, most around the demo county (113.1°E 28.3°N), some near 45°N and 20°N.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from geoalchemy2 import Geometry
from shapely.geometry import LineString, MultiLineString, Point, Polygon, mapping
from sqlalchemy import Integer, MetaData, event, insert, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from api.db import db
from geo import SRID
from geo.index import bbox_filter
from geo.near_geometry import as_geometry, geodesic_buffer, within_distance_of
from geo.nearby import (
    circle_bounds,
    distance_m,
    expand_geodesic,
    in_box,
    nearest,
    nearest_within,
    within_radius,
)
from tests.factories import query_plan
from tests.geo import reference

TOLERANCE = 0.005  # geodesic metres within 0.5 %
REGIONS = ((113.1, 28.3, 2400), (125.0, 45.0, 1000), (110.0, 20.0, 300))  # centre, points
SPREAD = (0.06, 0.05)  # degrees of lon, lat either side of a region's centre (~12 x 11 km at 28°N)
EDGE, OUTSIDE = (113.05, 28.31), (113.05 + 2e-7, 28.31)  # on a box's edge; 2 cm beyond it


class _Base(DeclarativeBase):
    pass


class Spot(_Base):
    """A point table like the domain's (POINT, SRID 4326, spatial index, integer id)."""

    __tablename__ = "test_nearby_spots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[int] = mapped_column(Integer)
    location = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)


class Spots:
    """What the table holds, for the brute force: ids, (lon, lat) rows and kinds, aligned."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.ids = np.array([r["id"] for r in rows])
        self.lonlats = np.array([r["lonlat"] for r in rows])
        self.kinds = np.array([r["kind"] for r in rows])

    def ids_where(self, mask: np.ndarray) -> set[int]:
        return set(self.ids[mask].tolist())

    def around(self, rng: random.Random) -> tuple[float, float]:
        """A centre: half the time a random place in a region, else a few metres from one of the points."""
        if rng.random() < 0.5:
            lon, lat, _ = rng.choice(REGIONS)
            return lon + rng.uniform(-SPREAD[0], SPREAD[0]), lat + rng.uniform(-SPREAD[1], SPREAD[1])
        lon, lat = self.lonlats[rng.randrange(len(self.lonlats))]
        lon2, lat2, _ = reference.GEOD.fwd(lon, lat, rng.uniform(0, 360), rng.uniform(0, 20))
        return lon2, lat2


def random_rows(rng: random.Random) -> list[dict[str, Any]]:
    rows: list[tuple[float, float]] = []
    for lon, lat, n in REGIONS:
        rows += [(lon + rng.uniform(-SPREAD[0], SPREAD[0]), lat + rng.uniform(-SPREAD[1], SPREAD[1])) for _ in range(n)]
    rows += [(113.1 + rng.uniform(-0.005, 0.005), 28.3 + rng.uniform(-0.004, 0.004)) for _ in range(300)]  # dense
    rows += [(113.11, 28.31)] * 3 + [EDGE, OUTSIDE]  # the same place thrice; a box's edge and just beyond it
    return [{"id": i + 1, "kind": rng.randrange(4), "lonlat": p} for i, p in enumerate(rows)]


@pytest.fixture(scope="module")
def spots(app) -> Iterator[Spots]:
    engine = db.engine(app)
    # A copy per backend: GeoAlchemy2's DDL hooks take the spatial index off the Table they create on SpatiaLite,
    # and a Table created there first would then get none on PostGIS.
    table = Spot.__table__.to_metadata(MetaData())
    table.create(engine)
    rows = random_rows(random.Random(20261125))
    with engine.begin() as conn:
        values = [
            {"id": r["id"], "kind": r["kind"], "location": "SRID=4326;POINT({} {})".format(*r["lonlat"])} for r in rows
        ]
        conn.execute(insert(Spot), values)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE test_nearby_spots")
    yield Spots(rows)
    table.drop(engine)


def test_the_scratch_table_has_its_spatial_index(spots, session, backend):
    index = "idx_test_nearby_spots_location"
    if backend == "sqlite":
        found = session.connection().exec_driver_sql(f"SELECT count(*) FROM {index}").scalar_one()
        assert found == len(spots.ids)
    else:
        definition = session.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = :i"), {"i": index})
        assert "USING gist (location)" in definition.scalar_one()


# ---- the boxes that hold a circle (pure Python) ---------------------------------------------------------------------


def test_the_box_of_a_circle_holds_the_circle_and_little_more():
    rng = random.Random(1)
    for _ in range(300):
        lon, lat, metres = rng.uniform(73, 135), rng.uniform(-55, 55), 10 ** rng.uniform(0, 6)
        minx, miny, maxx, maxy = circle_bounds(lon, lat, metres)
        azimuths = np.array([0, 90, 180, 270, *np.linspace(0, 360, 721)])
        lons, lats, _ = reference.GEOD.fwd(*(np.full(len(azimuths), v) for v in (lon, lat)), azimuths, [metres] * 725)
        assert (lons >= minx).all() and (lons <= maxx).all() and (lats >= miny).all() and (lats <= maxy).all()
        assert maxy - miny < (lats.max() - lats.min()) * 1.01  # tight: the index gets few candidates
        assert maxx - minx < (lons.max() - lons.min()) * (1.01 + metres / 2e6)


def test_a_geodesic_buffer_holds_every_point_within_the_distance_and_none_much_beyond():
    rng = random.Random(2)
    lonlats = np.array([(113.1 + rng.uniform(-0.08, 0.08), 45.0 + rng.uniform(-0.06, 0.06)) for _ in range(4000)])
    points = [Point(p) for p in lonlats]
    for _ in range(5):
        line, metres = random_line(rng, 113.1, 45.0), rng.uniform(20, 3000)
        zone = geodesic_buffer(line, metres)
        d = reference.distances_to_m(lonlats, line)
        inside = np.array([zone.intersects(p) for p in points])
        assert inside[d <= metres].all()
        assert not inside[d > metres * 1.001].any()


def test_the_reference_distance_to_a_line_is_the_geodesic_one():
    line = LineString([(113.1, 28.3), (113.12, 28.31), (113.13, 28.33)])
    beyond_ends = np.array([(113.09, 28.29), (113.14, 28.35)])  # nearest to an end vertex
    expected = [reference.distances_m(beyond_ends[i : i + 1], *line.coords[k])[0] for i, k in ((0, 0), (1, -1))]
    assert reference.distances_to_m(beyond_ends, line) == pytest.approx(expected, rel=1e-6)


# ---- within a radius, the distance, in a box ------------------------------------------------------------------------


def check_same_set(found: set[int], spots: Spots, d: np.ndarray, metres: float, mask: np.ndarray) -> None:
    """The answer holds every point well within `metres` and none well beyond (0.5 % either side, 1 cm at least)."""
    band = max(metres * TOLERANCE, 0.01)
    assert spots.ids_where(mask & (d <= metres - band)) <= found
    assert found <= spots.ids_where(mask & (d <= metres + band))


def test_within_radius_and_the_distance_are_the_geodesic_ones(spots, session, backend):
    rng = random.Random(3)
    found = 0
    for case in range(40):
        lon, lat = spots.around(rng)
        metres = 10 ** rng.uniform(1, math.log10(5000))
        kind = rng.randrange(4) if case % 2 else None  # half the time with another filter
        stmt = select(Spot.id, distance_m(backend, Spot.location, lon, lat)).where(
            within_radius(backend, Spot.location, lon, lat, metres)
        )
        if kind is not None:
            stmt = stmt.where(Spot.kind == kind)
        answer = dict(session.execute(stmt).all())

        d = reference.distances_m(spots.lonlats, lon, lat)
        mask = spots.kinds == kind if kind is not None else np.ones(len(d), bool)
        check_same_set(set(answer), spots, d, metres, mask)
        by_id = dict(zip(spots.ids.tolist(), d.tolist(), strict=True))
        for spot_id, metres_found in answer.items():
            assert metres_found == pytest.approx(by_id[spot_id], rel=TOLERANCE, abs=0.01)
        found += len(answer)
    assert found > 1000  # not a test of empty answers


def test_within_radius_zero_finds_the_points_at_that_very_place(spots, session, backend):
    stmt = select(Spot.id).where(within_radius(backend, Spot.location, 113.11, 28.31, 0))
    assert len(session.execute(stmt).all()) == 3


def test_in_box_is_exact_for_points_edges_included(spots, session, backend):
    rng = random.Random(4)
    boxes = [(113.0, 28.25, *EDGE)]  # its corner is a point; another lies 2 cm beyond, inside the index's rounding
    for _ in range(20):
        lon, lat = spots.around(rng)
        half_w, half_h = rng.uniform(1e-4, 0.02), rng.uniform(1e-4, 0.02)
        boxes.append((lon - half_w, lat - half_h, lon + half_w, lat + half_h))
    for bounds in boxes:
        found = set(session.execute(select(Spot.id).where(in_box(backend, Spot.location, bounds))).scalars())
        assert found == spots.ids_where(reference.in_box(spots.lonlats, bounds)), bounds
    loose = set(session.execute(select(Spot.id).where(bbox_filter(backend, Spot.location, boxes[0]))).scalars())
    assert spots.ids_where((spots.lonlats == OUTSIDE).all(axis=1)) <= loose  # why in_box adds an exact test


# ---- the n nearest --------------------------------------------------------------------------------------------------


def check_nearest(rows: list[Any], spots: Spots, lon: float, lat: float, n: int, mask: np.ndarray) -> None:
    """The rows are the n nearest (ties aside), nearest first, each with its geodesic distance."""
    expected = reference.nearest(spots.lonlats[mask], lon, lat, n)
    assert len(rows) == len(expected)
    by_id = dict(zip(spots.ids.tolist(), reference.distances_m(spots.lonlats, lon, lat).tolist(), strict=True))
    answered = [row["distance_m"] for row in rows]
    assert answered == pytest.approx([by_id[row["id"]] for row in rows], rel=TOLERANCE, abs=0.01)
    assert answered == sorted(answered)
    assert answered == pytest.approx(expected.tolist(), rel=TOLERANCE, abs=0.01)  # the same distances: the same set
    assert all(mask[spots.ids == row["id"]][0] for row in rows)


def test_nearest_are_the_n_nearest_in_order(spots, session, backend):
    rng = random.Random(5)
    for case in range(30):
        lon, lat = spots.around(rng)
        n = rng.randint(1, 50)
        kind = rng.randrange(4) if case % 2 else None
        base = select(Spot.id, Spot.kind)
        if kind is not None:
            base = base.where(Spot.kind == kind)
        mask = spots.kinds == kind if kind is not None else np.ones(len(spots.ids), bool)

        rows = nearest(session, base, Spot.location, lon, lat, n)

        check_nearest(rows, spots, lon, lat, n, mask)
        assert all(row["kind"] == kind for row in rows if kind is not None)


def test_nearest_far_from_everything_and_with_fewer_rows_than_asked(spots, session):
    few = [int(i) for i in spots.ids[:: len(spots.ids) // 4]]
    base = select(Spot.id).where(Spot.id.in_(few))
    for lon, lat in ((113.1, 28.3), (80.0, 40.0)):  # among the points; 3,000 km from any
        mask = np.isin(spots.ids, few)
        check_nearest(nearest(session, base, Spot.location, lon, lat, 10), spots, lon, lat, 10, mask)
    assert nearest(session, select(Spot.id).where(Spot.kind == 99), Spot.location, 113.1, 28.3, 5) == []
    assert nearest(session, select(Spot.id), Spot.location, 113.1, 28.3, 0) == []


def test_nearest_takes_ties_by_id(spots, session):
    rows = nearest(session, select(Spot.id), Spot.location, 113.11, 28.31, 3)
    assert [row["distance_m"] for row in rows] == [0, 0, 0]
    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)


# ---- within a distance of a line or polygon -------------------------------------------------------------------------


def random_line(rng: random.Random, lon: float, lat: float, vertices: int | None = None) -> LineString:
    """A river: a few to a few hundred vertices, some hundreds of metres to ~6 km long, meandering."""
    vertices = vertices or rng.choice([2, 3, 10, 300])
    step = rng.uniform(500, 6000) / (vertices - 1)
    heading, x, y, coords = rng.uniform(0, 2 * math.pi), lon, lat, []
    for _ in range(vertices):
        coords.append((x, y))
        heading += rng.gauss(0, 0.05 if vertices > 10 else 0.8)
        x, y, _ = reference.GEOD.fwd(x, y, math.degrees(heading), step)
    return LineString(coords)


def shapes(rng: random.Random, spots: Spots) -> Iterator[Any]:
    """Lines, polygons and multi-lines near the points, as shapely, GeoJSON and WKT."""
    for i in range(24):
        lon, lat = spots.around(rng)
        line = random_line(rng, lon, lat)
        if i % 4 == 1:
            yield Polygon(random_line(rng, lon, lat, 8).coords).convex_hull
        elif i % 4 == 2:
            far_end = line.coords[-1]
            yield MultiLineString([line, random_line(rng, far_end[0] + 0.01, far_end[1] - 0.01)])
        elif i % 4 == 3:
            yield rng.choice([mapping(line), line.wkt])
        else:
            yield line


def test_within_distance_of_a_line_or_polygon_is_the_geodesic_one(spots, session, backend):
    rng = random.Random(6)
    total = 0
    for target in shapes(rng, spots):
        metres = 10 ** rng.uniform(1, math.log10(3000))
        stmt = select(Spot.id).where(within_distance_of(backend, Spot.location, target, metres))
        found = set(session.execute(stmt).scalars())

        d = reference.distances_to_m(spots.lonlats, as_geometry(target))
        check_same_set(found, spots, d, metres, np.ones(len(d), bool))
        total += len(found)
    assert total > 1000  # not a test of empty answers


# ---- through the index ----------------------------------------------------------------------------------------------


def uses_index(plan: str, backend: str) -> bool:
    if backend == "sqlite":
        return "SCAN idx_test_nearby_spots_location VIRTUAL TABLE INDEX" in plan
    return "idx_test_nearby_spots_location" in plan and "Seq Scan" not in plan


def test_every_form_goes_through_the_spatial_index(spots, session, backend):
    line = random_line(random.Random(7), 113.1, 28.3, 300)
    clauses = [
        within_radius(backend, Spot.location, 113.1, 28.3, 500),
        in_box(backend, Spot.location, (113.09, 28.29, 113.11, 28.31)),
        within_distance_of(backend, Spot.location, line, 500),
        within_distance_of(backend, Spot.location, small_square(), 50),
    ]
    for clause in clauses:
        plan = query_plan(session, select(Spot.id).where(clause, Spot.kind == 1))
        assert uses_index(plan, backend), plan
    plan = query_plan(session, nearest_within(backend, select(Spot.id), Spot.location, 113.1, 28.3, 10, 500))
    assert uses_index(plan, backend), plan
    session.rollback()


def small_square() -> Polygon:
    """A square of ~1 km around 113.095°E 28.295°N."""
    minx, miny, maxx, maxy = expand_geodesic((113.09, 28.29, 113.1, 28.3), 100)
    return Polygon([(minx, miny), (maxx, miny), (maxx, maxy), (minx, maxy)])


def test_nearest_runs_only_statements_that_go_through_the_spatial_index(spots, session, backend):
    engine = session.get_bind()
    executed: list[tuple[str, Any]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):  # not the BEGIN that SQLite's engine sends
            executed.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        # where the points are sparse (~2 per km² of that kind): SpatiaLite needs a few circles
        rows = nearest(session, select(Spot.id).where(Spot.kind == 2), Spot.location, 125.0, 45.0, 10)
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert len(rows) == 10
    connection = session.connection()
    plans = []
    for statement, parameters in executed:
        if backend == "sqlite":
            plan = "\n".join(r[-1] for r in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
        else:
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = "\n".join(r[0] for r in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters))
        plans.append(plan)
    if backend == "postgresql":  # one statement: the radius by KNN, in the index's order; then the rows within it
        (plan,) = plans
        assert "Order By: (location <->" in plan and plan.count("idx_test_nearby_spots_location") == 2, plan
    else:  # circles through the R*Tree until one holds 10 rows; then those rows by primary key
        assert len(plans) >= 3
        assert all(uses_index(plan, backend) for plan in plans[:-1]), plans
        assert "json_each" in executed[-1][0] and "USING INTEGER PRIMARY KEY" in plans[-1], plans[-1]
    session.rollback()
