"""Lists paged by cursor: every row once, in a stable order, however the pages are cut; a bad cursor is a 422."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.factories import API, assert_problem, query_plan


def walk(client, path: str, **query) -> tuple[list[dict], int]:
    """Every item of a list, following `next` from the first page; and how many pages it took."""
    items, pages = [], 0
    response = client.get(f"{API}/{path}", query_string=query)
    while True:
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        items += body["items"]
        pages += 1
        assert (body["next"] is None) == (body["next_cursor"] is None)
        if body["next"] is None:
            return items, pages
        assert f"cursor={body['next_cursor']}" in body["next"]
        response = client.get(body["next"])


@pytest.fixture
def cells(client):
    town = f.township(client)
    village = f.village(client, town["id"])
    codes = [f"{f.VILLAGE_CODE}{n:03d}" for n in (5, 1, 4, 2, 3)]
    for i, code in enumerate(codes):
        f.cell(client, village["id"], code=code, box=(i * 200, 0, i * 200 + 200, 200))
    return village, sorted(codes)


@pytest.mark.parametrize("page_size", [1, 2, 5, 50])
def test_walking_the_cells_by_cursor_gives_each_once_in_code_order(client, cells, page_size):
    village, codes = cells

    items, pages = walk(client, "grid-cells", page_size=page_size, village_id=village["id"])

    assert [i["code"] for i in items] == codes
    assert pages == -(-len(codes) // page_size)  # no empty page at the end


def test_the_next_link_keeps_the_filters(client, cells):
    village, _codes = cells
    f.township(client, "430199102", box=(5000, 0, 6000, 1000))

    first = client.get(f"{API}/grid-cells", query_string={"page_size": 2, "village_id": village["id"]}).get_json()

    assert f"village_id={village['id']}" in first["next"] and "page_size=2" in first["next"]
    assert first["total"] is None


def test_count_true_answers_the_exact_total_on_a_cursor_list(client, cells):
    _village, codes = cells

    body = client.get(f"{API}/grid-cells", query_string={"page_size": 2, "count": "true"}).get_json()

    assert body["total"] == len(codes) and len(body["items"]) == 2


def test_the_history_pages_by_start_then_id_across_equal_starts(client):
    town = f.township(client)
    village = f.village(client, town["id"])
    cell = f.cell(client, village["id"])
    officers = [
        client.post(f"{API}/officers", json={"name": f"员{i}", "mobile": f"1380013800{i}", "township_id": town["id"]})
        for i in range(4)
    ]
    at = "2026-01-01T08:00:00+08:00"
    for response in officers:
        body = {"officer_id": response.get_json()["id"], "role": "member", "reason": "协助", "valid_from": at}
        assert (
            client.post(f"{API}/grid-cells/{cell['id']}/assignments", json=body, headers={"If-Match": "*"}).status_code
            == 201
        )

    items, _ = walk(client, "grid-assignments", page_size=1, cell_id=cell["id"])

    assert [i["id"] for i in items] == sorted(i["id"] for i in items)
    assert len(items) == 4


@pytest.mark.parametrize(
    "cursor",
    ["not-base64!", "bm90IGpzb24", "WzEsMiwzXQ", "WzFd", "W3RydWVd", "W251bGxd", "x" * 1001],
)
def test_a_cursor_this_list_never_gave_is_a_422_in_the_query(client, cells, cursor):
    body = assert_problem(client.get(f"{API}/grid-cells", query_string={"cursor": cursor}), 422, "invalid-cursor")

    assert body["errors"][0]["in"] == "query" and body["errors"][0]["field"] == "cursor"


def test_a_cursor_of_another_list_is_a_422(client, cells):
    audit = client.get(f"{API}/audit-events", query_string={"page_size": 1}).get_json()

    response = client.get(f"{API}/grid-assignments", query_string={"cursor": audit["next_cursor"]})

    assert_problem(response, 422, "invalid-cursor")


def keyset_plans(session):
    """The plan of a page deep in each list that pages by cursor, and the index that should serve it."""
    from datetime import UTC, datetime

    from models.accounts.queries import user_listing
    from models.audit import audit_listing
    from models.people.queries import assignment_listing, officer_listing
    from models.roles import SYSTEM
    from models.territory import GRID_CELL, VILLAGE
    from models.territory.queries import unit_listing

    moment = datetime(2026, 1, 1, tzinfo=UTC)
    # (On empty tables PostgreSQL may pick any index that matches a default filter: list everything here.)
    cases = [
        (assignment_listing(caller=SYSTEM, include_superseded=True), (moment, 5), "ix_grid_assignments_valid_from_id"),
        (officer_listing(caller=SYSTEM, include_inactive=True), ("张", 5), "ix_officers_name_id"),
        (audit_listing(), (1000,), "pk_audit_events"),
        (unit_listing(caller=SYSTEM, level=GRID_CELL, include_retired=True), ("430199101201001",), "grid_cells"),
        (unit_listing(caller=SYSTEM, level=VILLAGE, include_retired=True), ("430199101201",), "villages"),
        (user_listing(caller=SYSTEM, include_inactive=True), ("m",), "users"),
    ]
    for listing, key, index in cases:
        stmt = listing._ordered().where(listing.after(key)).limit(51)
        yield query_plan(session, stmt), index


def test_a_deep_page_starts_in_the_index_behind_the_order_instead_of_scanning_up_to_it(session, backend):
    for plan, index in keyset_plans(session):
        if backend == "sqlite":
            # a SEARCH on a range of the index, in its order: no scan up to the key, no sort
            assert "SEARCH" in plan and (">?)" in plan or "<?)" in plan), plan
            assert "TEMP B-TREE" not in plan, plan
        else:
            assert index in plan and "Index Cond" in plan, plan  # the key bounds the index range
    session.rollback()
