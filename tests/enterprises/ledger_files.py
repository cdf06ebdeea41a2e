"""Ledger files for the import tests: rows by enterprise number and position, written as CSV or .xlsx, and sent."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask.testing import FlaskClient

from tests import factories as f
from tests.factories import API

IMPORT = f"{API}/enterprises/import"


def row(n: int, x_m: float, y_m: float, **columns: Any) -> dict[str, Any]:
    """Enterprise n at (x_m, y_m) metres from the origin, as `tests.factories.enterprise` registers it; columns by
    English name (None leaves a column out of the row)."""
    lon, lat = f.at(x_m, y_m)
    values = {"name": f"企业{n}", "credit_code": f.credit_code(n), "sector": "hazardous_chemicals", "lon": lon,
              "lat": lat} | columns  # fmt: skip
    return {k: v for k, v in values.items() if v is not None}


def header_of(rows: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(key for r in rows for key in r))


def csv_file(rows: list[dict[str, Any]], *, names: dict[str, str] | None = None, encoding: str = "utf-8") -> bytes:
    """The rows as CSV; `names` renames columns in the header (e.g. to their Chinese names)."""
    keys = header_of(rows)
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([(names or {}).get(k, k) for k in keys])
    for r in rows:
        writer.writerow([_text(r.get(k)) for k in keys])
    return out.getvalue().encode(encoding)


def _text(value: Any) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


def xlsx_file(rows: list[dict[str, Any]], *, names: dict[str, str] | None = None) -> bytes:
    """The rows as .xlsx: numbers stay numbers, days stay days."""
    from openpyxl import Workbook

    keys = header_of(rows)
    book = Workbook()
    sheet = book.active
    sheet.append([(names or {}).get(k, k) for k in keys])
    for r in rows:
        sheet.append([r.get(k) for k in keys])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def send(
    client: FlaskClient, content: bytes, name: str = "ledger.csv", headers: dict | None = None, **query: Any
) -> Any:
    """Upload a ledger file; `query`: dry_run, all_or_nothing."""
    query = {k: str(v).lower() for k, v in query.items()}
    return client.post(
        IMPORT,
        data={"file": (io.BytesIO(content), name)},
        query_string=query,
        content_type="multipart/form-data",
        headers=headers or {},
    )


def imported(client: FlaskClient, content: bytes, name: str = "ledger.csv", **query: Any) -> dict[str, Any]:
    """The report of an upload that must succeed."""
    return f.ok(send(client, content, name, **query))


def outcomes(report: dict[str, Any]) -> dict[int, tuple[str, list[str]]]:
    """Row number -> (outcome, error codes)."""
    return {r["row"]: (r["outcome"], [e["code"] for e in r["errors"]]) for r in report["rows"]}


def enterprises_by_code(client: FlaskClient) -> dict[str, dict[str, Any]]:
    """Every live enterprise the caller sees, by credit code."""
    items = f.ok(client.get(f"{API}/enterprises", query_string={"page_size": 500}))["items"]
    return {e["credit_code"]: e for e in items}


def audit_total(admin: FlaskClient) -> int:
    return f.ok(admin.get(f"{API}/audit-events", query_string={"count": "true", "page_size": 1}))["total"]
