"""Benchmark: load the demo county and time the main queries on SpatiaLite and on PostGIS.

    make bench                      # both backends (starts a throw-away PostgreSQL like the tests do)
    .venv/bin/python scripts/bench.py --backends spatialite --townships 20 --villages 300 --cells 1500

Prints figures (and the query plans of locate); asserts nothing. Requests go through the Flask test client,
so the figures include routing, validation and serialisation but not a network.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import create_app
from api.db import db
from models.demo import DEMO_PASSWORD, load_demo_county, plan_county
from models.schema import upgrade
from models.territory import GRID_CELL
from models.territory.queries import locate_statement
from tests.factories import query_plan
from tests.pg_server import postgres_server


def timed(label: str, fn: Callable[[], object], repeat: int) -> None:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    print(f"  {label:<44} median {statistics.median(samples):8.2f} ms   p95 {p95:8.2f} ms   (n={repeat})")


def bench(backend: str, url: str, args: argparse.Namespace) -> None:
    print(
        f"\n== {backend}: {args.townships} townships, {args.villages} villages, {args.cells} cells (seed {args.seed})"
    )
    app = create_app({"DATABASE_URL": url})
    upgrade(db.engine(app))
    with db.new_session(app) as session:
        started = time.perf_counter()
        counts = load_demo_county(
            session, seed=args.seed, townships=args.townships, villages=args.villages, cells=args.cells
        )
        print(f"  demo county load (every rule checked)        {time.perf_counter() - started:8.2f} s   {counts}")

    cells = [
        u
        for u in plan_county(seed=args.seed, townships=args.townships, villages=args.villages, cells=args.cells)
        if u.level is GRID_CELL
    ]
    rng = random.Random(1)
    points = [c.shape.representative_point() for c in rng.sample(cells, min(len(cells), 200))]
    anonymous = app.test_client()

    def log_in(username: str) -> Any:
        answer = anonymous.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
        assert answer.status_code == 200, answer.get_json()
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {answer.get_json()['access_token']}"
        return client

    timed("POST /auth/token (Argon2id check)", lambda: log_in("viewer"), 5)
    client, officer = log_in("admin"), log_in("officer")

    def locate() -> None:
        p = rng.choice(points)
        response = client.get(f"/api/v1/grid-cells/locate?lon={p.x}&lat={p.y}")
        assert response.status_code == 200

    timed("GET /auth/me (token check + user)", lambda: client.get("/api/v1/auth/me"), args.repeat // 4)
    timed("GET /grid-cells/locate", locate, args.repeat)
    own = officer.get("/api/v1/auth/me").get_json()["scope"]["cell_ids"]
    inside = officer.get(f"/api/v1/grid-cells/{own[0]}").get_json()["centroid"]["coordinates"]
    timed(
        "GET /grid-cells/locate as a grid officer",
        lambda: officer.get(f"/api/v1/grid-cells/locate?lon={inside[0]}&lat={inside[1]}"),
        args.repeat // 4,
    )
    cell_ids = [row["id"] for row in client.get("/api/v1/grid-cells?page_size=500").get_json()["items"]]
    timed(
        "GET /grid-cells/{id}/team",
        lambda: client.get(f"/api/v1/grid-cells/{rng.choice(cell_ids)}/team"),
        args.repeat // 4,
    )
    timed(
        "GET /grid-cells/{id}/team?at=2026-03-01",
        lambda: client.get(f"/api/v1/grid-cells/{rng.choice(cell_ids)}/team?at=2026-03-01T10:00:00%2B08:00"),
        args.repeat // 4,
    )
    timed(
        "GET /grid-cells?has_owner=false", lambda: client.get("/api/v1/grid-cells?has_owner=false"), args.repeat // 10
    )
    timed(
        "GET /grid-assignments?cell_id=",
        lambda: client.get(f"/api/v1/grid-assignments?cell_id={rng.choice(cell_ids)}"),
        args.repeat // 4,
    )
    timed("GET /grid-cells?page_size=50", lambda: client.get("/api/v1/grid-cells?page_size=50"), args.repeat // 4)
    timed(
        "GET /grid-cells?page_size=500&format=geojson",
        lambda: client.get("/api/v1/grid-cells?page_size=500&format=geojson"),
        args.repeat // 20,
    )
    timed("GET /villages/{id}/coverage-gaps", lambda: client.get("/api/v1/villages/7/coverage-gaps"), args.repeat // 10)
    with db.new_session(app) as session:
        p = points[0]
        print("  locate query plan:")
        for line in query_plan(
            session, locate_statement(db.engine(app).dialect.name, p.x, p.y), forbid_seqscan=False
        ).splitlines():
            print(f"    {line}")
        session.rollback()
    db.engine(app).dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="spatialite,postgis")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--townships", type=int, default=20)
    parser.add_argument("--villages", type=int, default=300)
    parser.add_argument("--cells", type=int, default=1500)
    parser.add_argument("--repeat", type=int, default=1000)
    args = parser.parse_args()
    with ExitStack() as stack:
        for backend in args.backends.split(","):
            if backend == "spatialite":
                directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="gridpatrol-bench-"))
                bench(backend, f"sqlite:///{directory}/bench.sqlite", args)
            elif backend == "postgis":
                url = os.environ.get("BENCH_POSTGRES_URL") or stack.enter_context(postgres_server())
                bench(backend, url, args)
            else:
                parser.error(f"unknown backend {backend!r}")


if __name__ == "__main__":
    main()
