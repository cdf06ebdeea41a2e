"""Locate and the containment/overlap checks go through the spatial index on both backends (query plans)."""

from __future__ import annotations

from sqlalchemy import Select, text
from sqlalchemy.orm import Session

from models.territory import GRID_CELL, VILLAGE
from models.territory.queries import locate_statement, sibling_candidates_statement
from tests import factories as f


def query_plan(session: Session, stmt: Select, *, forbid_seqscan: bool = True) -> str:
    """The backend's own plan for `stmt`, as text."""
    dialect = session.get_bind().dialect
    compiled = stmt.compile(dialect=dialect)
    if dialect.name == "sqlite":
        params = tuple(compiled.params[name] for name in compiled.positiontup)
        rows = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params).all()
        return "\n".join(row[-1] for row in rows)
    # A handful of rows would be scanned anyway; forbid the scan to see whether the index *can* answer.
    if forbid_seqscan:
        session.execute(text("SET LOCAL enable_seqscan = off"))
    rows = session.connection().exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).all()
    return "\n".join(row[0] for row in rows)


def index_used(plan: str, backend: str, table: str) -> bool:
    if backend == "sqlite":
        return f"SCAN idx_{table}_boundary VIRTUAL TABLE INDEX" in plan
    return f"idx_{table}_boundary" in plan and "Seq Scan" not in plan


def _county(client):
    township = f.township(client)
    village = f.village(client, township["id"])
    for i in range(4):
        f.cell(client, village["id"], code=f"{f.VILLAGE_CODE}{i + 1:03d}", box=(i * 500, 0, i * 500 + 500, 500))
    return village


def test_locate_goes_through_the_spatial_index(client, session, backend):
    _county(client)
    lon, lat = f.at(250, 250)
    plan = query_plan(session, locate_statement(backend, lon, lat))
    assert index_used(plan, backend, "grid_cells"), plan


def test_overlap_check_finds_its_candidates_through_the_spatial_index(client, session, backend):
    village = _county(client)
    bounds = (*f.at(0, 0), *f.at(500, 500))
    plan = query_plan(session, sibling_candidates_statement(backend, GRID_CELL, bounds, village["id"], None))
    assert index_used(plan, backend, "grid_cells"), plan
    plan = query_plan(session, sibling_candidates_statement(backend, VILLAGE, bounds, village["township_id"], None))
    assert index_used(plan, backend, "villages"), plan


def test_the_index_filter_returns_exactly_the_cells_whose_box_meets_the_query(client, session, backend):
    village = _county(client)
    bounds = (*f.at(600, 100), *f.at(700, 200))  # inside the second cell only, 100 m from the first
    codes = [
        row.code
        for row in session.execute(sibling_candidates_statement(backend, GRID_CELL, bounds, village["id"], None))
    ]
    assert codes == [f"{f.VILLAGE_CODE}002"]
