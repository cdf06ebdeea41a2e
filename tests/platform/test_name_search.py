"""Name search through the shared gram index (models.search): the same records, in the same order, as the substring
match it replaces, kept by every write at once, paged by cursor, and read from the index on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text

from api.db import db
from models.listing import page_after
from models.roles import SYSTEM
from models.schema import downgrade, upgrade
from models.search import NameGram, name_search
from tests import factories as f
from tests.factories import API, query_plan
from tests.platform.test_paging import walk

# Besides the world's names (青山镇, Green Hill Town, 张家村, 第1网格, 张伟, ...): Latin case, full-width letters,
# wildcards, repeated characters and names that share a gram with many others.
EXTRA_CELLS = ("100%_Hill 网格", "Ａ区第1网格", "第1网格第1网格", "GREEN 第3网格")
EXTRA_OFFICERS = ("张伟", "张伟伟", "Anna_Li", "anna li", "100%王")
FRAGMENTS = (
    "第", "网", "1", "%", "_", "a", "Ａ",  # one character
    "第1", "网格", "张伟", "家村", "%_", "an", "HI", "ａ区", " 第",  # two
    "第1网", "网格第1", "green hill", "GREEN 第", "青山镇", "张家村", "anna_", "100%_h", "伟伟", "张伟伟", "nowhere",
)  # fmt: skip
LISTS = (("townships", "code"), ("villages", "code"), ("grid-cells", "code"), ("officers", "name"))


@pytest.fixture
def named(world):
    """The world with a few more cells in vA2 and officers in tA, named to trip a search up."""
    for i, name in enumerate(EXTRA_CELLS):
        f.cell(
            world.admin,
            world["vA2"],
            code=f"430199101202{i + 2:03d}",
            box=(2000, 1000 + i * 200, 2200, 1200 + i * 200),
            name=name,
        )
    for i, name in enumerate(EXTRA_OFFICERS):
        f.officer(world.admin, world["tA"], name=name, mobile=f"1390000000{i}")
    return world


def listed(client, path: str, **query: Any) -> list[dict[str, Any]]:
    """Every item of a list (townships: one big page; the others by cursor)."""
    if path == "townships":
        return f.ok(client.get(f"{API}/{path}", query_string={"page_size": 500, **query}))["items"]
    return walk(client, path, page_size=500, **query)[0]


@pytest.mark.parametrize("fragment", FRAGMENTS)
def test_a_name_search_answers_what_a_case_insensitive_substring_match_does_in_the_list_order(named, fragment):
    admin = named.admin
    for path, _order in LISTS:
        everything = listed(admin, path)  # in the list's own order
        expected = [i for i in everything if fragment.lower() in i["name"].lower()]

        assert listed(admin, path, name=fragment) == expected, path


@pytest.mark.parametrize("fragment", FRAGMENTS)
def test_a_name_search_finds_the_records_the_like_it_replaces_found(named, session, fragment):
    from models.people import Officer
    from models.people.queries import officer_listing
    from models.territory import LEVELS
    from models.territory.queries import unit_listing

    cases = [(lv.model, unit_listing(caller=SYSTEM, level=lv, name=fragment, include_retired=True)) for lv in LEVELS]
    cases.append((Officer, officer_listing(caller=SYSTEM, name=fragment, include_inactive=True)))
    for model, listing in cases:
        like = func.lower(model.name).contains(fragment.lower(), autoescape=True)
        order = (model.name, model.id) if model is Officer else (model.code,)
        expected = session.scalars(select(model.id).where(like).order_by(*order)).all()

        rows, _ = page_after(session, listing, size=500, key=None)

        assert [r["id"] for r in rows] == expected, model.__name__
    session.rollback()


def test_a_rename_is_found_by_its_new_name_at_once_and_no_longer_by_the_old(world):
    admin = world.admin
    path = f"villages/{world['vA1']}"
    renamed = admin.patch(f"{API}/{path}", json={"name": "柳溪村"}, headers=f.if_match(admin, path))
    assert renamed.status_code == 200, renamed.get_json()
    path = f"officers/{world['oA1']}"
    renamed = admin.patch(f"{API}/{path}", json={"name": "Zhou Wei"}, headers=f.if_match(admin, path))
    assert renamed.status_code == 200, renamed.get_json()

    assert [v["id"] for v in listed(admin, "villages", name="柳溪")] == [world["vA1"]]
    assert [v["id"] for v in listed(admin, "villages", name="张家")] == []
    assert [v["code"] for v in listed(admin, "villages", name="家村")] == ["430199101202", "430199102201"]
    assert [o["id"] for o in listed(admin, "officers", name="zhou w")] == [world["oA1"]]
    assert [o["id"] for o in listed(admin, "officers", name="伟")] == []


def test_a_change_that_keeps_the_name_keeps_the_search(world):
    admin = world.admin
    path = f"officers/{world['oA2']}"
    changed = admin.patch(f"{API}/{path}", json={"title": "村安全员"}, headers=f.if_match(admin, path))
    assert changed.status_code == 200, changed.get_json()

    assert [o["id"] for o in listed(admin, "officers", name="李强")] == [world["oA2"]]


def test_a_search_stays_within_the_callers_scope(named):
    leader = named.as_("leader_a")

    found = listed(leader, "grid-cells", name="第1")

    assert {c["township_id"] for c in found} == {named["tA"]}
    assert [c["id"] for c in found] == [
        c["id"] for c in listed(named.admin, "grid-cells", name="第1", township_id=named["tA"])
    ]
    assert named.names(listed(named.as_("officer_a"), "officers", name="张"), "o") == ["oA1"]


@pytest.mark.parametrize("page_size", [1, 2, 3])
def test_paging_a_search_by_cursor_gives_each_record_once_in_order(world, page_size):
    admin = world.admin
    for i in range(5):  # namesakes: the order falls back on the id
        f.officer(admin, world["tA"], name="张伟", mobile=f"1370000000{i}")
    for i in range(4):
        f.cell(admin, world["vA2"], code=f"430199101202{i + 2:03d}", box=(2000, 1000 + i * 200, 2200, 1200 + i * 200))
    everything = listed(admin, "officers")

    officers, pages = walk(admin, "officers", page_size=page_size, name="张伟")
    cells, _ = walk(admin, "grid-cells", page_size=page_size, name="第1网")

    assert officers == [o for o in everything if "张伟" in o["name"]] and len(officers) == 6
    assert pages == -(-len(officers) // page_size)
    assert [c["code"] for c in cells] == sorted(c["code"] for c in listed(admin, "grid-cells") if "第1网" in c["name"])
    assert len(cells) == 7


def test_a_search_by_page_number_and_its_total(named):
    body = f.ok(named.admin.get(f"{API}/townships", query_string={"name": "镇", "page_size": 1, "count": "true"}))
    cells = f.ok(named.admin.get(f"{API}/grid-cells", query_string={"name": "网格", "count": "true"}))

    assert [t["code"] for t in body["items"]] == ["430199101"] and body["total"] == 1
    assert cells["total"] == len(cells["items"]) == 9


def test_the_migration_fills_the_index_from_the_records_already_there(app, world, session):
    def postings() -> set[tuple]:
        rows = session.execute(select(NameGram.kind, NameGram.gram, NameGram.sort_key, NameGram.entity_id)).all()
        session.rollback()
        return set(map(tuple, rows))

    written_by_the_writes = postings()
    engine = db.engine(app)
    downgrade(engine, "0004")
    upgrade(engine)
    engine.dispose()  # SpatiaLite caches geometry metadata per connection

    assert postings() == written_by_the_writes
    assert ("village", "张家", "430199101201", world["vA1"]) in written_by_the_writes
    assert ("officer", "伟", "张伟", world["oA1"]) in written_by_the_writes


def search_plans(session):
    """The plan of a deep page of a search in each list, for a 1-, 2- and 3-character fragment."""
    from models.people import Officer
    from models.people.queries import officer_listing
    from models.territory import GRID_CELL, VILLAGE
    from models.territory.queries import unit_listing

    for fragment in ("第", "网格", "第1网"):
        for listing, key in (
            (unit_listing(caller=SYSTEM, level=GRID_CELL, name=fragment), ("430199101201001",)),
            (unit_listing(caller=SYSTEM, level=VILLAGE, name=fragment), ("430199101201",)),
            (officer_listing(caller=SYSTEM, name=fragment), ("张", 5)),
        ):
            stmt = listing._ordered().where(listing.after(key)).limit(51)
            yield query_plan(session, stmt)
    assert name_search(officer_listing(caller=SYSTEM), Officer, "x").order[0].key == "name"


def test_a_search_reads_a_range_of_the_gram_index_in_the_list_order(session, backend):
    if backend == "postgresql":
        # The test tables hold a handful of rows (and other tests leave statistics of their own): ask whether the
        # index *can* serve the order and the key, as query_plan does by forbidding the sequential scan.
        session.execute(text("SET LOCAL enable_sort = off"))
        session.execute(text("SET LOCAL enable_bitmapscan = off"))
    for plan in search_plans(session):
        lines = plan.splitlines()
        if backend == "sqlite":
            # the outer loop: the postings of one gram from the key on, in order, each record fetched by its id;
            # no sort (a longer fragment's choice of bigram sorts a few counts in its own subquery)
            assert lines[0].startswith("SEARCH name_grams USING PRIMARY KEY (kind=? AND gram=? AND "), plan
            assert "sort_key" in lines[0] and "INTEGER PRIMARY KEY (rowid=?)" in plan, plan
            assert "TEMP B-TREE" not in lines[-1] and ("TEMP B-TREE" not in plan or "SCALAR SUBQUERY" in plan), plan
        else:
            main = next(i for i, line in enumerate(lines) if line.startswith("  ->  "))  # after any InitPlan
            query = "\n".join(lines[main:])
            assert "using pk_name_grams" in query and "Sort" not in query, plan
            assert "(gram = " in query and "sort_key" in query.split("Index Cond:")[1].splitlines()[0], plan
    session.rollback()
