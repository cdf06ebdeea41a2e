"""How long importing the enterprise ledger takes, through HTTP (the Flask test client, in-process), on SpatiaLite and
on PostGIS: a generated ledger of valid rows (random credit codes with their check character, points inside the
cells of the demo county, the sectors and values a county's ledger holds) uploaded as CSV and as .xlsx.

Per backend, in a new database with the demo county (`models.demo.load_demo_county`, its 5,000 enterprises included):
a dry run, the import (every row created), the same file again (every row unchanged), the same rows as .xlsx
(unchanged: the reading of a workbook), and a file in which every tenth row changes its risk level and every
hundredth moves (updated). Prints seconds; asserts nothing but the outcomes.

    .venv/bin/python scripts/bench_import.py [--rows 20000] [--backends spatialite,postgis] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy import select

from api import create_app
from api.db import db
from models.demo import DEMO_PASSWORD, load_demo_county
from models.enterprises.credit_code import ALPHABET, check_character
from models.roles import SYSTEM
from models.schema import upgrade
from models.territory import GridCell
from tests.pg_server import postgres_server

SECTORS = ("industry_trade", "crowded_place", "construction", "road_transport", "危险化学品", "燃气", "特种设备",
           "其他")  # fmt: skip
RISKS = ("重大", "较大", "一般", "低", "blue", "yellow")
HEADER = ("企业名称", "统一社会信用代码", "行业领域", "经度", "纬度", "坐标系", "风险等级", "重点企业", "规模",
          "经营状态", "许可证有效期", "法定代表人", "值班电话", "地址")  # fmt: skip


def ledger_rows(cells: list[Any], count: int, seed: int) -> list[list[Any]]:
    rng = random.Random(seed)
    used: set[str] = set()
    rows = []
    while len(rows) < count:
        first17 = "92430199" + "".join(rng.choice(ALPHABET) for _ in range(9))  # 92: individual businesses
        code = first17 + check_character(first17)
        if code in used:
            continue
        used.add(code)
        cell = rng.choice(cells)
        minx, miny, maxx, maxy = cell.bounds
        while True:
            lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if cell.contains(Point(lon, lat)):
                break
        rows.append(
            [f"台账企业{len(rows) + 1}号", code, rng.choice(SECTORS), round(lon, 7), round(lat, 7), "wgs84",
             rng.choice(RISKS), rng.choice(("否", "镇级", "县级")), rng.choice(("规上", "中小", "小微")), "正常",
             f"20{rng.randint(27, 30)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", "王建国",
             f"0731-5{rng.randint(1000000, 9999999)}", f"某某路{rng.randint(1, 999)}号"]
        )  # fmt: skip
    return rows


def as_csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def as_xlsx(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def timed(client: Any, token: str, content: bytes, name: str, **query: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = client.post(
        "/api/v1/enterprises/import",
        data={"file": (io.BytesIO(content), name)},
        query_string=query,
        content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {token}"},
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return elapsed, response.get_json()


def run(url: str, count: int) -> list[tuple[str, float, dict[str, int]]]:
    app = create_app({"DATABASE_URL": url, "PASSWORD_HASH_COST": "fast"})
    upgrade(db.engine(app))
    with app.app_context():
        session = db.new_session(app)
        session.info["actor"] = SYSTEM
        started = time.perf_counter()
        load_demo_county(session, password=DEMO_PASSWORD)
        print(f"  demo county loaded in {time.perf_counter() - started:.1f} s", flush=True)
        cells = [to_shape(b) for b in session.scalars(select(GridCell.boundary))]
        session.close()
    rows = ledger_rows(cells, count, seed=7)
    client = app.test_client()
    login = client.post("/api/v1/auth/token", json={"username": "admin", "password": DEMO_PASSWORD})
    token = login.get_json()["access_token"]
    csv_file, xlsx_file = as_csv(rows), as_xlsx(rows)
    changed = [list(r) for r in rows]
    for i, r in enumerate(changed):
        if i % 10 == 0:
            r[6] = "较大" if r[6] != "较大" else "一般"
        if i % 100 == 0:
            r[3] = round(r[3] + 0.00001, 7)
    steps = [
        ("dry run (CSV)", csv_file, "ledger.csv", {"dry_run": "true"}),
        ("import (CSV): all created", csv_file, "ledger.csv", {}),
        ("again (CSV): all unchanged", csv_file, "ledger.csv", {}),
        ("again (.xlsx): all unchanged", xlsx_file, "ledger.xlsx", {}),
        ("a tenth changed (CSV): updated", as_csv(changed), "ledger.csv", {}),
    ]
    results = []
    for label, content, name, query in steps:
        seconds, report = timed(client, token, content, name, **query)
        size = f"{len(content) / 2**20:.1f} MB"
        print(f"  {label:34} {seconds:6.1f} s  ({size}) {report['summary']}", flush=True)
        results.append((label, seconds, report["summary"]))
    db.engine(app).dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--backends", default="spatialite,postgis")
    parser.add_argument("--postgres-url", default=None, help="an empty PostGIS database (default: start a server)")
    args = parser.parse_args()
    with ExitStack() as stack:
        for backend in args.backends.split(","):
            if backend == "spatialite":
                directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="gridpatrol-bench-import-"))
                url = f"sqlite:///{Path(directory) / 'bench.sqlite'}"
            else:
                url = args.postgres_url or stack.enter_context(postgres_server())
            print(f"{backend}: {args.rows:,} rows", flush=True)
            run(url, args.rows)


if __name__ == "__main__":
    main()
