"""The in-process part of the benchmark: every list and filter of the API, as data (TIMED), timed through the
Flask test client (routing, validation, the token check, the queries and serialisation; no network).

Used by scripts/bench.py at county and at province scale. Deep pages follow `next_cursor` when a list answers one
(keyset paging), else the offset `page=`; a missing `total` is tolerated.
"""

from __future__ import annotations

import math
import random
import statistics
import time
import traceback
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from bench_wsgi import NOOP, NOOP_AUTH
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from api.db import db
from models.demo import DEMO_PASSWORD
from models.territory.queries import locate_statement
from tests.factories import query_plan

API = "/api/v1"

# ---- what is timed in-process, as data: add a line to time another request ----------------------------------------


@dataclass(frozen=True)
class Timed:
    label: str
    url: str  # under /api/v1; {placeholders} come from `Facts` (those in Facts.VARIED change on every request)
    page: str = ""  # "last": the last page by offset (?page=); "deep": the page after the middle row, by cursor
    user: str = "admin"  # the demo account whose token is sent (models.demo.DEMO_ACCOUNTS)
    body: dict[str, Any] | None = None  # a JSON body makes it a POST
    prefix: str = API


AT = "2026-03-01T10:00:00%2B08:00"  # an instant before the demo's handover round (2026-06-01)
TIMED = [
    # Controls: no database work at all (no-op), or the token check only. If their ratio is far from 1, the machine
    # was busier during one of the two scales, and the other ratios move with it.
    Timed("no-op (control: Flask and the test client)", NOOP, prefix=""),
    Timed("no-op with the token check (control)", NOOP_AUTH, prefix=""),
    Timed("POST /auth/token (log in: Argon2id)", "/auth/token", body={"username": "viewer", "password": DEMO_PASSWORD}),
    Timed("auth/me (the token check + the user)", "/auth/me"),
    # (a page of 20 at both scales: the county has 20 townships, so the default page of 50 would compare 20 with 50)
    Timed("townships (a page of 20)", "/townships?page_size=20"),
    Timed("villages", "/villages"),
    Timed("villages ?township_id", "/villages?township_id={township_id}"),
    Timed("villages ?name (2 characters of a name)", "/villages?name={village_fragment}"),
    # The same searches with a page as big as the county's whole answer, so that both scales answer as many rows (the
    # province fills the default page of 50 where the county finds a few).
    Timed(
        "villages ?name, a page of the county's matches", "/villages?name={village_fragment}&page_size={villages_found}"
    ),
    Timed("villages ?code (a township's prefix)", "/villages?code={township_code}"),
    Timed("grid-cells page 1", "/grid-cells"),
    Timed("grid-cells deep page (after the middle cell, by cursor)", "/grid-cells", page="deep"),
    Timed("grid-cells ?village_id", "/grid-cells?village_id={village_id}"),
    Timed("grid-cells ?township_id", "/grid-cells?township_id={township_id}"),
    Timed("grid-cells ?name (2 characters of a name)", "/grid-cells?name={village_fragment}"),
    Timed(
        "grid-cells ?name, a page of the county's matches",
        "/grid-cells?name={village_fragment}&page_size={cells_found}",
    ),
    Timed("grid-cells ?code (a village's prefix)", "/grid-cells?code={village_code}"),
    Timed("grid-cells ?code (a township's prefix)", "/grid-cells?code={township_code}"),
    Timed("grid-cells ?has_owner=false", "/grid-cells?has_owner=false"),
    Timed("grid-cells ?format=geojson", "/grid-cells?format=geojson"),
    Timed("grid-cells ?page_size=500&format=geojson", "/grid-cells?page_size=500&format=geojson"),
    Timed("villages/{id}/coverage-gaps", "/villages/{village_id}/coverage-gaps"),
    Timed("grid-cells/locate (varied points)", "/grid-cells/locate?{point}"),
    Timed("grid-cells/locate as a grid officer (own cell)", "/grid-cells/locate?{officer_point}", user="officer"),
    Timed("grid-cells/{id}/team (varied cells)", "/grid-cells/{any_cell_id}/team"),
    Timed("grid-cells/{id}/team ?at (varied cells)", "/grid-cells/{any_cell_id}/team?at=" + AT),
    Timed("grid-assignments ?page_size=50", "/grid-assignments?page_size=50"),
    Timed("grid-assignments deep page (after the middle row)", "/grid-assignments?page_size=50", page="deep"),
    Timed("grid-assignments ?cell_id", "/grid-assignments?cell_id={cell_id}"),
    Timed("grid-assignments ?officer_id", "/grid-assignments?officer_id={officer_id}"),
    Timed("grid-assignments ?township_id", "/grid-assignments?township_id={township_id}"),
    Timed("grid-assignments ?current=true", "/grid-assignments?current=true"),
    Timed("grid-assignments ?at", "/grid-assignments?at=" + AT),
    Timed("officers", "/officers"),
    Timed("officers ?township_id", "/officers?township_id={township_id}"),
    Timed("officers ?name (2 characters of a name)", "/officers?name={officer_fragment}"),
    Timed(
        "officers ?name, a page of the county's matches", "/officers?name={officer_fragment}&page_size={officers_found}"
    ),
    Timed("officers ?mobile (7-digit prefix)", "/officers?mobile={mobile_prefix}"),
    Timed("officers/{id}/cells", "/officers/{officer_id}/cells"),
    Timed("users", "/users"),
    Timed("audit-events page 1", "/audit-events"),
    Timed("audit-events deep page (after the middle event)", "/audit-events", page="deep"),
    Timed("audit-events ?township_id", "/audit-events?township_id={township_id}"),
    Timed("audit-events ?entity_type&entity_id", "/audit-events?entity_type=grid_cells&entity_id={cell_id}"),
]


class Shown(dict):
    """Placeholders a report cannot fill (the varied ones) stay as they are."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Facts(dict):
    """Values for the URL placeholders: fixed ones (ids and search words from the demo county, which the province
    keeps) and varied ones drawn on every use (a point inside a cell, any cell), from the whole territory."""

    VARIED = ("point", "any_cell_id")

    def __init__(self, fixed: dict[str, Any], points: list[tuple[float, float]], cell_ids: list[int]) -> None:
        super().__init__(fixed)
        self.points, self.cell_ids, self.rng = points, cell_ids, random.Random(7)

    def __missing__(self, key: str) -> str:
        if key == "point":
            lon, lat = self.rng.choice(self.points)
            return f"lon={lon:.7f}&lat={lat:.7f}"
        if key == "any_cell_id":
            return str(self.rng.choice(self.cell_ids))
        raise KeyError(key)


def county_facts(engine: Engine, point_in: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """Realistic search values: a township (the first 镇), its first village, that village's first cell, an officer
    of the township with assignments; name fragments are the first two characters a user would type. Also a point
    in a cell of the demo `officer` account (`point_in`: a point inside each cell, by code)."""
    with engine.connect() as connection:
        one = lambda sql, **params: connection.execute(text(sql), params).mappings().first()  # noqa: E731
        township = one("SELECT id, code FROM townships WHERE code LIKE '%101' ORDER BY code")
        village = one("SELECT id, code, name FROM villages WHERE township_id = :t ORDER BY code", t=township["id"])
        cell = one("SELECT id FROM grid_cells WHERE village_id = :v ORDER BY code", v=village["id"])
        officer = one(
            "SELECT o.id, o.name, o.mobile FROM officers o WHERE o.township_id = :t AND length(o.name) = 3 AND "
            "EXISTS (SELECT 1 FROM grid_assignments a WHERE a.officer_id = o.id) ORDER BY o.id",
            t=township["id"],
        )
        own_cell = one(
            "SELECT c.code FROM users u JOIN grid_assignments a ON a.officer_id = u.officer_id "
            "JOIN grid_cells c ON c.id = a.cell_id WHERE u.username = 'officer' AND a.valid_to IS NULL "
            "AND a.superseded_at IS NULL ORDER BY c.code"
        )
        found = {}  # how many active records of the county each search finds (at most a default page)
        for key, table, fragment, active in (
            ("villages_found", "villages", village["name"][:2], "retired_at"),
            ("cells_found", "grid_cells", village["name"][:2], "retired_at"),
            ("officers_found", "officers", officer["name"][:2], "deactivated_at"),
        ):
            sql = f"SELECT count(*) AS n FROM {table} WHERE {active} IS NULL AND name LIKE :pattern"
            found[key] = min(50, one(sql, pattern=f"%{fragment}%")["n"])
    lon, lat = point_in[own_cell["code"]]
    quote = urllib.parse.quote
    return {
        "township_id": township["id"],
        "township_code": township["code"],
        "village_id": village["id"],
        "village_code": village["code"],
        "village_fragment": quote(village["name"][:2]),
        "cell_id": cell["id"],
        "officer_id": officer["id"],
        "officer_fragment": quote(officer["name"][:2]),
        "mobile_prefix": officer["mobile"][:7],
        "officer_point": f"lon={lon:.7f}&lat={lat:.7f}",
        **found,
    }


# ---- timing in-process --------------------------------------------------------------------------------------------


@dataclass
class Timing:
    median_ms: float | None = None
    p95_ms: float | None = None
    n: int = 0
    note: str = ""


def with_param(url: str, **params: Any) -> str:
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k not in params]
    query += [(k, str(v)) for k, v in params.items()]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def _items(body: dict[str, Any]) -> list[Any]:
    return body.get("items", body.get("features", []))


def last_page(client: Any, url: str, first: dict[str, Any]) -> int:
    """The last non-empty page by offset: from `total` when the answer has it, else by doubling and bisection."""
    size = first.get("page_size") or len(_items(first)) or 1
    if first.get("total") is not None:
        return max(1, math.ceil(first["total"] / size))

    def filled(page: int) -> bool:
        response = client.get(with_param(url, page=page))
        return response.status_code == 200 and bool(_items(response.get_json()))

    low, high = 1, 2
    while high <= 1_000_000 and filled(high):
        low, high = high, high * 2
    high = min(high, 1_000_001)
    while high - low > 1:  # filled(low), not filled(high)
        middle = (low + high) // 2
        low, high = (middle, high) if filled(middle) else (low, middle)
    return low


def middle_cursor(app: Any, url: str) -> tuple[str, int] | None:
    """A cursor that starts a page right after the middle row of a cursor-paged list (as a client that walked half
    the list would hold), and that row's position; None for a list without a known listing."""
    from api.pagination import encode_cursor
    from models.audit import audit_listing
    from models.listing import count, page_at
    from models.people.queries import assignment_listing
    from models.roles import SYSTEM
    from models.territory import GRID_CELL
    from models.territory.queries import unit_listing

    path = urllib.parse.urlsplit(url).path.removeprefix(API)
    listings = {
        "/grid-cells": lambda: unit_listing(caller=SYSTEM, level=GRID_CELL),
        "/grid-assignments": lambda: assignment_listing(caller=SYSTEM),
        "/audit-events": lambda: audit_listing(),
    }
    if path not in listings:
        return None
    listing = listings[path]()
    with db.new_session(app) as session:
        middle = count(session, listing) // 2
        (row,) = page_at(session, listing, size=1, number=max(1, middle))
        return encode_cursor(listing.key_of(row)), middle


def deep_url(client: Any, url: str, kind: str, walk: int) -> tuple[str, str]:
    """The URL of a deep page and how it was reached. "deep": the page after the middle row by cursor when the list
    pages by cursor, else follow `next_cursor` for `walk` pages, else the last page by offset; "last": the offset."""
    first = client.get(url).get_json()
    if kind == "deep" and first.get("next_cursor"):
        middle = middle_cursor(client.application, url)
        if middle is not None:
            cursor, position = middle
            return with_param(url, cursor=cursor), f"the page after row {position:,}, by cursor"
        cursor, pages = first["next_cursor"], 1
        while pages < walk:
            body = client.get(with_param(url, cursor=cursor)).get_json()
            if not body.get("next_cursor"):
                break
            cursor, pages = body["next_cursor"], pages + 1
        return with_param(url, cursor=cursor), f"page {pages + 1} by next_cursor"
    page = last_page(client, url, first)
    return with_param(url, page=page), f"page={page} (offset)"


@dataclass
class Scale:
    """A database the requests are timed on: its app and the values for the URL placeholders."""

    name: str
    app: Any
    facts: Facts
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, username: str) -> Any:
        if username not in self.clients:
            self.clients[username] = logged_in_client(self.app, username)
        return self.clients[username]


@dataclass
class _Run:
    scale: Scale
    client: Any
    url: str
    timing: Timing
    samples: list[float] = field(default_factory=list)
    broken: bool = False


def time_requests(scales: list[Scale], *, repeat: int, budget_s: float, walk: int) -> dict[str, dict[str, Timing]]:
    """Each TIMED request on every scale: one untimed call each (it must answer 200), then rounds of one timed call
    per scale, in alternating order, so that whatever else the machine does falls on every scale alike. Up to
    `repeat` rounds; fewer (at least 5) once one scale's calls add up to `budget_s`. Timings by scale and label."""
    out: dict[str, dict[str, Timing]] = {scale.name: {} for scale in scales}
    for item in TIMED:
        runs: list[_Run] = []
        for scale in scales:
            timing = out[scale.name][item.label] = Timing()
            try:
                client = scale.client(item.user)
                url = item.prefix + item.url
                if item.page:
                    url, timing.note = deep_url(client, url.format_map(scale.facts), item.page, walk)
                response = call(client, item, url.format_map(scale.facts))
                if response.status_code != 200:
                    timing.note = f"HTTP {response.status_code}: {response.get_data(as_text=True)[:120]}"
                    continue
                runs.append(_Run(scale, client, url, timing))
            except Exception as exc:  # report and go on: one broken request should not hide the others
                timing.note = f"failed: {exc!r}"[:200]
                traceback.print_exc()
        rounds = 0
        while rounds < repeat and (rounds < 5 or max((sum(r.samples) for r in runs), default=0) < budget_s * 1000):
            live = [r for r in runs if not r.broken]
            if not live:
                break
            for run in live if rounds % 2 == 0 else reversed(live):
                target = run.url.format_map(run.scale.facts)
                try:
                    started = time.perf_counter()
                    response = call(run.client, item, target)
                    run.samples.append((time.perf_counter() - started) * 1000)
                except Exception as exc:
                    run.timing.note, run.broken = f"failed: {exc!r}"[:200], True
                    traceback.print_exc()
                    continue
                if response.status_code != 200:
                    run.timing.note, run.broken = f"HTTP {response.status_code} at {urllib.parse.unquote(target)}", True
            rounds += 1
        line = f"  {item.label:<48}"
        for run in runs:
            samples, timing = sorted(run.samples), run.timing
            if samples:
                timing.n, timing.median_ms = len(samples), statistics.median(samples)
                timing.p95_ms = samples[min(len(samples) - 1, math.ceil(len(samples) * 0.95) - 1)]
                line += f" {run.scale.name} {timing.median_ms:8.2f} ms"
        print(f"{line}   (n={rounds})")
    return out


def call(client: Any, item: Timed, url: str) -> Any:
    return client.get(url) if item.body is None else client.post(url, json=item.body)


def logged_in_client(app: Any, username: str = "admin") -> Any:
    client = app.test_client()
    answer = client.post(f"{API}/auth/token", json={"username": username, "password": DEMO_PASSWORD})
    if answer.status_code != 200:
        raise RuntimeError(f"log-in failed: {answer.status_code} {answer.get_data(as_text=True)}")
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {answer.get_json()['access_token']}"
    return client


def locate_plan(engine: Engine, point: tuple[float, float]) -> str:
    with engine.connect() as connection, Session(bind=connection) as session:
        plan = query_plan(session, locate_statement(engine.dialect.name, *point), forbid_seqscan=False)
        session.rollback()
    return plan
