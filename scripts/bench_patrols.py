"""The patrol targets of issue 10, over HTTP under gunicorn (the server of scripts/bench_http.py), in one run:

1. **Batch upload**: `POST /api/v1/patrols/batch`, up to 100 records a request, sent by a few client threads at once
   (each its own keep-alive connection, `http.client`; wrk drives GETs only), logged in as the demo `admin` (every
   cell in scope). Each record a fresh UUID, a grid patrol of one cell by its current team (when it has one), 300
   fixes ~15 s apart (a 75-minute walk along road-like legs inside the cell, `models.demo_patrol_ways`, with 3 to
   15 m of GPS noise), 0 to 3 check-ins at the cell's enterprises (now and then a hazard found), started on one of
   the 29 days before today. Target: at least 100 patrols stored per second. Every answer should be `created`: a
   refused record is a failure of the run, counted and shown, never hidden. Then one batch already stored is sent
   again and timed (every record `stored`).
2. **Coverage at county scale**: those uploads are the month's patrols (by default, with the demo's own, about one
   patrol per cell per week), and `GET /api/v1/patrols/coverage/township/{id}?from=...&to=...` for those 30 days is
   timed for 5 townships (the largest, the smallest and three between), a few single requests each, median and
   max. Target: under 1 s.

The records are drawn (untimed) before the server starts, in this process, from the database the server serves.
"""

from __future__ import annotations

import http.client
import itertools
import statistics
import threading
import time
import traceback
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

import bench_http
import numpy as np
import orjson
from bench_patrol_records import BATCH, DAYS, FIXES, Planned, plan_uploads
from sqlalchemy import Engine, func, select

from api.db import db
from models.base import county_today, county_zone
from models.demo import DEMO_PASSWORD
from models.demo_patrols import Patrolled
from models.patrols.model import Patrol, PatrolCell
from models.territory import GridCell, Township

BATCH_PATH = "/api/v1/patrols/batch"
UPLOAD_TARGET = 100.0  # patrols stored per second, at least
COVERAGE_TARGET_S = 1.0  # a township's month, under
CLIENTS = 2  # client threads sending batches at once
# The server's workers for this part: sync (one thread each; gunicorn turns `sync` with --threads above 1 into
# gthread), unlike the rest of the benchmark (bench_http.WORKER_CLASS). A sync worker takes a connection only when it
# is free, so the clients' batches always spread over both workers (both cores). A gthread worker keeps the
# keep-alive connections it accepted, and now and then the one that accepted first took them all: measured (PostGIS,
# small county, 600 records, 2 clients), CPU seconds of the two workers during the upload: gthread 6/8, 0/11, 5/5,
# 6/7, 11/0, 12/1; with a connection per batch 2/13; sync 6/6, 6/6, 6/5. `--upload-worker-class gthread` measures
# the other.
WORKER_CLASS = "sync"
PER_CELL = DAYS / 7  # patrols per cell in the month: about one a week
TOWNSHIPS = 5  # townships whose coverage is timed


@dataclass
class Upload:
    """The batch upload's figures."""

    records: int = 0
    batches: int = 0
    batch_size: int = BATCH
    clients: int = CLIENTS
    points: int = 0
    check_ins: int = 0
    findings: int = 0
    planned_s: float = 0.0  # drawing the records (untimed)
    seconds: float = 0.0  # from the first request sent to the last answer read
    latencies_s: list[float] = field(default_factory=list)  # per batch answered 200
    outcomes: Counter = field(default_factory=Counter)  # created / stored / refused
    first_refusal: str = ""
    failed_batches: int = 0  # answered other than 200, or no answer
    first_failure: str = ""
    resend_s: float | None = None  # one batch already stored, sent again
    resend_outcomes: Counter = field(default_factory=Counter)
    resend_failure: str = ""

    @property
    def created(self) -> int:
        return self.outcomes["created"]

    @property
    def per_second(self) -> float:
        return self.created / self.seconds if self.seconds else 0.0

    @property
    def batches_per_second(self) -> float:
        return len(self.latencies_s) / self.seconds if self.seconds else 0.0

    @property
    def all_created(self) -> bool:
        return self.created == self.records and not self.failed_batches

    @property
    def resend_all_stored(self) -> bool:
        return self.resend_s is not None and sum(self.resend_outcomes.values()) == self.resend_outcomes["stored"] > 0

    def latency(self, q: float) -> float | None:
        return percentile(self.latencies_s, q)


@dataclass
class TownshipCoverage:
    """One township's month: its scale and the coverage request's timings."""

    township_id: int
    name: str
    cells: int
    patrols: int = 0  # in the answer
    uploaded: int = 0  # of them, uploaded by this run
    track_points: int = 0  # the fixes of those patrols (from the database)
    person_visits: int = 0
    check_ins: int = 0
    covered_share: float | None = None
    seconds: list[float] = field(default_factory=list)
    failure: str = ""

    @property
    def median_s(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None

    @property
    def max_s(self) -> float | None:
        return max(self.seconds) if self.seconds else None

    @property
    def met(self) -> bool:
        return not self.failure and self.median_s is not None and self.median_s < COVERAGE_TARGET_S


@dataclass
class PatrolsResult:
    upload: Upload = field(default_factory=Upload)
    coverage: list[TownshipCoverage] = field(default_factory=list)
    period: tuple[date, date] | None = None
    cells: int = 0
    month_before: int = 0  # patrols already in the period before the upload (the demo's)
    month_after: int = 0  # and after it
    repeat: int = 0
    problems: list[str] = field(default_factory=list)


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100), linear between the nearest ranks; None for no values."""
    return float(np.percentile(values, q)) if values else None


# ---- the client ---------------------------------------------------------------------------------------------------


class Client:
    """One keep-alive connection to the server, opened again after an error or a `Connection: close`."""

    def __init__(self, base: str, token: str, timeout: float = 600) -> None:
        parts = urllib.parse.urlsplit(base)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.connection: http.client.HTTPConnection | None = None

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self.connection.request("POST", path, body=body, headers=self.headers)
            response = self.connection.getresponse()
            data = response.read()
            if response.will_close:
                self.close()
            return response.status, data
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _refusal(item: dict[str, Any]) -> str:
    errors = "; ".join(f"{e.get('pointer')}: {e.get('detail')}" for e in (item.get("errors") or [])[:3])
    return f"record {item.get('index')} ({item.get('uuid')}): {item.get('status')} {item.get('code')}: " + (
        f"{item.get('detail')}" + (f" [{errors}]" if errors else "")
    )


def send_batches(
    base: str, token: str, planned: Planned, *, clients: int, batch: int, log: Callable[[str], None]
) -> Upload:
    """Every batch sent once, by `clients` threads taking the next batch as they are free."""
    up = Upload(records=planned.records, batches=len(planned.batches), batch_size=batch, clients=clients,
                points=planned.points, check_ins=planned.check_ins, findings=planned.findings,
                planned_s=planned.seconds)  # fmt: skip
    turn, lock = itertools.count(), threading.Lock()
    began = [0.0]  # when every client is ready (set before any is released)
    start = threading.Barrier(clients + 1, action=lambda: began.__setitem__(0, time.perf_counter()))
    progress = max(1, len(planned.batches) // 10)

    def work() -> None:
        client = Client(base, token)
        start.wait()
        while (i := next(turn)) < len(planned.batches):
            sent = time.perf_counter()
            try:
                status, data = client.post(BATCH_PATH, planned.batches[i])
            except Exception as exc:
                status, data = 0, repr(exc).encode()
            took = time.perf_counter() - sent
            with lock:
                if status != 200:
                    up.failed_batches += 1
                    up.first_failure = up.first_failure or f"batch {i}: {status} {data[:300].decode(errors='replace')}"
                    continue
                up.latencies_s.append(took)
                for item in orjson.loads(data)["items"]:
                    up.outcomes[item["outcome"]] += 1
                    if item["outcome"] == "refused" and not up.first_refusal:
                        up.first_refusal = f"batch {i}, " + _refusal(item)
                done = len(up.latencies_s) + up.failed_batches
                if done % progress == 0:
                    log(f"    {done}/{len(planned.batches)} batches, {up.created:,} created, "
                        f"{time.perf_counter() - began[0]:.1f} s")  # fmt: skip
        client.close()

    threads = [threading.Thread(target=work, name=f"upload-{k}") for k in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    for thread in threads:
        thread.join()
    up.seconds = time.perf_counter() - began[0]
    if planned.batches:  # one batch already stored, sent again: every record `stored`
        client = Client(base, token)
        sent = time.perf_counter()
        try:
            status, data = client.post(BATCH_PATH, planned.batches[0])
            up.resend_s = time.perf_counter() - sent
            if status == 200:
                up.resend_outcomes.update(item["outcome"] for item in orjson.loads(data)["items"])
            else:
                up.resend_failure = f"{status} {data[:300].decode(errors='replace')}"
        except Exception as exc:
            up.resend_failure = repr(exc)
        client.close()
    return up


def warm_up(base: str, token: str, clients: int, township_id: int) -> None:
    """Give every worker time to boot (the server answers once one has), then warm them (imports, connection pools,
    caches) with rounds of concurrent reads of the modules the upload uses; nothing is stored."""
    time.sleep(3)
    paths = ["/api/v1/patrols?page_size=100", f"/api/v1/patrols/coverage/township/{township_id}?within_m=20"]
    for path in paths:
        threads = [
            threading.Thread(target=bench_http.http_get, args=(base + path, token), kwargs={"timeout": 120})
            for _ in range(max(2, clients))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


# ---- coverage -----------------------------------------------------------------------------------------------------


def pick_townships(engine: Engine, n: int = TOWNSHIPS) -> list[TownshipCoverage]:
    """The largest township by cells, the smallest, and those evenly between."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(Township.id, Township.name, func.count(GridCell.id))
            .join(GridCell, GridCell.township_id == Township.id)
            .where(GridCell.retired_at.is_(None), Township.retired_at.is_(None))
            .group_by(Township.id, Township.name)
            .order_by(func.count(GridCell.id).desc(), Township.id)
        ).all()
    picked = rows if len(rows) <= n else [rows[round(k * (len(rows) - 1) / (n - 1))] for k in range(n)]
    return [TownshipCoverage(r[0], r[1], r[2]) for r in picked]


def _period_bounds(period: tuple[date, date]) -> tuple[datetime, datetime]:
    zone = county_zone()
    return datetime.combine(period[0], clock(0), zone), datetime.combine(period[1] + timedelta(days=1), clock(0), zone)


def month_patrols(engine: Engine, period: tuple[date, date], township_id: int | None = None) -> tuple[int, int]:
    """Patrols started in the period (naming a cell of the township, if one is given), and their fixes."""
    start, end = _period_bounds(period)
    named = select(PatrolCell.patrol_id)
    if township_id is not None:
        named = named.join(GridCell, GridCell.id == PatrolCell.cell_id).where(GridCell.township_id == township_id)
    stmt = select(func.count(), func.coalesce(func.sum(func.json_array_length(Patrol.points)), 0)).where(
        Patrol.id.in_(named), Patrol.started_at >= start, Patrol.started_at < end
    )
    with engine.connect() as connection:
        count, points = connection.execute(stmt).one()
    return int(count), int(points)


def time_coverage(base: str, token: str, township: TownshipCoverage, period: tuple[date, date], repeat: int) -> None:
    query = urllib.parse.urlencode({"from": period[0].isoformat(), "to": period[1].isoformat()})
    url = f"{base}/api/v1/patrols/coverage/township/{township.township_id}?{query}"
    for _ in range(repeat):
        started = time.perf_counter()
        try:
            status, body = bench_http.http_get(url, token, timeout=300)
        except OSError as exc:
            township.failure = repr(exc)
            return
        took = time.perf_counter() - started
        if status != 200:
            township.failure = f"{status} {body[:300].decode(errors='replace')}"
            return
        township.seconds.append(took)
    answer = orjson.loads(body)
    township.patrols, township.person_visits = answer["patrols"], answer["person_visits"]
    township.check_ins, township.covered_share = answer["check_ins"], answer["covered_share"]


# ---- the whole part -----------------------------------------------------------------------------------------------


def run(
    app: Any,
    url: str,
    workdir: Path,
    *,
    count: int | None,
    seed: int,
    clients: int = CLIENTS,
    batch: int = BATCH,
    repeat: int = 5,
    worker_class: str = WORKER_CLASS,
    settle: Callable[[], None] = lambda: None,
    log: Callable[[str], None] = print,
) -> PatrolsResult:
    """Draw the records, serve the database with gunicorn, upload them, resend one batch, then time the coverage.
    `count` None: enough that the month holds about one patrol per cell per week, with those already there."""
    result = PatrolsResult(repeat=repeat)
    engine = db.engine(app)
    today = county_today()
    result.period = (today - timedelta(days=DAYS - 1), today)
    with db.new_session(app) as session:
        county = Patrolled(session)
    result.cells = len(county.shapes)
    result.month_before, _ = month_patrols(engine, result.period)
    if count is None:
        count = max(0, round(result.cells * PER_CELL) - result.month_before)
    log(f"  drawing {count:,} patrol records ({FIXES} fixes each) for {result.cells:,} cells; "
        f"{result.month_before:,} patrols already in {result.period[0]} to {result.period[1]}")  # fmt: skip
    planned = plan_uploads(county, count=count, seed=seed, batch=batch)
    del county
    log(f"  drawn in {planned.seconds:.1f} s: {planned.records:,} records in {len(planned.batches)} batches, "
        f"{planned.points:,} fixes, {planned.check_ins:,} check-ins, {planned.findings:,} findings; "
        f"{sum(map(len, planned.batches)) / 1e6:.0f} MB of JSON")  # fmt: skip
    townships = pick_townships(engine)
    threads = 1 if worker_class == "sync" else bench_http.THREADS
    with bench_http.gunicorn(url, workdir, worker_class=worker_class, threads=threads) as base:
        token = bench_http.log_in(base, "admin", DEMO_PASSWORD)
        warm_up(base, token, clients, townships[-1].township_id)
        settle()
        log(f"  batch upload: {clients} clients, {batch} records a request, gunicorn {worker_class}")
        up = result.upload = send_batches(base, token, planned, clients=clients, batch=batch, log=log)
        log(f"  {up.created:,} created of {up.records:,} in {up.seconds:.1f} s: {up.per_second:.1f} patrols/s, "
            f"{up.batches_per_second:.2f} batches/s, p50 {up.latency(50) or 0:.2f} s, p95 {up.latency(95) or 0:.2f} s"
            f" per batch; refused {up.outcomes['refused']}, failed batches {up.failed_batches}")  # fmt: skip
        if up.first_refusal:
            log(f"  ! first refusal: {up.first_refusal}")
            result.problems.append(f"patrol upload: {up.outcomes['refused']} refused; first: {up.first_refusal}")
        if up.first_failure:
            log(f"  ! first failed batch: {up.first_failure}")
            result.problems.append(f"patrol upload: {up.failed_batches} batches failed; first: {up.first_failure}")
        if stored := up.outcomes["stored"]:
            result.problems.append(f"patrol upload: {stored} new records answered `stored`")
        log(f"  resend of a stored batch: {up.resend_s or 0:.2f} s, {dict(up.resend_outcomes)} {up.resend_failure}")
        if not up.resend_all_stored:
            result.problems.append(f"patrol resend: {dict(up.resend_outcomes)} {up.resend_failure}".strip())
        result.month_after, _ = month_patrols(engine, result.period)
        settle()
        log(f"  coverage of a township for {result.period[0]} to {result.period[1]} ({result.month_after:,} patrols "
            f"in the county), {repeat} requests each:")  # fmt: skip
        for township in townships:
            try:
                township.uploaded = planned.uploaded_in[township.township_id]
                _, township.track_points = month_patrols(engine, result.period, township.township_id)
                time_coverage(base, token, township, result.period, repeat)
            except Exception as exc:
                traceback.print_exc()
                township.failure = township.failure or repr(exc)
            if township.failure:
                result.problems.append(f"coverage of township {township.township_id}: {township.failure}"[:500])
            result.coverage.append(township)
            log(f"    {township.name} ({township.cells} cells): {township.patrols:,} patrols, "
                f"{township.track_points:,} fixes, covered {township.covered_share}, median "
                f"{township.median_s or 0:.2f} s, max {township.max_s or 0:.2f} s {township.failure}")  # fmt: skip
    return result
