"""Patrol records from phones: stored once whatever the retries, a changed resend refused, a batch answered per
record, nothing half-written. Every test runs on SpatiaLite and on PostGIS (see conftest.py)."""

from __future__ import annotations

import uuid as uuids
from datetime import timedelta

from sqlalchemy import func, select

from api.db import db
from models.patrols.model import Patrol, PatrolCheckIn
from tests import factories as f
from tests.factories import API, assert_problem


def record(world, uid: str | None = None, *, cells=("cA1",), minutes: int = 30, **extra) -> dict:
    """A patrol of cell cA1 along its southern edge, a fix a minute, started an hour ago."""
    start = f.ago(hours=1)
    points = [{"at": (start + timedelta(minutes=m)).isoformat(), "lon": f.at(100 + 20 * m, 300)[0],
               "lat": f.at(100 + 20 * m, 300)[1], "accuracy_m": 5} for m in range(minutes)]  # fmt: skip
    return {"uuid": uid or str(uuids.uuid4()), "kind": "grid_patrol", "cell_ids": [world[c] for c in cells],
            "started_at": start.isoformat(), "ended_at": (start + timedelta(minutes=minutes)).isoformat(),
            "points": points} | extra  # fmt: skip


def stored(app) -> tuple[int, int]:
    with db.new_session(app) as session:
        return (session.scalar(select(func.count()).select_from(Patrol)),
                session.scalar(select(func.count()).select_from(PatrolCheckIn)))  # fmt: skip


def test_a_record_is_stored_once_and_a_changed_resend_is_refused(app, world):
    officer = world.as_("officer_a")
    plant = f.enterprise(world.admin, 500, 500, 1)
    body = record(world, check_ins=[{"enterprise_id": plant["id"], "at": f.ago(minutes=40).isoformat(),
                                     "result": "normal"}])  # fmt: skip
    first = officer.post(f"{API}/patrols", json=body)
    created = f.ok(first, 201)
    assert first.headers["Location"].endswith(f"/patrols/{created['id']}")
    assert (created["officer_ids"], created["person_visits"], created["township_id"]) == (
        [world["oA1"]], 1, world["tA"]
    )  # fmt: skip
    assert 500 < created["distance_m"] < 620  # 29 steps of ~20 m
    assert [c["enterprise_id"] for c in created["check_ins"]] == [plant["id"]]
    again = f.ok(officer.post(f"{API}/patrols", json=body), 200)
    assert again == created
    changed = officer.post(f"{API}/patrols", json=body | {"notes": "改过"})
    assert assert_problem(changed, 409, "patrol-uuid-reused")["existing_id"] == created["id"]
    assert stored(app) == (1, 1)
    track = officer.get(f"{API}/patrols/{created['id']}/track")
    assert track.mimetype == "application/geo+json"
    assert len(track.get_json()["geometry"]["coordinates"]) == 30


def test_a_storm_of_the_same_record_from_several_clients_stores_it_once(app, world):
    body = record(world)
    clients = [f.same_caller(world.as_("officer_a")) for _ in range(6)]
    answers = f.run_together(*[lambda c=c: c.post(f"{API}/patrols", json=body) for c in clients])
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201]
    assert len({a.get_json()["id"] for a in answers}) == 1
    batches = f.run_together(*[lambda c=c: c.post(f"{API}/patrols/batch", json={"patrols": [body]})
                               for c in clients[:3]])  # fmt: skip
    assert {b.get_json()["items"][0]["outcome"] for b in batches} == {"stored"}
    assert stored(app)[0] == 1


def test_a_batch_lands_the_good_records_and_reports_the_bad_ones(app, world):
    officer = world.as_("officer_a")
    good, other = record(world), record(world, minutes=5)
    bad = record(world) | {"kind": "picnic"}
    elsewhere = record(world, cells=("cB1",))  # not officer_a's cell
    reused = good | {"notes": "another content, same UUID"}
    answer = f.ok(officer.post(f"{API}/patrols/batch", json={"patrols": [good, bad, elsewhere, other, reused]}))
    outcomes = [(i["outcome"], i["status"], i["code"]) for i in answer["items"]]
    assert outcomes == [("created", 201, None), ("refused", 422, "invalid-input"), ("refused", 422, "cell-not-found"),
                        ("created", 201, None), ("refused", 409, "patrol-uuid-reused")]  # fmt: skip
    assert answer["items"][1]["errors"][0]["field"] == "kind"
    assert stored(app)[0] == 2
    again = f.ok(officer.post(f"{API}/patrols/batch", json={"patrols": [good, other]}))
    assert [i["outcome"] for i in again["items"]] == ["stored", "stored"]
    assert stored(app)[0] == 2


def test_a_record_with_a_bad_check_in_leaves_nothing_behind(app, world):
    gas_b = f.enterprise(world.admin, 4500, 500, 2)  # in township tB: not officer_a's
    body = record(world, check_ins=[{"enterprise_id": gas_b["id"], "at": f.ago(minutes=30).isoformat(),
                                     "result": "normal"}])  # fmt: skip
    assert_problem(world.as_("officer_a").post(f"{API}/patrols", json=body), 422, "enterprise-not-found")
    assert stored(app) == (0, 0)
    assert_problem(world.as_("viewer_a").post(f"{API}/patrols", json=record(world)), 403, "forbidden")


def test_patrols_are_read_in_scope(world):
    mine = f.ok(world.as_("officer_a").post(f"{API}/patrols", json=record(world)), 201)
    theirs = f.ok(world.as_("officer_b").post(f"{API}/patrols", json=record(world, cells=("cB1",))), 201)
    ids = lambda who, q="": {p["id"] for p in f.ok(world.as_(who).get(f"{API}/patrols{q}"))["items"]}  # noqa: E731
    assert ids("admin") == {mine["id"], theirs["id"]}
    assert ids("leader_a") == {mine["id"]} and ids("officer_b") == {theirs["id"]}
    assert ids("admin", f"?cell_id={world['cB1']}") == {theirs["id"]}
    assert ids("admin", f"?officer_id={world['oA1']}") == {mine["id"]}
    assert_problem(world.as_("leader_b").get(f"{API}/patrols/{mine['id']}"), 404, "not-found")
    assert_problem(world.as_("leader_b").get(f"{API}/patrols/{mine['id']}/track"), 404, "not-found")
