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


def test_patrols_by_village_and_an_enterprises_visits_in_scope(world):
    plant = f.enterprise(world.admin, 500, 500, 1)
    other = f.enterprise(world.admin, 4500, 500, 2)
    visit = lambda plant_id, minutes: {"enterprise_id": plant_id, "at": f.ago(minutes=minutes).isoformat(),  # noqa: E731
                                       "result": "normal"}  # fmt: skip
    upload = lambda who, body: f.ok(world.as_(who).post(f"{API}/patrols", json=body), 201)  # noqa: E731
    first = upload("officer_a", record(world, check_ins=[visit(plant["id"], 50)]))
    second = upload("officer_a", record(world, check_ins=[visit(plant["id"], 40)]))
    in_va2 = upload("admin", record(world, cells=("cA3",)))
    in_b = upload("officer_b", record(world, cells=("cB1",), check_ins=[visit(other["id"], 45)]))
    ids = lambda who, q="": [p["id"] for p in f.ok(world.as_(who).get(f"{API}/patrols{q}"))["items"]]  # noqa: E731
    assert sorted(ids("admin", f"?village_id={world['vA1']}")) == sorted([first["id"], second["id"]])
    assert ids("admin", f"?village_id={world['vA2']}") == [in_va2["id"]]
    assert ids("leader_b", f"?village_id={world['vA1']}") == []

    visits = f.ok(world.admin.get(f"{API}/patrols/check-ins?enterprise_id={plant['id']}&page_size=1"))
    assert [(v["patrol_id"], v["enterprise_id"], v["kind"]) for v in visits["items"]] == [
        (second["id"], plant["id"], "grid_patrol")
    ]
    following = f.ok(
        world.admin.get(f"{API}/patrols/check-ins?enterprise_id={plant['id']}&cursor={visits['next_cursor']}")
    )
    assert [v["patrol_id"] for v in following["items"]] == [first["id"]]
    assert visits["items"][0]["officer_ids"] == [world["oA1"]] and visits["items"][0]["person_visits"] == 1
    seen = lambda who, q="": [v["patrol_id"] for v in f.ok(world.as_(who).get(f"{API}/patrols/check-ins{q}"))["items"]]  # noqa: E731
    assert seen("admin") == [second["id"], in_b["id"], first["id"]]  # the latest first
    assert seen("leader_a") == [second["id"], first["id"]] and seen("officer_b") == [in_b["id"]]
    assert seen("leader_b", f"?enterprise_id={plant['id']}") == []
    assert seen("admin", f"?officer_id={world['oB1']}") == [in_b["id"]]
    assert seen("admin", "?result=entry_refused") == []
    assert seen("admin", f"?at_before={f.ago(minutes=42).isoformat().replace('+', '%2B')}") == [in_b["id"], first["id"]]


def test_the_fast_reading_of_fixes_reads_what_the_nested_schemas_read():
    import marshmallow as ma

    from api.patrols.schemas import Fixes, FixSchema

    times = ["2026-12-01T09:00:00+08:00", "2026-12-01T01:00:00.25Z", "2026-12-01T09:00:00.123456-03:30"]
    fixes = [{"at": t, "lon": 113 + i / 7, "lat": 28, "accuracy_m": i} for i, t in enumerate(times)]
    fixes.append({"at": "2026-12-01T09:00:01Z", "lon": -180, "lat": 90.0})
    fast, nested = Fixes(), ma.fields.List(ma.fields.Nested(FixSchema))
    assert fast._plain(fixes) == nested.deserialize(fixes) == fast.deserialize(fixes)
    assert [f["at"].utcoffset() for f in fast._plain(fixes)] == [f["at"].utcoffset() for f in nested.deserialize(fixes)]
    odd_ones = ({"lon": "113"}, {"lat": 91}, {"accuracy_m": None}, {"at": "2026-02-30T09:00:00Z"}, {"extra": 1},
                {"at": "1999-12-31T23:59:59Z"}, {"at": "2026-12-01 09:00:00+08:00"}, {"lon": float("nan")})  # fmt: skip
    for odd in odd_ones:
        sent = [*fixes[:1], fixes[1] | odd]
        assert fast._plain(sent) is None, odd  # read by the nested schemas, which answer or refuse it
        try:
            expected: object = nested.deserialize(sent)
        except ma.ValidationError as error:
            expected = error.messages
        try:
            answered: object = fast.deserialize(sent)
        except ma.ValidationError as error:
            answered = error.messages
        assert answered == expected, odd
