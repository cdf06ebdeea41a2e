"""Time the point queries of geo.nearby on SpatiaLite and PostGIS: a scratch table of random points (100,000 by
default, over ~60 x 55 km around 113.1°E 28.3°N, ~30 per km²), median and p90 over random centres and rivers.
Prints a Markdown table (docs/spatial.md keeps one); asserts nothing.

    .venv/bin/python scripts/bench_nearby.py                      # both backends, a throw-away PostgreSQL server
    .venv/bin/python scripts/bench_nearby.py --points 20000 --postgres-url postgresql://...
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geoalchemy2 import Geography, Geometry
from pyproj import Geod
from shapely.geometry import LineString
from sqlalchemy import Engine, Integer, MetaData, cast, func, insert, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from geo import SRID
from geo.engine import make_engine
from geo.near_geometry import within_distance_of
from geo.nearby import distance_m, in_box, nearest, within_radius
from tests.pg_server import postgres_server

CENTRE, SPREAD = (113.1, 28.3), (0.3, 0.25)
GEOD = Geod(ellps="WGS84")


class _Base(DeclarativeBase):
    pass


class Spot(_Base):
    __tablename__ = "bench_spots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[int] = mapped_column(Integer)
    location = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)


def build(engine: Engine, points: int) -> None:
    """The scratch table, filled and analysed (a copy of the Table per backend: see tests/geo/test_nearby.py)."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    table = Spot.__table__.to_metadata(MetaData())
    table.drop(engine, checkfirst=True)
    table.create(engine)
    rng = random.Random(1)
    for start in range(0, points, 20_000):
        rows = [
            {
                "id": i + 1,
                "kind": rng.randrange(10),
                "location": f"SRID=4326;POINT({CENTRE[0] + rng.uniform(-SPREAD[0], SPREAD[0])} "
                f"{CENTRE[1] + rng.uniform(-SPREAD[1], SPREAD[1])})",
            }
            for i in range(start, min(points, start + 20_000))
        ]
        with engine.begin() as conn:
            conn.execute(insert(Spot), rows)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE bench_spots" if engine.dialect.name == "postgresql" else "ANALYZE"))


def somewhere(rng: random.Random, margin: float = 0.05) -> tuple[float, float]:
    return (
        CENTRE[0] + rng.uniform(-SPREAD[0] + margin, SPREAD[0] - margin),
        CENTRE[1] + rng.uniform(-SPREAD[1] + margin, SPREAD[1] - margin),
    )


def river(rng: random.Random, length_m: float = 5000, vertices: int = 500) -> LineString:
    """A meandering line: `vertices` vertices every length / (vertices - 1) metres, its heading drifting."""
    lon, lat = somewhere(rng)
    heading, coords = rng.uniform(0, 360), []
    for _ in range(vertices):
        coords.append((lon, lat))
        heading += math.degrees(rng.gauss(0, 0.05))
        lon, lat, _ = GEOD.fwd(lon, lat, heading, length_m / (vertices - 1))
    return LineString(coords)


def cases(dialect: str) -> Iterator[tuple[str, Callable[[Session, random.Random], int]]]:
    """(label, run): each run answers how many rows it found."""

    def radius(session: Session, rng: random.Random, metres: float = 500) -> int:
        lon, lat = somewhere(rng)
        distance = distance_m(dialect, Spot.location, lon, lat).label("d")
        stmt = select(Spot.id, distance).where(within_radius(dialect, Spot.location, lon, lat, metres))
        return len(session.execute(stmt.order_by(distance)).all())

    def nearest_10(session: Session, rng: random.Random, base: Any = None) -> int:
        lon, lat = somewhere(rng)
        return len(nearest(session, base if base is not None else select(Spot.id), Spot.location, lon, lat, 10))

    def river_500(session: Session, rng: random.Random) -> int:
        line = river(rng)  # the clause is built inside the timing: on SpatiaLite it buffers the line in Python
        stmt = select(Spot.id).where(within_distance_of(dialect, Spot.location, line, 500))
        return len(session.execute(stmt).all())

    def box_1km(session: Session, rng: random.Random) -> int:
        lon, lat = somewhere(rng)
        bounds = (lon - 0.0051, lat - 0.0045, lon + 0.0051, lat + 0.0045)
        return len(session.execute(select(Spot.id).where(in_box(dialect, Spot.location, bounds))).all())

    yield "within 500 m, with distances, nearest first", radius
    yield "within 5 km, with distances, nearest first", lambda s, r: radius(s, r, 5000)
    yield "nearest 10", nearest_10
    yield "nearest 10 of one kind in ten", lambda s, r: nearest_10(s, r, select(Spot.id).where(Spot.kind == 3))
    yield "within 500 m of a 5 km river (500 vertices)", river_500
    yield "in a 1 km box", box_1km


def time_case(
    session: Session, run: Callable[[Session, random.Random], int], repeat: int
) -> tuple[float, float, float]:
    rng = random.Random(7)
    run(session, rng)  # warm up
    times, found = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        found.append(run(session, rng))
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9)], statistics.mean(found)


def ids_within_500(dialect: str, session: Session, rng: random.Random) -> int:
    lon, lat = somewhere(rng)
    return len(session.execute(select(Spot.id).where(within_radius(dialect, Spot.location, lon, lat, 500))).all())


def geography_index_radius(session: Session, repeat: int) -> tuple[float, float, float]:
    """PostGIS only, for comparison: ST_DWithin on a cast to geography alone, served by an expression index."""
    session.execute(text("CREATE INDEX bench_spots_geog ON bench_spots USING gist ((location::geography))"))
    session.execute(text("ANALYZE bench_spots"))
    geography = Geography(geometry_type=None)

    def run(s: Session, rng: random.Random) -> int:
        lon, lat = somewhere(rng)
        point = cast(func.ST_SetSRID(func.ST_MakePoint(lon, lat), SRID), geography)
        stmt = select(Spot.id).where(func.ST_DWithin(cast(Spot.location, geography), point, 500.0))
        return len(s.execute(stmt).all())

    try:
        return time_case(session, run, repeat)
    finally:
        session.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=200, help="timed runs per query (rivers: a quarter)")
    parser.add_argument("--postgres-url", help="an empty database to use instead of a throw-away server")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    results: dict[str, dict[str, tuple[float, float, float]]] = {}
    with ExitStack() as stack:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                url = f"sqlite:///{stack.enter_context(tempfile.TemporaryDirectory())}/bench.sqlite"
            else:
                url = args.postgres_url or stack.enter_context(postgres_server())
            engine = make_engine(url)
            build(engine, args.points)
            with Session(engine) as session:
                for label, run in cases(backend):
                    repeat = args.repeat // 4 if "river" in label else args.repeat
                    results.setdefault(label, {})[backend] = time_case(session, run, repeat)
                    session.rollback()
                label = "within 500 m, ids only"
                results.setdefault(label, {})[backend] = time_case(
                    session, partial(ids_within_500, backend), args.repeat
                )
                if backend == "postgresql":
                    label = "(within 500 m, ids only, by an index on location::geography instead)"
                    results.setdefault(label, {})[backend] = geography_index_radius(session, args.repeat)
            engine.dispose()
    backends = args.backends.split(",")
    print(f"\n{args.points:,} points; median / p90 in ms; mean rows found\n")
    print("| query | " + " | ".join(f"{b} median / p90 | rows" for b in backends) + " |")
    print("|---|" + "---|---|" * len(backends))
    for label, by_backend in results.items():
        cells = []
        for b in backends:
            median, p90, rows = by_backend.get(b, (math.nan, math.nan, math.nan))
            cells.append(f"{median:.2f} / {p90:.2f} | {rows:.0f}")
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
