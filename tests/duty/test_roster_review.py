"""Review of duty rosters (issue 11 step 3): the rules a unit and the county office rely on that
tests/duty/test_rosters.py does not pin down. Every test runs on SpatiaLite and on PostGIS."""

from __future__ import annotations

import itertools
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from api.db import db
from models import locks
from models.roles import Role
from tests import factories as f
from tests.factories import API, assert_problem

PERIODS, ROSTERS = f"{API}/duty/periods", f"{API}/duty/rosters"
NAMES = itertools.count(1)
START = datetime.fromisoformat("2027-02-05T08:30:00+08:00")
ANY = {"If-Match": "*"}


def at(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat()


def period(world, *, days: int = 3, **extra) -> dict:
    body = {"name": f"2027年春节复核{next(NAMES)}", "starts_at": at(0), "ends_at": at(24 * days),
            "deadline": "2027-01-29T17:30:00+08:00", "township_ids": [world["tA"], world["tB"]],
            "department_ids": []} | extra  # fmt: skip
    return f.ok(world.admin.post(PERIODS, json=body), 201)


def shift(start: float, end: float, leader: dict | None, *officers: dict) -> dict:
    return {"starts_at": at(start), "ends_at": at(end), "leader": leader, "officers": list(officers),
            "phone": "0731-55550001"}  # fmt: skip


def days_of(world, n: int = 3) -> list[dict]:
    leader = {"user_id": world["u_leader_a"], "phone": "13900139000"}
    return [shift(24 * d, 24 * (d + 1), leader, {"officer_id": world["oA1" if d % 2 == 0 else "oA2"]})
            for d in range(n)]  # fmt: skip


def submitted_roster(world, p: dict | None = None) -> tuple[dict, str]:
    p = p or period(world)
    leader = world.as_("leader_a")
    roster = f.ok(leader.post(ROSTERS, json={"period_id": p["id"], "township_id": world["tA"],
                                             "shifts": days_of(world)}), 201)  # fmt: skip
    url = f"{ROSTERS}/{roster['id']}"
    f.ok(leader.post(f"{url}/submit", headers=ANY))
    return roster, url


# ---- bugs ------------------------------------------------------------------------------------------------------------


def test_a_submitted_roster_cannot_be_emptied_into_a_submitted_revision_without_shifts(world):
    """Submitting a roster without shifts is refused (roster-empty); a change after submission is submitted at once,
    so a change to no shifts must be refused as well, not stored as a submitted revision with nothing in it."""
    _, url = submitted_roster(world)
    leader = world.as_("leader_a")
    answer = leader.patch(url, json={"shifts": []}, headers=ANY)
    assert_problem(answer, 422, "roster-empty")
    kept = f.ok(leader.get(url))
    assert (kept["revision"], kept["shift_count"]) == (1, 3)
    assert [r["number"] for r in f.ok(leader.get(f"{url}/revisions"))["items"]] == [1]


def _roster_events(world, roster_id: int) -> list[tuple[str, int]]:
    events = f.ok(world.admin.get(f"{API}/audit-events?entity_type=duty_rosters&entity_id={roster_id}"))["items"]
    return [(e["action"], e["actor_user_id"]) for e in reversed(events)]


def test_a_decision_on_a_roster_is_one_audit_event(world):
    """Approving (or returning) a roster is one write, audited once as `decide`: not a `decide` followed by an
    `update` of `updated_at` alone (the revision's query autoflushes the roster half-changed)."""
    roster, url = submitted_roster(world)
    f.ok(world.admin.post(f"{url}/return", json={"reason": "缺值宿安排"}, headers=ANY))
    assert _roster_events(world, roster["id"]) == [
        ("create", world["u_leader_a"]), ("submit", world["u_leader_a"]), ("decide", world["u_admin"])]  # fmt: skip


def test_submitting_a_returned_roster_again_is_audited_as_a_submission_not_a_decision(world):
    """The audit trail names the action: a unit submitting its returned roster again (or changing an approved one)
    is a `submit` by that unit, not a `decide` (clearing decided_at must not name the action)."""
    roster, url = submitted_roster(world)
    f.ok(world.admin.post(f"{url}/return", json={"reason": "缺值宿安排"}, headers=ANY))
    f.ok(world.as_("leader_a").post(f"{url}/submit", headers=ANY))
    f.ok(world.admin.post(f"{url}/approve", headers=ANY))
    f.ok(world.as_("leader_a").patch(url, json={"notes": "值宿人员在镇政府值班室"}, headers=ANY))
    by_leader = [action for action, user in _roster_events(world, roster["id"]) if user == world["u_leader_a"]]
    # the returned roster submitted again, and the approved one changed: each audited as "decide" by the leader now
    assert by_leader == ["create", "submit", "submit", "submit"]


def test_cancelling_a_period_waits_for_a_roster_write_in_flight(app, world, backend):
    """PostgreSQL: a roster write checks that the period is not cancelled under the period's advisory lock; the
    cancellation must take that lock too, or a roster change checked against a live period commits after the
    period was cancelled ("nothing changes once the period is cancelled")."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises every write (BEGIN IMMEDIATE)")
    p = period(world)
    key = locks.duty_period(p["id"]).advisory_id
    done = threading.Event()
    answers: list = []

    def cancel() -> None:
        answers.append(f.same_caller(world.admin).post(f"{PERIODS}/{p['id']}/cancel", json={"reason": "取消"},
                                                       headers=ANY))  # fmt: skip
        done.set()

    with db.engine(app).connect() as holder:  # a roster write in flight: it holds the period's lock
        holder.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
        thread = threading.Thread(target=cancel)
        thread.start()
        waited = not done.wait(1.5)
        holder.rollback()
    thread.join(timeout=30)
    assert answers and answers[0].status_code == 200
    assert waited, "the cancellation did not wait for the roster write holding the period's lock"


def test_a_period_is_not_shortened_beneath_the_shifts_of_its_rosters(world):
    """Shifts lie inside their period: a period change that leaves a roster's shifts outside it is refused (or
    else the roster's next revision is submitted with shifts outside the period, never checked again)."""
    p = period(world)
    _, url = submitted_roster(world, p)
    changed = world.admin.patch(f"{PERIODS}/{p['id']}", json={"ends_at": at(48)}, headers=ANY)
    assert changed.status_code in (409, 422), changed.get_data(as_text=True)
    ends = datetime.fromisoformat(f.ok(world.admin.get(f"{PERIODS}/{p['id']}"))["ends_at"])
    assert all(datetime.fromisoformat(s["ends_at"]) <= ends for s in f.ok(world.admin.get(url))["shifts"])


def test_a_unit_with_a_roster_is_not_dropped_from_its_period(world):
    """A roster is a unit's for a period that names it (unit-not-in-period): dropping the unit from the period
    while its roster exists would leave a roster the period does not ask for, still changed and resubmitted."""
    p = period(world)
    submitted_roster(world, p)
    changed = world.admin.patch(f"{PERIODS}/{p['id']}", json={"township_ids": [world["tB"]]}, headers=ANY)
    assert changed.status_code in (409, 422), changed.get_data(as_text=True)
    assert world["tA"] in f.ok(world.admin.get(f"{PERIODS}/{p['id']}"))["township_ids"]


# ---- behaviour worth keeping (passes today) --------------------------------------------------------------------------


def test_out_of_scope_rosters_answer_exactly_like_missing_ones_on_every_route(app, world):
    """Another township's roster, reading or writing, is the same 404 as a roster that does not exist (the detail
    differs only by the id), before If-Match is looked at; a department's staff reach no township's roster."""
    roster, url = submitted_roster(world)
    dept = f.ok(world.admin.post(f"{API}/departments", json={"code": "YJJ", "name": "应急管理局"}), 201)["id"]
    f.add_user(app, Role.DEPARTMENT_STAFF, username="wang-yjj", department_id=dept)
    staff = f.bearer(app, f.token_for(app, "wang-yjj")["access_token"])
    routes = [
        ("get", "", None, {}),
        ("get", "/revisions", None, {}),
        ("patch", "", {"notes": "x"}, {"If-Match": '"999"'}),
        ("post", "/submit", None, {"If-Match": '"999"'}),
    ]
    for who in (world.as_("leader_b"), world.as_("officer_b"), world.as_("viewer_b"), staff):
        for method, tail, body, headers in routes:
            if method != "get" and who is not world.as_("leader_b") and who is not staff:
                continue  # (readers are refused writes by role: 403 whatever the roster)
            kwargs = {"headers": headers} | ({"json": body} if body is not None else {})
            theirs = assert_problem(getattr(who, method)(f"{url}{tail}", **kwargs), 404, "not-found")
            missing = assert_problem(getattr(who, method)(f"{ROSTERS}/{f.MISSING}{tail}", **kwargs), 404,
                                     "not-found")  # fmt: skip
            assert theirs["detail"].replace(str(roster["id"]), "ID") == missing["detail"].replace(str(f.MISSING), "ID")
            assert theirs["title"] == missing["title"]
    assert f.ok(world.as_("leader_a").get(url))["version"] == 2  # nothing changed it


def test_an_officer_deactivated_after_being_rostered_stays_on_the_roster_but_is_not_rostered_again(world):
    """The roster keeps what was written (and submitting it again is not refused), but a new list of shifts that
    still names the deactivated officer is refused (person-inactive); the revisions keep the phone as submitted."""
    p = period(world)
    leader = world.as_("leader_a")
    roster = f.ok(leader.post(ROSTERS, json={"period_id": p["id"], "township_id": world["tA"],
                                             "shifts": days_of(world)}), 201)  # fmt: skip
    url = f"{ROSTERS}/{roster['id']}"
    f.ok(leader.post(f"{url}/submit", headers=ANY))
    f.ok(world.admin.post(f"{API}/officers/{world['oA2']}/deactivate", json={"reason": "调离"}, headers=ANY))
    kept = f.ok(leader.get(url))
    assert kept["shifts"][1]["officers"][0]["officer_id"] == world["oA2"]
    assert_problem(leader.patch(url, json={"shifts": days_of(world)}, headers=ANY), 422, "person-inactive")
    replaced = days_of(world)
    replaced[1]["officers"] = [{"officer_id": world["oA1"]}]
    revised = f.ok(leader.patch(url, json={"shifts": replaced}, headers=ANY))
    assert (revised["revision"], revised["shifts"][1]["officers"][0]["officer_id"]) == (2, world["oA1"])
    history = f.ok(leader.get(f"{url}/revisions"))["items"]
    assert history[1]["shifts"][1]["officers"][0] == {"officer_id": world["oA2"], "user_id": None, "name": "李强",
                                                       "phone": "13800138002"}  # fmt: skip


def test_an_account_linked_to_an_officer_is_rostered_as_that_officer(world):
    """Naming officer oA1's account (user_id) puts officer oA1 on the shift: the answer names the officer, with
    the officer's mobile, and naming both on a shift is a repetition."""
    p = period(world)
    leader = world.as_("leader_a")
    body = {"period_id": p["id"], "township_id": world["tA"],
            "shifts": [shift(0, 24, {"user_id": world["u_leader_a"]}, {"user_id": world["u_officer_a"]})]}  # fmt: skip
    roster = f.ok(leader.post(ROSTERS, json=body), 201)
    assert roster["shifts"][0]["officers"] == [
        {"officer_id": world["oA1"], "user_id": None, "name": "张伟", "phone": "13800138001"}]  # fmt: skip
    assert roster["shifts"][0]["leader"]["phone"] is None  # an account without an officer has no phone of its own
    # tB's officer's account is not tA's
    body["shifts"] = [shift(0, 24, None, {"user_id": world["u_officer_b"]})]
    assert_problem(leader.patch(f"{ROSTERS}/{roster['id']}", json={"shifts": body["shifts"]}, headers=ANY), 422,
                   "person-not-in-unit")  # fmt: skip


def test_a_grid_officer_reads_the_rosters_of_their_cells_townships_and_loses_them_with_their_cells(world):
    roster, url = submitted_roster(world)
    officer = world.as_("officer_a")
    assert f.ok(officer.get(url))["id"] == roster["id"]
    assert [r["id"] for r in f.ok(officer.get(ROSTERS))["items"]] == [roster["id"]]
    assert [r["number"] for r in f.ok(officer.get(f"{url}/revisions"))["items"]] == [1]
    assert_problem(officer.post(f"{url}/submit", headers=ANY), 403, "forbidden")
    assert_problem(officer.patch(url, json={"notes": "x"}, headers=ANY), 403, "forbidden")
    # their cell taken away: no cell in tA, no roster of tA
    f.ok(world.admin.post(f"{API}/grid-assignments/{world['aA1']}/end", json={"reason": "调整"}, headers=ANY))
    assert_problem(officer.get(url), 404, "not-found")
    assert f.ok(officer.get(ROSTERS))["items"] == []
