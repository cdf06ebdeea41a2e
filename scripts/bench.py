"""Benchmark on SpatiaLite and PostGIS: HTTP load under gunicorn, then every list and filter at county and at
province scale. Prints tables and writes them to bench-results.md (git-ignored); asserts nothing.

    make bench                                     # everything, both backends (~25 min on 2 cores)
    make bench BENCH_ARGS="--backends spatialite --no-province"
    make bench BENCH_ARGS="--backends spatialite --no-http --no-province --no-lists"   # the patrol and duty targets
    .venv/bin/python scripts/bench.py --quick      # smaller sizes and shorter runs, to try it out

Per backend:
1. a database with the demo county (models.demo.load_demo_county: through the service functions, every rule
   checked), in a temporary file (SpatiaLite) or a throw-away PostgreSQL server started like the tests' one;
2. HTTP load (scripts/bench_http.py): gunicorn serving scripts/bench_wsgi.py, wrk from a separate process, one run
   per route, req/s and latency percentiles, each route's req/s as a ratio to the unauthenticated no-op;
3. the province (scripts/province.py) in a copy of that database: the county copied --copies times with bulk SQL,
   --audit-events audit rows, analysed, checked;
4. lists and filters (TIMED in scripts/bench_lists.py) in-process through the Flask test client (routing,
   validation, the token check and serialisation, no network) on both databases, interleaved request by request,
   median and p95 over up to --repeat rounds, with the ratio province / county;
5. the patrol targets of issue 10 (scripts/bench_patrols.py), on the county database, over HTTP under
   gunicorn: a month of patrols (--patrols) uploaded by batches of 100 (patrols stored per second, target at least
   100), one stored batch sent again, then the coverage of 5 townships for that month (target: under 1 s);
6. the duty target of issue 11 (scripts/bench_duty.py), last, on the county database grown to 500 units: the check
   of a 7-day period with a submitted roster per unit, over HTTP under gunicorn (target: under 0.5 s).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_duty
import bench_http
import bench_patrols
import province
from bench_lists import API, Facts, Scale, county_facts, locate_plan, time_requests
from bench_report import BackendResult, report
from bench_wsgi import NOOP, NOOP_AUTH, add_noop_routes
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from api import create_app
from api.db import db
from geo.engine import normalise_url
from models.demo import DEMO_PASSWORD, load_demo_county, plan_county
from models.schema import upgrade
from models.territory import GRID_CELL
from tests.pg_server import postgres_server

RESULTS = Path(__file__).resolve().parent.parent / "bench-results.md"


# ---- one backend --------------------------------------------------------------------------------------------------


def backend_versions(engine: Engine) -> str:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            row = connection.execute(text("SELECT sqlite_version(), spatialite_version()")).one()
            return f"SQLite {row[0]}, SpatiaLite {row[1]}"
        row = connection.execute(text("SHOW server_version")).scalar_one()
        postgis = connection.execute(text("SELECT postgis_lib_version()")).scalar_one()
        return f"PostgreSQL {row.split()[0]}, PostGIS {postgis}"


def http_routes(facts: dict[str, Any], points: list[tuple[float, float]], cell_ids: list[int]) -> list[Any]:
    route = bench_http.Route
    rng = random.Random(3)
    village_ids = facts["village_ids"]
    return [
        route("no-op, no token", [NOOP], token=False),
        route("no-op with the token check", [NOOP_AUTH], token=True),
        route("GET /grid-cells/locate", [f"{API}/grid-cells/locate?lon={x:.7f}&lat={y:.7f}" for x, y in points], True),
        route(
            "GET /grid-cells?village_id=N&format=geojson",
            [f"{API}/grid-cells?village_id={v}&format=geojson" for v in village_ids],
            True,
        ),
        route(
            "GET /grid-cells/{id}/team",
            [f"{API}/grid-cells/{c}/team" for c in rng.sample(cell_ids, min(500, len(cell_ids)))],
            True,
        ),
        route("GET /grid-cells?page_size=100&format=geojson", [f"{API}/grid-cells?page_size=100&format=geojson"], True),
        route(
            "GET /enterprises?cell_id=N (in a cell)",
            [f"{API}/enterprises?cell_id={c}" for c in rng.sample(cell_ids, min(500, len(cell_ids)))],
            True,
        ),
        route(
            "GET /enterprises/within-radius (500 m)",
            [f"{API}/enterprises/within-radius?lon={x:.7f}&lat={y:.7f}&radius_m=500" for x, y in points],
            True,
        ),
        route(
            "GET /enterprises/nearest?n=10",
            [f"{API}/enterprises/nearest?lon={x:.7f}&lat={y:.7f}&n=10" for x, y in points],
            True,
        ),
        route(
            "GET /enterprises/in-box (1,000 features, GeoJSON)",
            [f"{API}/enterprises/in-box?bbox={facts['county_bbox']}&page_size=1000&format=geojson"],
            True,
        ),
    ]


def run_backend(backend: str, url: str, args: argparse.Namespace, workdir: Path, result: BackendResult) -> None:
    print(f"\n== {backend}")
    app = add_noop_routes(create_app({"DATABASE_URL": url}))
    engine = db.engine(app)
    upgrade(engine)
    result.versions = backend_versions(engine)
    with db.new_session(app) as session:
        started = time.perf_counter()
        counts = load_demo_county(
            session,
            seed=args.seed,
            townships=args.townships,
            villages=args.villages,
            cells=args.cells,
            enterprises=args.enterprises,
        )
    result.setup.append(
        ("demo county through the service functions", f"{time.perf_counter() - started:.1f}", _counts(counts))
    )
    print(f"  demo county loaded in {result.setup[-1][1]} s: {counts}")

    planned = [
        u
        for u in plan_county(seed=args.seed, townships=args.townships, villages=args.villages, cells=args.cells)
        if u.level is GRID_CELL
    ]
    point_in = {c.code: _xy(c.shape.representative_point()) for c in planned}  # a point inside each cell
    rng = random.Random(1)
    points = [point_in[c.code] for c in rng.sample(planned, min(500, len(planned)))]
    probe = (planned[0].code, *point_in[planned[0].code])
    facts = county_facts(engine, point_in)
    result.facts = dict(facts)
    with engine.connect() as connection:
        cell_ids = list(connection.execute(text("SELECT id FROM grid_cells")).scalars())
        facts["village_ids"] = list(connection.execute(text("SELECT id FROM villages ORDER BY id")).scalars())
        box = connection.execute(text("SELECT min(lon), min(lat), max(lon), max(lat) FROM enterprises")).one()
        facts["county_bbox"] = ",".join(f"{v:.6f}" for v in box)

    if not args.no_http:
        settle(engine)
        note_load(result, "HTTP")
        print(f"  HTTP: gunicorn ({args.worker_class}, 2 workers) and wrk -t{args.wrk_threads} -c{args.connections} "
              f"-d{args.duration}s")  # fmt: skip
        result.http = run_http(url, http_routes(facts, points, cell_ids), args, workdir, result, "HTTP load")

    result.plans.append(("county", locate_plan(engine, points[0])))
    scales = [Scale("county", app, Facts(facts, points, cell_ids))]
    with ExitStack() as stack:
        if not args.no_province:
            scales.append(build_province(stack, app, url, args, workdir, result, points, probe, facts, rng))
            if backend == "postgis" and not args.no_http:
                http_province(scales[-1], facts, args, workdir, result)
        if not args.no_lists:
            note_load(result, "lists")
            print(f"  lists and filters, in-process: {' and '.join(s.name for s in scales)}, interleaved")
            timings = time_requests(scales, repeat=args.repeat, budget_s=args.budget, walk=args.walk)
            result.county, result.province = timings["county"], timings.get("province", {})
        for scale in scales:
            db.engine(scale.app).dispose()
    # last, one after the other: their data change the county the parts above measure
    if not args.no_patrols:
        print("  patrols over HTTP: batch upload, then coverage of a township's month")
        result.patrols = run_target(app, result, "patrols", lambda calm: bench_patrols.run(
            app, url, workdir, count=args.patrols, seed=args.seed, clients=args.upload_clients,
            repeat=args.coverage_repeat, worker_class=args.upload_worker_class, settle=calm, log=print))  # fmt: skip
    if not args.no_duty:
        print(f"  duty over HTTP: the check of a 7-day period across {bench_duty.UNITS} units")
        result.duty = run_target(app, result, "duty", lambda calm: bench_duty.run(
            app, url, workdir, seed=args.seed, repeat=args.duty_repeat, settle=calm, log=print))  # fmt: skip


def run_target(app: Any, result: BackendResult, part: str, run: Any) -> Any:
    """A part with targets (scripts/bench_patrols.py, scripts/bench_duty.py): `run(calm)` answers its result, whose
    problems join the backend's; a failure is reported, not raised (None)."""
    engine = db.engine(app)
    settle(engine)
    note_load(result, part)

    def calm() -> None:  # before each timed part: the database's and the machine's leftovers
        settle(engine)
        note_load(result, f"{part}, next step")

    try:
        found = run(calm)
        result.problems += found.problems
        return found
    except Exception as exc:
        traceback.print_exc()
        result.problems.append(f"{part} failed: {exc!r}"[:500])
        return None


SPATIAL = ("no-op", "GET /enterprises")  # the routes timed over HTTP at province scale too


def http_province(scale: Scale, facts: dict[str, Any], args: argparse.Namespace, workdir: Path, result: Any) -> None:
    """The spatial questions over HTTP on the province database, points and cells from the whole province."""
    engine = db.engine(scale.app)
    settle(engine)
    note_load(result, "HTTP province")
    rng = random.Random(4)
    points = rng.sample(scale.facts.points, min(500, len(scale.facts.points)))
    routes = [r for r in http_routes(facts, points, scale.facts.cell_ids) if r.label.startswith(SPATIAL)]
    print(f"  HTTP at province scale: {', '.join(r.label for r in routes)}")
    url = scale.app.config["DATABASE_URL"]
    result.http_province = run_http(url, routes, args, workdir, result, "HTTP load at province scale")


def run_http(url: str, routes: list[Any], args: argparse.Namespace, workdir: Path, result: Any, what: str) -> list:
    """`bench_http.run` with this run's options; a failure is reported, not raised (the other parts still run)."""
    try:
        return bench_http.run(
            url,
            routes,
            username="admin",
            password=DEMO_PASSWORD,
            workdir=workdir,
            duration=args.duration,
            connections=args.connections,
            threads=args.wrk_threads,
            worker_class=args.worker_class,
        )
    except Exception as exc:
        traceback.print_exc()
        result.problems.append(f"{what} failed: {exc!r}"[:500])
        return []


def build_province(
    stack: ExitStack,
    county_app: Any,
    url: str,
    args: argparse.Namespace,
    workdir: Path,
    result: BackendResult,
    points: list[tuple[float, float]],
    probe: tuple[str, float, float],
    facts: dict[str, Any],
    rng: random.Random,
) -> Scale:
    """A copy of the county database grown into the province, beside the county (so that both can be timed in
    the same minutes), checked; its scale for the timings."""
    started = time.perf_counter()
    province_url = stack.enter_context(copy_of_database(db.engine(county_app), url, workdir))
    result.setup.append(("province: copy of the county database", f"{time.perf_counter() - started:.1f}", ""))
    app = add_noop_routes(create_app({"DATABASE_URL": province_url}))
    engine = db.engine(app)
    print(f"  province: {args.copies} copies of the county, {args.audit_events:,} audit events")
    started = time.perf_counter()
    generated = province.generate_province(
        engine, copies=args.copies, audit_events=args.audit_events, log=lambda line: print("  " + line)
    )
    total = time.perf_counter() - started
    for step, seconds in generated["timings"].items():
        result.setup.append((f"province: {step}", f"{seconds:.1f}", ""))
    result.setup.append(("province in all", f"{total:.1f}", _counts(generated["counts"])))
    checks = province.verify(engine, generated["copies"], probe)
    result.problems += checks
    result.setup.append(
        ("province checks: R*Tree rows, locate in copies, unique mobiles, name grams", "", "; ".join(checks) or "ok")
    )
    copies = [None, *generated["copies"]]
    province_points = []
    for lon, lat in points:
        copy = rng.choice(copies)
        province_points.append((lon, lat) if copy is None else province.translate_point(lon, lat, copy))
    with engine.connect() as connection:
        cell_ids = list(connection.execute(text("SELECT id FROM grid_cells")).scalars())
    result.plans.append(("province", locate_plan(engine, province_points[0])))
    return Scale("province", app, Facts(facts, province_points, cell_ids))


@contextmanager
def copy_of_database(engine: Engine, url: str, workdir: Path) -> Iterator[str]:
    """A copy of the database at `url`: SQLite VACUUM INTO a new file; PostgreSQL CREATE DATABASE ... TEMPLATE on
    the same server (the URL's user needs CREATEDB), dropped afterwards."""
    if engine.dialect.name == "sqlite":
        target = workdir / "province.sqlite"
        raw = engine.raw_connection()
        try:
            raw.driver_connection.execute("VACUUM INTO ?", (str(target),))
        finally:
            raw.close()
        yield f"sqlite:///{target}"
        return
    source = make_url(normalise_url(url))
    name = f"{source.database}_province"
    engine.dispose()  # the template may have no other connections
    server = create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        for attempt in range(20):  # autovacuum may be visiting the template for a moment
            try:
                connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source.database}"'))
                break
            except OperationalError:
                if attempt == 19:
                    raise
                time.sleep(0.5)
    try:
        yield source.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def settle(engine: Engine, *, calm: float = 1.0, limit_s: float = 90.0) -> None:
    """Let the database finish what a big load leaves behind (PostgreSQL: a checkpoint, vacuum and statistics) and
    the machine calm down, before anything is timed."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("CHECKPOINT"))
            connection.execute(text("VACUUM ANALYZE"))
    started = time.perf_counter()
    while os.getloadavg()[0] > calm and time.perf_counter() - started < limit_s:
        time.sleep(5)


def note_load(result: BackendResult, part: str) -> None:
    result.load.append(f"{part} {os.getloadavg()[0]:.1f}")


def _xy(point: Any) -> tuple[float, float]:
    return point.x, point.y


def _counts(counts: dict[str, int] | None) -> str:
    return ", ".join(f"{v:,} {k}" for k, v in (counts or {}).items())


@contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    if backend == "spatialite":
        yield f"sqlite:///{workdir}/bench.sqlite"
    elif os.environ.get("BENCH_POSTGRES_URL"):
        yield os.environ["BENCH_POSTGRES_URL"]  # an empty database of your own
    else:
        with postgres_server() as url:
            yield url


def main() -> None:
    # A plain `kill` ends the run through the same clean-up as an error: gunicorn and PostgreSQL are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="spatialite,postgis", help="comma-separated: spatialite,postgis")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP load (gunicorn + wrk)")
    parser.add_argument("--no-lists", action="store_true", help="skip the in-process lists and filters")
    parser.add_argument("--no-province", action="store_true", help="county scale only")
    parser.add_argument("--no-patrols", action="store_true", help="skip the patrol upload and coverage targets")
    parser.add_argument("--no-duty", action="store_true", help="skip the duty target (the check of a period)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="10 copies, 100k audit events, 3 s of wrk per route, 10 rounds, 1,000 patrols, 3 coverage requests, "
        "5 duty checks",
    )
    parser.add_argument("--copies", type=int, default=province.COPIES, help="copies of the county in the province")
    parser.add_argument("--audit-events", type=int, default=province.AUDIT_EVENTS)
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per route")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--worker-class", default=bench_http.WORKER_CLASS, choices=["gthread", "sync"])
    parser.add_argument("--repeat", type=int, default=30, help="rounds of timed in-process requests (at most)")
    parser.add_argument(
        "--budget", type=float, default=3.0, help="past 5 rounds, stop once a request's runs add up to this (s)"
    )
    parser.add_argument("--walk", type=int, default=20, help="pages to follow next_cursor for a deep page")
    parser.add_argument(
        "--patrols",
        type=int,
        default=None,
        help="patrol records to upload (default: enough for one patrol per cell per week in the month, with the "
        "demo's own: ~7,600 in the default county)",
    )
    parser.add_argument("--upload-clients", type=int, default=bench_patrols.CLIENTS, help="threads sending batches")
    parser.add_argument(
        "--upload-worker-class",
        default=bench_patrols.WORKER_CLASS,
        choices=["gthread", "sync"],
        help="gunicorn's workers for the patrol part (why sync: scripts/bench_patrols.py)",
    )
    parser.add_argument("--coverage-repeat", type=int, default=None, help="coverage requests per township (5)")
    parser.add_argument("--duty-repeat", type=int, default=None, help="requests of the period's check (10)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--townships", type=int, default=20)
    parser.add_argument("--villages", type=int, default=300)
    parser.add_argument("--cells", type=int, default=2000)
    parser.add_argument("--enterprises", type=int, default=20000, help="in the county (the province copies them)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.quick:
        args.copies, args.audit_events, args.duration, args.repeat = 10, 100_000, 3, 10
        args.patrols = 1_000 if args.patrols is None else args.patrols
    if args.coverage_repeat is None:
        args.coverage_repeat = 3 if args.quick else 5
    if args.duty_repeat is None:
        args.duty_repeat = 5 if args.quick else 10
    started = time.perf_counter()
    tools = f"gunicorn {version('gunicorn')}"
    if not args.no_http:
        tools += f", {bench_http.require_wrk()}"
    results: list[BackendResult] = []
    for backend in args.backends.split(","):
        if backend not in ("spatialite", "postgis"):
            parser.error(f"unknown backend {backend!r}")
        result = BackendResult(backend)
        results.append(result)
        with ExitStack() as stack:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gridpatrol-bench-")))
            # the token check's epoch files of these throw-away databases (models/accounts/callers.py) go with them,
            # here and in gunicorn's workers, which inherit the environment
            os.environ["CALLER_CACHE_DIR"] = str(workdir)
            try:
                url = stack.enter_context(database(backend, workdir))
                run_backend(backend, url, args, workdir, result)
            except Exception as exc:
                traceback.print_exc()
                result.problems.append(f"{backend} failed: {exc!r}"[:500])
        args.output.write_text("\n".join(report(results, args, tools, started)) + "\n")  # after each backend
    lines = report(results, args, tools, started)
    args.output.write_text("\n".join(lines) + "\n")
    print("\n" + "\n".join(lines))
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
