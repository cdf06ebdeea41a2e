"""A province-size territory for benchmarks: the demo county copied N times with bulk SQL, plus a long audit trail.

    .venv/bin/python scripts/province.py --database-url sqlite:///instance/province.sqlite --load-demo
    .venv/bin/python scripts/province.py --database-url postgresql://... --copies 134 --audit-events 1000000

Start from a database that holds the demo county (`flask demo load`, or `--load-demo` here) and nothing else.
Loading 200k cells through the service functions would take hours, so each table is copied with
INSERT ... SELECT (a batch of copies per statement), on SpatiaLite and on PostGIS alike:

- codes: the county prefix 430199 becomes another fictional county prefix per copy (43 + 90.. for the
  prefecture + a serial), so the 9/12/15-digit structure holds and codes stay unique;
- geometries are translated (ST_Translate / ShiftCoords) on a grid of county-sized steps, so copies never
  overlap; centroids move with them and the area is scaled by cos(latitude) as a translation in degrees does;
- ids are the originals plus copy x stride (stride = the base county's largest id per table), so foreign keys
  (township, village, cell, officer, corrected assignment) are remapped by the same arithmetic;
- officers get new mobile numbers, unique among all officers: another 3-digit segment than the demo's 139, then
  (new id x an odd multiplier not divisible by 5) mod 10^8, a bijection on ids below 10^8;
- assignments keep their role, interval, reasons, versions and history; users and audit events are not copied;
- enterprises move with their county (point, lon/lat, cell, village, township), the region code inside their credit
  code becomes the copy's (the check character is not computed again), their departments are the county's;
- the name search's grams (`name_grams`, see models/search.py) are copied with the records: the same grams (the names
  do not change), the ids remapped by the same arithmetic, the units' sort key (their code) given the copy's prefix.

Then `audit_events` rows (default 1,000,000) are generated in SQL with plausible columns, oldest first, and the
database is analysed (PostgreSQL: VACUUM ANALYZE, as autovacuum would leave a loaded database).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Connection, Engine, inspect, text

from models.demo import COUNTY_CODE

COPIES = 134  # with the original: 135 counties, ~201k cells
AUDIT_EVENTS = 1_000_000
STEP_DEGREES = 0.7  # the demo county spans ~0.60 deg of longitude and ~0.62 deg of latitude
# Mobile segments of the copies (the demo's officers all have 139): 1 + segment + 8 digits.
MOBILE_SEGMENTS = ("35", "36", "37", "38", "50", "51", "52", "57", "58", "59", "82", "87", "88", "86", "89", "77")
MOBILE_MULTIPLIER = 7_654_321  # odd and not a multiple of 5: x -> x * M mod 10^8 is a bijection
TABLES = ("townships", "villages", "grid_cells", "officers", "grid_assignments", "enterprises")
# Tables without an id of their own, copied with the rows they belong to: table -> (its column, the owner's table)
LINKS = {"enterprise_departments": ("enterprise_id", "enterprises")}
# The kinds of records in name_grams, and their tables (an officer's and an enterprise's sort key is their name, a
# unit's its code).
GRAM_KINDS = {
    "township": "townships",
    "village": "villages",
    "grid_cell": "grid_cells",
    "officer": "officers",
    "enterprise": "enterprises",
}
NAME_SORTED = ("officer", "enterprise")


@dataclass(frozen=True)
class Copy:
    index: int  # 1..copies; 0 is the original county
    prefix: str  # the 6-digit county code replacing 430199
    dx: float
    dy: float


def copy_plan(copies: int) -> list[Copy]:
    """Where each copy goes: a square-ish grid of county-sized steps with the original at its south-west corner."""
    columns = math.ceil(math.sqrt(copies + 1))
    plan = []
    for k in range(1, copies + 1):
        serial = k - 1
        prefix = f"43{90 + serial // 99:02d}{serial % 99 + 1:02d}"  # 439001..439099, 439101..: no real county
        plan.append(Copy(k, prefix, (k % columns) * STEP_DEGREES, (k // columns) * STEP_DEGREES))
    if len({c.prefix for c in plan} | {COUNTY_CODE}) != copies + 1 or copies > 99 * 9:
        raise ValueError(f"too many copies: {copies}")
    return plan


def translate_point(lon: float, lat: float, copy: Copy) -> tuple[float, float]:
    return lon + copy.dx, lat + copy.dy


def _copies_cte(copies: list[Copy], dialect: str) -> str:
    real = "DOUBLE PRECISION" if dialect == "postgresql" else "REAL"
    rows = ", ".join(f"({c.index}, '{c.prefix}', CAST({c.dx!r} AS {real}), CAST({c.dy!r} AS {real}))" for c in copies)
    return f"WITH copies(k, prefix, dx, dy) AS (VALUES {rows})"


def _unit_overrides(dialect: str, stride: dict[str, int], table: str) -> dict[str, str]:
    translate = "ST_Translate" if dialect == "postgresql" else "ShiftCoords"
    out = {
        "id": f"t.id + c.k * {stride[table]}",
        "code": "c.prefix || substr(t.code, 7)",
        "boundary": f"{translate}(t.boundary, c.dx, c.dy)",
        # A shape moved north by dy degrees covers cos(lat + dy) / cos(lat) of its area (to well under 0.1 % here).
        "area_m2": "t.area_m2 * cos(radians(t.centroid_lat + c.dy)) / cos(radians(t.centroid_lat))",
        "centroid_lon": "t.centroid_lon + c.dx",
        "centroid_lat": "t.centroid_lat + c.dy",
    }
    if table in ("villages", "grid_cells"):
        out["township_id"] = f"t.township_id + c.k * {stride['townships']}"
    if table == "grid_cells":
        out["village_id"] = f"t.village_id + c.k * {stride['villages']}"
    return out


def _overrides(dialect: str, stride: dict[str, int], table: str) -> dict[str, str]:
    if table in ("townships", "villages", "grid_cells"):
        return _unit_overrides(dialect, stride, table)
    if table == "officers":
        new_id = f"(t.id + c.k * {stride['officers']})"
        segments = "".join(MOBILE_SEGMENTS)
        digits = f"({new_id} * {MOBILE_MULTIPLIER}) % 100000000"
        if dialect == "postgresql":
            eight = f"lpad((CAST({new_id} AS BIGINT) * {MOBILE_MULTIPLIER} % 100000000)::text, 8, '0')"
        else:
            eight = f"printf('%08d', {digits})"
        segment = f"substr('{segments}', 2 * ({new_id} % {len(MOBILE_SEGMENTS)}) + 1, 2)"
        return {
            "id": new_id,
            "mobile": f"'1' || {segment} || {eight}",
            "township_id": f"t.township_id + c.k * {stride['townships']}",
        }
    if table == "enterprises":
        # The region code inside the credit code (characters 3-8) becomes the copy's; the check character is not
        # computed again (the database does not check it; the API does, on what it is sent).
        translate = "ST_Translate" if dialect == "postgresql" else "ShiftCoords"
        return {
            "id": f"t.id + c.k * {stride['enterprises']}",
            "credit_code": "substr(t.credit_code, 1, 2) || c.prefix || substr(t.credit_code, 9)",
            "location": f"{translate}(t.location, c.dx, c.dy)",
            "lon": "t.lon + c.dx",
            "lat": "t.lat + c.dy",
            "cell_id": f"t.cell_id + c.k * {stride['grid_cells']}",  # NULL (unassigned) stays NULL
            "village_id": f"t.village_id + c.k * {stride['villages']}",
            "township_id": f"t.township_id + c.k * {stride['townships']}",
        }
    if table == "enterprise_departments":
        return {"enterprise_id": f"t.enterprise_id + c.k * {stride['enterprises']}"}
    if table == "grid_assignments":
        return {
            "id": f"t.id + c.k * {stride['grid_assignments']}",
            "cell_id": f"t.cell_id + c.k * {stride['grid_cells']}",
            "officer_id": f"t.officer_id + c.k * {stride['officers']}",
            "township_id": f"t.township_id + c.k * {stride['townships']}",
            "corrects_id": f"t.corrects_id + c.k * {stride['grid_assignments']}",  # NULL stays NULL
        }
    raise ValueError(table)


def copy_statement(connection: Connection, table: str, copies: list[Copy], stride: dict[str, int]) -> str:
    """INSERT ... SELECT of the base county's rows of `table` for these copies; other columns copied as they are."""
    dialect = connection.dialect.name
    columns = [c["name"] for c in inspect(connection).get_columns(table)]
    overrides = _overrides(dialect, stride, table)
    missing = set(overrides) - set(columns)
    if missing:
        raise RuntimeError(f"{table} has no column {', '.join(sorted(missing))}: update scripts/province.py")
    select_list = ", ".join(overrides.get(name, f"t.{name}") for name in columns)
    key, owner = LINKS.get(table, ("id", table))
    return (
        f"{_copies_cte(copies, dialect)} INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {select_list} FROM {table} t CROSS JOIN copies c WHERE t.{key} <= {stride[owner]} "
        f"ORDER BY c.k, t.{key}"
    )


def gram_copy_statement(dialect: str, copies: list[Copy], stride: dict[str, int]) -> str:
    """INSERT ... SELECT of the base county's name grams for these copies (unsorted: on SQLite, sorting the batch
    first made the copy slower, 8.4 s against 6.3 s for 134 copies)."""
    strides = " ".join(f"WHEN '{kind}' THEN {stride[table]}" for kind, table in GRAM_KINDS.items())
    new_id = f"t.entity_id + c.k * CASE t.kind {strides} END"
    named = ", ".join(f"'{kind}'" for kind in NAME_SORTED)
    sort_key = f"CASE WHEN t.kind IN ({named}) THEN t.sort_key ELSE c.prefix || substr(t.sort_key, 7) END"
    base = " OR ".join(f"(t.kind = '{k}' AND t.entity_id <= {stride[t]})" for k, t in GRAM_KINDS.items())
    return (
        f"{_copies_cte(copies, dialect)} INSERT INTO name_grams (kind, gram, sort_key, entity_id) "
        f"SELECT t.kind, t.gram, {sort_key}, {new_id} FROM name_grams t CROSS JOIN copies c WHERE {base}"
    )


def _check_base(connection: Connection) -> dict[str, int]:
    """The largest id per table of the base county; refuses a database that holds anything but one county."""
    stride = {}
    for table in TABLES:
        stride[table] = connection.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar_one()
    if not stride["grid_cells"]:
        raise RuntimeError("no grid cells: load the demo county first (`flask demo load`, or --load-demo)")
    foreign = connection.execute(
        text("SELECT count(*) FROM townships WHERE code NOT LIKE :prefix"), {"prefix": f"{COUNTY_CODE}%"}
    ).scalar_one()
    if foreign:
        raise RuntimeError(f"the database holds {foreign} townships outside county {COUNTY_CODE}: already copied?")
    kinds = set(connection.execute(text("SELECT DISTINCT kind FROM name_grams")).scalars())
    if kinds - set(GRAM_KINDS):
        raise RuntimeError(f"name_grams holds kinds {sorted(kinds - set(GRAM_KINDS))}: update scripts/province.py")
    return stride


# ---- the audit trail --------------------------------------------------------------------------------------------


def _audit_statement(dialect: str, *, first_id: int, n: int, start: float, span: float, ids: dict[str, int]) -> str:
    """`n` audit events, ids first_id.., times from `start` (epoch s) over `span` s, oldest first.

    Pseudo-random but deterministic: (g * a) % m picks of the row number g. A mix like a live system's: mostly
    assignments, then cells, officers, villages, accounts; creates and updates, ends and retirements; actors the demo
    admin (user 1), leader (2) or the system; before/after values shaped like the real ones.
    """
    g = "g"
    pick = lambda a, m: f"(({g} * {a}) % {m})"  # noqa: E731
    kind = pick(7, 20)  # 0..19
    entity_type = (
        f"CASE WHEN {kind} < 10 THEN 'grid_assignments' WHEN {kind} < 14 THEN 'grid_cells' "
        f"WHEN {kind} < 17 THEN 'officers' WHEN {kind} < 19 THEN 'villages' ELSE 'users' END"
    )
    entity_id = (
        f"CASE WHEN {kind} < 10 THEN 1 + {pick(2654435761, ids['grid_assignments'])} "
        f"WHEN {kind} < 14 THEN 1 + {pick(2246822519, ids['grid_cells'])} "
        f"WHEN {kind} < 17 THEN 1 + {pick(3266489917, ids['officers'])} "
        f"WHEN {kind} < 19 THEN 1 + {pick(668265263, ids['villages'])} ELSE 1 + {pick(3, 4)} END"
    )
    township_id = f"CASE WHEN {kind} = 19 THEN NULL ELSE 1 + {pick(374761393, ids['townships'])} END"
    actor_id = f"CASE {pick(17, 5)} WHEN 0 THEN NULL WHEN 1 THEN 1 WHEN 2 THEN 1 ELSE 2 END"
    actor = f"CASE {pick(17, 5)} WHEN 0 THEN 'system' WHEN 1 THEN 'admin' WHEN 2 THEN 'admin' ELSE 'leader' END"
    if dialect == "postgresql":
        at = f"to_timestamp({start!r} + {g} * {span / n!r})"
        iso = f"to_char({at} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')"
        obj = "jsonb_build_object"
    else:
        at = f"strftime('%Y-%m-%d %H:%M:%S', {start!r} + {g} * {span / n!r}, 'unixepoch') || '.000000'"
        iso = f"strftime('%Y-%m-%dT%H:%M:%S+00:00', {start!r} + {g} * {span / n!r}, 'unixepoch')"
        obj = "json_object"
    ends = f"{kind} < 10 AND {pick(11, 3)} = 0"  # an assignment ended (a third of the assignment events)
    creates = f"{kind} >= 10 AND {kind} NOT IN (13, 16, 19) AND {pick(13, 4)} = 0"
    # (condition, action, before, after), first match wins
    cases = [
        (
            ends,
            "end",
            f"{obj}('valid_to', NULL)",
            f"{obj}('valid_to', {iso}, 'ended_at', {iso}, 'end_reason', '人员调整')",
        ),
        (
            f"{kind} < 10",
            "create",
            "NULL",
            f"{obj}('cell_id', {entity_id}, 'officer_id', 1 + {pick(40503, ids['officers'])}, 'role', 'owner', "
            f"'valid_from', {iso}, 'reason', '网格长调整', 'valid_to', NULL)",
        ),
        (f"{kind} = 13", "retire", f"{obj}('retired_at', NULL)", f"{obj}('retired_at', {iso}, 'updated_at', {iso})"),
        (
            f"{kind} = 16",
            "deactivate",
            f"{obj}('deactivated_at', NULL)",
            f"{obj}('deactivated_at', {iso}, 'updated_at', {iso})",
        ),
        (
            f"{kind} = 19",
            "change-password",
            f"{obj}('password_changed_at', '2025-01-01T08:30:00+00:00')",
            f"{obj}('password_changed_at', {iso}, 'updated_at', {iso})",
        ),
        (creates, "create", "NULL", f"{obj}('name', '新建第3网格', 'created_at', {iso}, 'updated_at', {iso})"),
        ("1 = 1", "update", f"{obj}('name', '旧名称')", f"{obj}('name', '新名称', 'updated_at', {iso})"),
    ]
    action = "CASE " + " ".join(f"WHEN {when} THEN '{name}'" for when, name, _, _ in cases) + " END"
    before = "CASE " + " ".join(f"WHEN {when} THEN {b}" for when, _, b, _ in cases) + " END"
    after = "CASE " + " ".join(f"WHEN {when} THEN {a}" for when, _, _, a in cases) + " END"
    columns = "id, occurred_at, actor_user_id, actor, action, entity_type, entity_id, township_id, before, after"
    select_list = (
        f"{first_id - 1} + {g}, {at}, {actor_id}, {actor}, {action}, {entity_type}, {entity_id}, {township_id}, "
        f"{before}, {after}"
    )
    if dialect == "postgresql":
        return (
            f"INSERT INTO audit_events ({columns}) SELECT {select_list} "
            f"FROM generate_series(CAST(1 AS BIGINT), CAST({n} AS BIGINT)) AS s(g)"
        )
    return (
        f"WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) "
        f"INSERT INTO audit_events ({columns}) SELECT {select_list} FROM s"
    )


def add_audit_events(connection: Connection, n: int, *, batch: int = 250_000) -> None:
    """`n` more audit events after the existing ones, spread over the two years before the newest."""
    dialect = connection.dialect.name
    first_id = connection.execute(text("SELECT coalesce(max(id), 0) FROM audit_events")).scalar_one() + 1
    ids = {t: connection.execute(text(f"SELECT max(id) FROM {t}")).scalar_one() for t in TABLES}
    end = time.time() - 86_400  # a day ago: the demo load's own events (now) stay the newest in time
    span = 2 * 365 * 86_400.0
    start = end - span
    for offset in range(0, n, batch):
        size = min(batch, n - offset)
        connection.execute(
            text(
                _audit_statement(
                    dialect,
                    first_id=first_id + offset,
                    n=size,
                    start=start + span * offset / n,
                    span=span * size / n,
                    ids=ids,
                )
            )
        )


# ---- the whole thing --------------------------------------------------------------------------------------------


def generate_province(
    engine: Engine,
    *,
    copies: int = COPIES,
    audit_events: int = AUDIT_EVENTS,
    batch: int = 10,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Copy the demo county `copies` times, add `audit_events` events, analyse. Returns timings and row counts."""
    timings: dict[str, float] = {}
    plan = copy_plan(copies)
    with engine.connect() as connection:
        stride = _check_base(connection)
        connection.rollback()
    for table in (*TABLES, *LINKS):
        started = time.perf_counter()
        for first in range(0, len(plan), batch):
            with engine.begin() as connection:
                connection.execute(text(copy_statement(connection, table, plan[first : first + batch], stride)))
        timings[f"copy {table}"] = time.perf_counter() - started
        log(f"  copied {table} x{copies}   {timings[f'copy {table}']:7.1f} s")
    started = time.perf_counter()
    for first in range(0, len(plan), batch):
        with engine.begin() as connection:
            connection.execute(text(gram_copy_statement(engine.dialect.name, plan[first : first + batch], stride)))
    timings["copy name_grams"] = time.perf_counter() - started
    log(f"  copied name_grams x{copies}   {timings['copy name_grams']:7.1f} s")
    if audit_events:
        started = time.perf_counter()
        with engine.begin() as connection:
            add_audit_events(connection, audit_events)
        timings["audit events"] = time.perf_counter() - started
        log(f"  added {audit_events:,} audit events   {timings['audit events']:7.1f} s")
    if engine.dialect.name == "postgresql":  # rows came with their ids: move the id sequences past them
        with engine.begin() as connection:
            for table in (*TABLES, "audit_events"):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                connection.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))"))
    started = time.perf_counter()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    timings["analyze"] = time.perf_counter() - started
    log(f"  analysed   {timings['analyze']:7.1f} s")
    with engine.connect() as connection:
        counts = {
            t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in (*TABLES, "name_grams", "audit_events")
        }
    return {"timings": timings, "counts": counts, "copies": plan}


def verify(engine: Engine, plan: list[Copy], probe: tuple[str, float, float]) -> list[str]:
    """Checks that the copies are usable: the SpatiaLite R*Trees hold every row, locate finds a copied cell, mobiles
    are unique, every record has its name grams.

    `probe`: (code, lon, lat) of a cell of the original county and a point inside it. Returns problems (none: []).
    """
    from models.territory.queries import locate_statement

    problems = []
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            for table, column in (
                ("townships", "boundary"),
                ("villages", "boundary"),
                ("grid_cells", "boundary"),
                ("enterprises", "location"),
            ):
                rows = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                indexed = connection.execute(text(f"SELECT count(*) FROM idx_{table}_{column}")).scalar_one()
                if rows != indexed:
                    problems.append(f"idx_{table}_{column} holds {indexed} rows, {table} {rows}")
        code, lon, lat = probe
        for copy in (plan[0], plan[-1]) if plan else ():
            x, y = translate_point(lon, lat, copy)
            found = connection.execute(locate_statement(engine.dialect.name, x, y)).mappings().first()
            expected = copy.prefix + code[6:]
            if found is None or found["code"] != expected:
                problems.append(f"locate({x:.6f}, {y:.6f}) found {found and found['code']}, expected {expected}")
        mobiles = connection.execute(
            text("SELECT count(*) - count(DISTINCT mobile) FROM officers WHERE deactivated_at IS NULL")
        ).scalar_one()
        if mobiles:
            problems.append(f"{mobiles} duplicate mobile numbers among active officers")
        for kind, table in GRAM_KINDS.items():  # every record is found by its name
            rows = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            searched = connection.execute(
                text("SELECT count(DISTINCT entity_id) FROM name_grams WHERE kind = :kind"), {"kind": kind}
            ).scalar_one()
            if searched != rows:
                problems.append(f"name_grams holds the grams of {searched} {table}, of {rows}")
    return problems


def main() -> None:
    from api import create_app
    from api.db import db
    from models.demo import load_demo_county, plan_county
    from models.schema import upgrade
    from models.territory import GRID_CELL

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--copies", type=int, default=COPIES)
    parser.add_argument("--audit-events", type=int, default=AUDIT_EVENTS)
    parser.add_argument("--load-demo", action="store_true", help="migrate and load the demo county first if empty")
    args = parser.parse_args()
    app = create_app({"DATABASE_URL": args.database_url})
    engine = db.engine(app)
    if args.load_demo:
        upgrade(engine)
        with db.new_session(app) as session:
            load_demo_county(session, if_empty=True)
    started = time.perf_counter()
    result = generate_province(engine, copies=args.copies, audit_events=args.audit_events)
    print(f"done in {time.perf_counter() - started:.1f} s: {result['counts']}")
    cell = next(u for u in plan_county() if u.level is GRID_CELL)
    point = cell.shape.representative_point()
    for problem in verify(engine, result["copies"], (cell.code, point.x, point.y)):
        print(f"PROBLEM: {problem}")


if __name__ == "__main__":
    main()
