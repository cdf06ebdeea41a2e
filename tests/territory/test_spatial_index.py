"""Locate and the containment/overlap checks go through the spatial index on both backends (query plans).

The county is the `land` fixture's (tests/conftest.py).
"""

from __future__ import annotations

from sqlalchemy import text

from models.territory import GRID_CELL, VILLAGE
from models.territory.queries import locate_statement, sibling_candidates_statement
from tests.factories import at, query_plan


def index_used(plan: str, backend: str, table: str) -> bool:
    if backend == "sqlite":
        return f"SCAN idx_{table}_boundary VIRTUAL TABLE INDEX" in plan
    return f"idx_{table}_boundary" in plan and "Seq Scan" not in plan


def test_locate_goes_through_the_spatial_index(land, session, backend):
    lon, lat = at(250, 250)
    plan = query_plan(session, locate_statement(backend, lon, lat))
    assert index_used(plan, backend, "grid_cells"), plan


def test_overlap_check_finds_its_candidates_through_the_spatial_index(land, session, backend):
    bounds = (*at(0, 0), *at(500, 500))
    if backend == "postgresql":
        # On tables this small PostgreSQL may rightly answer from the parent's btree instead (whether autovacuum
        # has analysed them yet decides): take those away, in this transaction only, to see the spatial index can.
        session.execute(text("DROP INDEX ix_grid_cells_village_id, ix_villages_township_id"))
    plan = query_plan(session, sibling_candidates_statement(backend, GRID_CELL, bounds, land["vA1"], None))
    assert index_used(plan, backend, "grid_cells"), plan
    plan = query_plan(session, sibling_candidates_statement(backend, VILLAGE, bounds, land["tA"], None))
    assert index_used(plan, backend, "villages"), plan


def test_the_index_filter_returns_exactly_the_cells_whose_box_meets_the_query(land, session, backend):
    bounds = (*at(1100, 100), *at(1200, 200))  # inside cell cA2 only, 100 m from its neighbour cA1
    codes = [
        row.code for row in session.execute(sibling_candidates_statement(backend, GRID_CELL, bounds, land["vA1"], None))
    ]
    assert codes == [land.record("cA2")["code"]]
