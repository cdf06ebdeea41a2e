"""The monthly report's figures: equal to a recount of the stored hazards for random periods, and adding up from cells
to villages to townships to the county. Every test runs on SpatiaLite and on PostGIS (see conftest.py)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from api.db import db
from models.hazards.model import Hazard, HazardDepartment
from models.roles import SYSTEM, Role
from tests import factories as f
from tests.factories import API, assert_problem
from tests.hazards.helpers import hazard_in, ok_step, report

ZONE = ZoneInfo("Asia/Shanghai")
FIGURES = ("found", "closed", "open", "overdue", "closed_on_time")
SPOTS = [(500, 500), (1500, 500), (2500, 500), (500, 1500), (4500, 500), (5500, 500), (4500, 1500), (9000, 9000)]


def build_ledger(app, world, rng: random.Random) -> None:
    """Hazards in every state at spots in every kind of place (cells, a village outside its cells, nowhere), found
    over 2026, then their times spread over the year in the database (as if lived then)."""
    admin, other = world.admin, f.login_as(app, Role.COUNTY_ADMIN, username="admin-2")
    f.department(admin, sectors=("crowded_place", "gas"))
    f.department(admin, code="XFJ", name="县消防救援大队", sectors=("crowded_place",))
    for _ in range(40):
        x, y = rng.choice(SPOTS)
        status = rng.choice(["reported", "rectifying", "pending_acceptance", "closed", "closed", "voided"])
        severity = rng.choice(["general", "general", "major"])
        found = datetime(2026, 1, 1, tzinfo=ZONE) + timedelta(minutes=rng.randrange(0, 330 * 24 * 60))
        lon, lat = f.at(x, y)
        sector = rng.choice(["crowded_place", "gas"])
        hazard = hazard_in(admin, other, status, severity=severity, found_at=found.isoformat(),
                           position={"lon": lon, "lat": lat}, sector=sector)  # fmt: skip
        if status == "reported" and severity == "general" and rng.random() < 0.3:
            ok_step(admin, hazard, "rectify_on_the_spot")
    with db.new_session(app) as session:
        session.info["actor"] = SYSTEM
        for hazard in session.scalars(select(Hazard)):
            lived = hazard.found_at + timedelta(days=rng.randrange(0, 60))
            hazard.deadline = (hazard.found_at + timedelta(days=rng.randrange(0, 40))).astimezone(ZONE).date()
            if hazard.closed_at is not None:
                hazard.closed_at = lived
                hazard.closed_on_time = lived.astimezone(ZONE).date() <= hazard.deadline
        session.commit()


def recount(app, start: datetime, end: datetime, key: str) -> dict:
    """The figures per group, from the stored rows, one by one."""
    end_day = end.astimezone(ZONE).date()
    counts: dict = defaultdict(lambda: {p: dict.fromkeys(FIGURES, 0) for p in ("general", "major", "all")})
    with db.new_session(app) as session:
        departments = defaultdict(list)
        for hazard_id, department_id in session.execute(select(HazardDepartment.hazard_id,
                                                               HazardDepartment.department_id)):  # fmt: skip
            departments[hazard_id].append(department_id)
        for h in session.scalars(select(Hazard)):
            if h.status == "voided" or not start <= h.found_at < end:
                continue
            closed = h.closed_at is not None and h.closed_at < end
            figures = {
                "found": 1,
                "closed": int(closed),
                "open": int(not closed),
                "overdue": int(not closed and h.deadline is not None and h.deadline < end_day),
                "closed_on_time": int(closed and bool(h.closed_on_time)),
            }
            groups = {
                "township": [(h.township_id,)],
                "village": [(h.village_id, h.township_id)],
                "cell": [(h.cell_id, h.village_id, h.township_id)],
                "sector": [(h.sector,)],
                "department": [(d,) for d in departments[h.id]],
                "total": [()],
            }[key]
            for group in groups:
                for part in (h.severity, "all"):
                    for figure, value in figures.items():
                        counts[group][part][figure] += value
    return counts


KEYS = {
    "township": ("township_id",),
    "village": ("village_id", "township_id"),
    "cell": ("cell_id", "village_id", "township_id"),
    "sector": ("sector",),
    "department": ("department_id",),
}


def figures_of(row: dict) -> dict:
    return {p: {k: row[p][k] for k in FIGURES} for p in ("general", "major", "all")}


def test_the_counts_equal_a_recount_of_the_stored_hazards_and_add_up_from_cells_to_the_county(app, world):
    rng = random.Random(9)
    build_ledger(app, world, rng)
    admin = world.admin
    for _ in range(6):
        first = date(2026, 1, 1) + timedelta(days=rng.randrange(0, 300))
        last = first + timedelta(days=rng.randrange(0, 120))
        start, end = datetime.combine(first, time(0), ZONE), datetime.combine(last + timedelta(days=1), time(0), ZONE)
        answers = {}
        for group_by, key in KEYS.items():
            answer = f.ok(admin.get(f"{API}/hazards/counts?group_by={group_by}&from={first}&to={last}"))
            answers[group_by] = answer
            expected = recount(app, start.astimezone(UTC), end.astimezone(UTC), group_by)
            got = {tuple(row[k] for k in key): figures_of(row) for row in answer["items"]}
            assert got == {k: v for k, v in expected.items()}, (group_by, first, last)
            total = recount(app, start.astimezone(UTC), end.astimezone(UTC), "total")[()]
            assert figures_of(answer["total"]) == total
            for row in answer["items"] + [answer["total"]]:
                for part in ("general", "major", "all"):
                    figures = row[part]
                    assert figures["found"] == figures["closed"] + figures["open"]
                    if figures["found"]:
                        assert figures["rectification_rate"] == round(figures["closed"] / figures["found"], 4)
                assert all(row["all"][k] == row["general"][k] + row["major"][k] for k in FIGURES)
        # cells add up to villages, villages to townships, townships to the county
        for child, parent, parent_key in (("cell", "village", ("village_id", "township_id")),
                                          ("village", "township", ("township_id",))):  # fmt: skip
            sums: dict = defaultdict(lambda: {p: dict.fromkeys(FIGURES, 0) for p in ("general", "major", "all")})
            for row in answers[child]["items"]:
                for part in ("general", "major", "all"):
                    for k in FIGURES:
                        sums[tuple(row[c] for c in parent_key)][part][k] += row[part][k]
            assert {tuple(r[c] for c in parent_key): figures_of(r) for r in answers[parent]["items"]} == dict(sums)
        county = {k: sum(r["all"][k] for r in answers["township"]["items"]) for k in FIGURES}
        assert county == {k: answers["township"]["total"]["all"][k] for k in FIGURES}


def test_a_leader_counts_their_township_only_and_a_period_runs_forwards(world):
    report(world.admin, 500, 500)
    report(world.admin, 4500, 500)
    today = datetime.now(ZONE).date()
    answer = f.ok(world.as_("leader_a").get(f"{API}/hazards/counts?from={today}&to={today}"))
    assert [row["township_id"] for row in answer["items"]] == [world["tA"]]
    assert answer["total"]["all"]["found"] == 1 and answer["total"]["all"]["rectification_rate"] == 0
    county = f.ok(world.admin.get(f"{API}/hazards/counts?from={today}&to={today}"))
    assert county["total"]["all"]["found"] == 2 and len(county["items"]) == 2
    names = {row["name"] for row in county["items"]}
    assert names == {"青山镇", "Green Hill Town"}
    refused = world.admin.get(f"{API}/hazards/counts?from={today}&to={today - timedelta(days=1)}")
    assert_problem(refused, 422, "period-inverted")


def test_the_counts_hold_the_enforcement_documents_issued_in_the_period(app, world):
    admin = world.admin
    yjj = f.department(admin, sectors=("hazardous_chemicals",))
    plant_a, plant_b = f.enterprise(admin, 1500, 500, 1), f.enterprise(admin, 4500, 500, 2)
    today = datetime.now(ZONE).date()
    for number, kind, plant, day in (("A1", "rectification_order", plant_a, today),
                                     ("A2", "suspension_order", plant_a, today),
                                     ("B1", "suspension_order", plant_b, today - timedelta(days=40))):  # fmt: skip
        body = {"kind": kind, "number": number, "issued_on": day.isoformat(), "enterprise_id": plant["id"],
                "signer": "王局长", "department_id": yjj["id"], "time_limit": today.isoformat()}  # fmt: skip
        f.ok(admin.post(f"{API}/enforcement-documents", json=body), 201)
    period = f"from={today - timedelta(days=30)}&to={today}"
    by_township = f.ok(admin.get(f"{API}/hazards/counts?{period}"))
    rows = {row["township_id"]: row["documents"] for row in by_township["items"]}
    assert rows == {world["tA"]: {"rectification_order": 1, "suspension_order": 1, "resumption_acceptance": 0,
                                  "closure": 0}}  # fmt: skip
    assert by_township["total"]["documents"]["suspension_order"] == 1
    by_department = f.ok(admin.get(f"{API}/hazards/counts?group_by=department&from=2025-01-01&to={today}"))
    assert [(r["department_id"], r["documents"]["suspension_order"]) for r in by_department["items"]] == [
        (yjj["id"], 2)
    ]
    leader_b = f.ok(world.as_("leader_b").get(f"{API}/hazards/counts?from=2025-01-01&to={today}"))
    assert leader_b["total"]["documents"] == {"rectification_order": 0, "suspension_order": 1,
                                              "resumption_acceptance": 0, "closure": 0}  # fmt: skip
