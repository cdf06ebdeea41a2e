"""Territorial responsibility (属地管理): who owned grid cell X at instant T, always right, never lost.

Officers, grid assignments and cell teams through the HTTP API, as a township leader uses them, plus the database's
own guarantees (partial unique indexes) and two leaders writing at the same moment. Every test runs on SpatiaLite
and on PostGIS (see conftest.py).

Times are whole seconds in the past (assignments are never in the future), given alternately with +08:00 and Z;
every answer is compared as an aware datetime, whatever offset the API writes it with.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.people import GridAssignment
from models.roles import SYSTEM, Role
from tests import factories as f
from tests.factories import assert_problem, race

API = "/api/v1"
PROBLEM_JSON = "application/problem+json"
CST = timezone(timedelta(hours=8))  # China Standard Time, the offset leaders write
SECOND = timedelta(seconds=1)
MICROSECOND = timedelta(microseconds=1)
FRESH = object()  # "read the team's ETag just before the write"

T1_CODE, T2_CODE = "430199101", "430199102"
C1_CODE, C2_CODE, C3_CODE = "430199101201001", "430199101201002", "430199102201001"


# ---- helpers --------------------------------------------------------------------------------------------------------


def ok(response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def moment(value: str | None) -> datetime | None:
    """An ISO 8601 time from an answer, as an aware datetime (None stays None)."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() is not None, f"{value} has no offset"
    return parsed


def cst(t: datetime) -> str:
    return t.astimezone(CST).isoformat()


def zulu(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def now() -> datetime:
    return datetime.now(UTC)


def ago(**delta: float) -> datetime:
    """A whole-second instant this long ago."""
    return (now() - timedelta(**delta)).replace(microsecond=0)


def new_officer(who: FlaskClient, n: int, township_id: int | None = None, **extra: Any) -> dict[str, Any]:
    body = {"name": f"网格员{n}", "mobile": f"139{n:08d}"} | extra
    if township_id is not None:
        body["township_id"] = township_id
    return ok(who.post(f"{API}/officers", json=body), 201)


def team(who: FlaskClient, cell_id: int, at: str | None = None) -> dict[str, Any]:
    query = {"at": at} if at is not None else {}
    return ok(who.get(f"{API}/grid-cells/{cell_id}/team", query_string=query))


def team_etag(who: FlaskClient, cell_id: int) -> str:
    response = who.get(f"{API}/grid-cells/{cell_id}/team")
    body = ok(response)
    assert response.headers["ETag"] == f'"{body["etag"]}"'
    return response.headers["ETag"]


def owner_at(who: FlaskClient, cell_id: int, at: str | None = None) -> int | None:
    """The officer id of the cell's owner at `at` (now when None), or None."""
    owner = team(who, cell_id, at)["owner"]
    return None if owner is None else owner["officer"]["id"]


def member_ids_at(who: FlaskClient, cell_id: int, at: str | None = None) -> list[int]:
    return [m["officer"]["id"] for m in team(who, cell_id, at)["members"]]


def assign(
    who: FlaskClient,
    cell_id: int,
    officer_id: int,
    role: str = "owner",
    *,
    valid_from: str | None = None,
    if_match: Any = FRESH,
    reason: str = "村两委会议决定",
):
    if if_match is FRESH:
        if_match = team_etag(who, cell_id)
    body: dict[str, Any] = {"officer_id": officer_id, "role": role, "reason": reason}
    if valid_from is not None:
        body["valid_from"] = valid_from
    headers = {"If-Match": if_match} if if_match is not None else {}
    return who.post(f"{API}/grid-cells/{cell_id}/assignments", json=body, headers=headers)


def assigned(who: FlaskClient, cell_id: int, officer_id: int, role: str = "owner", **kwargs: Any) -> dict[str, Any]:
    return ok(assign(who, cell_id, officer_id, role, **kwargs), 201)


def assignment(who: FlaskClient, assignment_id: int) -> dict[str, Any]:
    response = who.get(f"{API}/grid-assignments/{assignment_id}")
    body = ok(response)
    assert response.headers["ETag"] == f'"{body["version"]}"'
    return body


def version_tag(who: FlaskClient, assignment_id: int) -> str:
    return f'"{assignment(who, assignment_id)["version"]}"'


def end(who: FlaskClient, assignment_id: int, *, valid_to: str | None = None, if_match: Any = FRESH, reason="调岗"):
    if if_match is FRESH:
        if_match = version_tag(who, assignment_id)
    body: dict[str, Any] = {"reason": reason}
    if valid_to is not None:
        body["valid_to"] = valid_to
    headers = {"If-Match": if_match} if if_match is not None else {}
    return who.post(f"{API}/grid-assignments/{assignment_id}/end", json=body, headers=headers)


def correct(who: FlaskClient, assignment_id: int, *, if_match: Any = FRESH, reason="录入错误", **changes: Any):
    if if_match is FRESH:
        if_match = version_tag(who, assignment_id)
    headers = {"If-Match": if_match} if if_match is not None else {}
    return who.post(
        f"{API}/grid-assignments/{assignment_id}/correct", json={"reason": reason, **changes}, headers=headers
    )


def history(who: FlaskClient, **filters: Any) -> dict[str, Any]:
    """GET /grid-assignments with these filters (booleans as true/false), one big page."""
    query = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in filters.items()}
    return ok(who.get(f"{API}/grid-assignments", query_string={"page_size": 500, "count": "true", **query}))


def all_rows_total(who: FlaskClient) -> int:
    return history(who, include_superseded=True)["total"]


def audit_total(admin: FlaskClient) -> int:
    return ok(admin.get(f"{API}/audit-events", query_string={"entity_type": "grid_assignments", "count": "true"}))[
        "total"
    ]


def cell_ids_of(who: FlaskClient, officer_id: int, at: str | None = None) -> list[int]:
    query = {"at": at} if at is not None else {}
    body = ok(who.get(f"{API}/officers/{officer_id}/cells", query_string=query))
    assert body["officer_id"] == officer_id
    return [item["cell_id"] for item in body["items"]]


def cell_codes(who: FlaskClient, **query: Any) -> list[str]:
    body = ok(who.get(f"{API}/grid-cells", query_string=query))
    return [item["code"] for item in body["items"]]


def me(who: FlaskClient) -> dict[str, Any]:
    return ok(who.get(f"{API}/auth/me"))


def assert_one_owner_and_no_overlap(who: FlaskClient, cell_id: int) -> list[dict[str, Any]]:
    """The cell has exactly one current owner, its owner intervals follow each other without overlapping, and
    the team at each interval's start names that interval's officer. Answers the owner intervals by start."""
    current = history(who, cell_id=cell_id, role="owner", current=True)
    assert current["total"] == 1, current["items"]
    owners = sorted(history(who, cell_id=cell_id, role="owner")["items"], key=lambda a: moment(a["valid_from"]))
    assert owners[-1]["valid_to"] is None and owners[-1]["id"] == current["items"][0]["id"]
    for earlier, later in pairwise(owners):
        assert earlier["valid_to"] is not None, (earlier, later)
        assert moment(earlier["valid_to"]) <= moment(later["valid_from"]), (earlier, later)
    for interval in owners:
        assert owner_at(who, cell_id, interval["valid_from"]) == interval["officer"]["id"]
    assert owner_at(who, cell_id) == owners[-1]["officer"]["id"]
    return owners


@pytest.fixture
def town(app: Flask, client: FlaskClient) -> SimpleNamespace:
    """Two townships; the first has two cells (c1, c2) and a leader, the second one cell (c3).

    t1 (0..4000 m): v1 (0..2000) with c1 (0..1000) and c2 (1000..2000); t2 (4000..8000): v2 with c3 (4000..5000).
    """
    t1 = f.township(client, T1_CODE, box=(0, 0, 4000, 4000), name="青山镇")
    t2 = f.township(client, T2_CODE, box=(4000, 0, 8000, 4000), name="Green Hill Town")
    v1 = f.village(client, t1["id"], T1_CODE + "201", box=(0, 0, 2000, 2000), name="张家村")
    v2 = f.village(client, t2["id"], T2_CODE + "201", box=(4000, 0, 6000, 2000), name="王家村")
    c1 = f.cell(client, v1["id"], C1_CODE, box=(0, 0, 1000, 1000), name="第1网格")
    c2 = f.cell(client, v1["id"], C2_CODE, box=(1000, 0, 2000, 1000), name="第2网格")
    c3 = f.cell(client, v2["id"], C3_CODE, box=(4000, 0, 5000, 1000), name="第1网格")
    leader = f.login_as(app, Role.TOWNSHIP_LEADER, username="leader-qs", township_id=t1["id"])
    town = SimpleNamespace(
        t1=t1, t2=t2, v1=v1, v2=v2, c1=c1, c2=c2, c3=c3, leader=leader, leader_id=me(leader)["id"], admin=client
    )
    town.officer = lambda n, **extra: new_officer(leader, n, t1["id"], **extra)  # registered by the leader
    return town


# ---- officers -------------------------------------------------------------------------------------------------------


def test_registering_an_officer_stores_the_mobile_number_normalised(town):
    body = {"name": "张伟", "mobile": "+86 138-0013-8000", "title": "网格员", "township_id": town.t1["id"]}
    response = town.leader.post(f"{API}/officers", json=body)

    officer = ok(response, 201)
    assert officer["mobile"] == "13800138000"
    assert officer["name"] == "张伟" and officer["title"] == "网格员"
    assert officer["township_id"] == town.t1["id"]
    assert officer["active"] is True and officer["deactivated_at"] is None
    assert officer["version"] == 1 and response.headers["ETag"] == '"1"'
    assert response.headers["Location"].endswith(f"{API}/officers/{officer['id']}")
    assert ok(town.leader.get(f"{API}/officers/{officer['id']}"))["mobile"] == "13800138000"

    other = new_officer(town.leader, 0, town.t1["id"], mobile="0086 139 0013 9000")
    assert other["mobile"] == "13900139000"
    found = ok(town.leader.get(f"{API}/officers", query_string={"mobile": "1380013"}))
    assert [o["id"] for o in found["items"]] == [officer["id"]]


def test_an_officer_registered_by_a_township_leader_belongs_to_their_township_by_default(town):
    response = town.leader.post(f"{API}/officers", json={"name": "张伟", "mobile": "13800138000"})

    officer = ok(response, 201)
    assert officer["township_id"] == town.t1["id"]
    assert ok(town.leader.get(f"{API}/officers/{officer['id']}"))["township_id"] == town.t1["id"]
    # a county administrator has no township of their own: they must name one
    refused = town.admin.post(f"{API}/officers", json={"name": "李强", "mobile": "13900139000"})
    assert_problem(refused, 422, "township-required")


def test_a_malformed_mobile_number_is_refused_and_nothing_is_registered(town):
    bad = [
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "１３８００１３８０００",  # full-width digits
        "1380013800０",  # one full-width digit
        "12800138000",  # no mobile prefix starts 12
        "1380013800a",
        "+1 138-0013-8000",
    ]
    for mobile in bad:
        response = town.leader.post(f"{API}/officers", json={"name": "张伟", "mobile": mobile})
        body = assert_problem(response, 422, "mobile-format")
        assert [(e["field"], e["pointer"], e["code"]) for e in body["errors"]] == [
            ("mobile", "/mobile", "mobile-format")
        ], mobile

    assert (
        ok(town.leader.get(f"{API}/officers", query_string={"include_inactive": "true", "count": "true"}))["total"] == 0
    )
    officer = town.officer(1)
    response = town.leader.patch(
        f"{API}/officers/{officer['id']}", json={"mobile": "１３８００１３８０００"}, headers={"If-Match": '"1"'}
    )
    assert_problem(response, 422, "mobile-format")
    assert ok(town.leader.get(f"{API}/officers/{officer['id']}"))["mobile"] == officer["mobile"]


def test_a_second_active_officer_with_the_same_mobile_is_refused_naming_the_existing_one(town):
    mine = town.t1["id"]
    first = ok(
        town.leader.post(f"{API}/officers", json={"name": "张伟", "mobile": "13800138000", "township_id": mine}), 201
    )

    # the same person registered again (a retried create): nothing is made twice
    for _ in range(2):
        again = town.leader.post(f"{API}/officers", json={"name": "张伟", "mobile": "13800138000", "township_id": mine})
        assert assert_problem(again, 409, "mobile-taken")["existing_id"] == first["id"]
    written_differently = town.leader.post(
        f"{API}/officers", json={"name": "张三", "mobile": "+86 138 0013 8000", "township_id": mine}
    )
    assert assert_problem(written_differently, 409, "mobile-taken")["existing_id"] == first["id"]
    in_another_township = town.admin.post(
        f"{API}/officers", json={"name": "张伟", "mobile": "13800138000", "township_id": town.t2["id"]}
    )
    assert assert_problem(in_another_township, 409, "mobile-taken")["existing_id"] == first["id"]
    listed = ok(town.admin.get(f"{API}/officers", query_string={"include_inactive": "true"}))
    assert [o["id"] for o in listed["items"]] == [first["id"]]

    # another officer cannot take the number either
    second = town.officer(2)
    taken = town.leader.patch(
        f"{API}/officers/{second['id']}", json={"mobile": "138-0013-8000"}, headers={"If-Match": '"1"'}
    )
    assert assert_problem(taken, 409, "mobile-taken")["existing_id"] == first["id"]
    assert ok(town.leader.get(f"{API}/officers/{second['id']}"))["mobile"] == second["mobile"]

    # once the first has left, the number may belong to a new officer
    ok(town.leader.post(f"{API}/officers/{first['id']}/deactivate", json={}, headers={"If-Match": '"1"'}))
    successor = ok(
        town.leader.post(f"{API}/officers", json={"name": "王五", "mobile": "13800138000", "township_id": mine}), 201
    )
    assert successor["id"] != first["id"]
    listed = ok(town.admin.get(f"{API}/officers", query_string={"include_inactive": "true", "mobile": "13800138000"}))
    assert sorted(o["id"] for o in listed["items"]) == sorted([first["id"], successor["id"]])


def test_the_same_create_sent_twice_at_the_same_moment_registers_one_officer(town):
    for attempt in range(6):
        mobile = f"1370000000{attempt}"
        body = {"name": f"重复{attempt}", "mobile": mobile, "township_id": town.t1["id"]}
        answers = race([town.leader, town.leader], *[lambda c, b=body: c.post(f"{API}/officers", json=b)] * 2)

        assert sorted(a.status_code for a in answers) == [201, 409], [a.get_json() for a in answers]
        created = next(a for a in answers if a.status_code == 201).get_json()
        refused = assert_problem(next(a for a in answers if a.status_code == 409), 409, "mobile-taken")
        assert refused.get("existing_id") == created["id"], refused
        listed = ok(town.leader.get(f"{API}/officers", query_string={"mobile": mobile, "include_inactive": "true"}))
        assert [o["id"] for o in listed["items"]] == [created["id"]]


def test_changing_an_officer_names_the_version_it_changes(town):
    officer = town.officer(1, title="网格员")
    url = f"{API}/officers/{officer['id']}"

    assert_problem(town.leader.patch(url, json={"name": "张伟伟"}), 428, "precondition-required")
    assert_problem(
        town.leader.patch(url, json={"name": "张伟伟"}, headers={"If-Match": '"7"'}), 412, "precondition-failed"
    )
    unchanged = ok(town.leader.get(url))
    assert (unchanged["name"], unchanged["version"]) == (officer["name"], 1)

    response = town.leader.patch(
        url, json={"name": "张伟伟", "mobile": "+86 139-0000-0001", "title": None}, headers={"If-Match": '"1"'}
    )
    changed = ok(response)
    assert (changed["name"], changed["mobile"], changed["title"]) == ("张伟伟", "13900000001", None)
    assert changed["version"] == 2 and response.headers["ETag"] == '"2"'
    assert moment(changed["updated_at"]) >= moment(officer["updated_at"])

    stale = town.leader.patch(url, json={"name": "又改了"}, headers={"If-Match": '"1"'})
    assert_problem(stale, 412, "precondition-failed")
    assert ok(town.leader.get(url))["name"] == "张伟伟"


def test_deactivating_an_officer_ends_their_cells_at_that_instant_and_their_account(app, town):
    wang = town.officer(1)
    li = town.officer(2)
    c1, c2 = town.c1["id"], town.c2["id"]
    owns_c1 = assigned(town.leader, c1, wang["id"], valid_from=cst(ago(days=3)))
    owns_c2 = assigned(town.leader, c2, li["id"], valid_from=zulu(ago(days=3)))
    member_c2 = assigned(town.leader, c2, wang["id"], "member", valid_from=cst(ago(days=2)))
    f.add_user(app, Role.GRID_OFFICER, username="wang", officer_id=wang["id"])
    officer_client = f.authorise(app.test_client(), f.token_for(app.test_client(), "wang")["access_token"])
    assert sorted(me(officer_client)["scope"]["cell_ids"]) == sorted([c1, c2])
    assert cell_codes(town.leader, has_owner="false") == []

    url = f"{API}/officers/{wang['id']}/deactivate"
    assert_problem(town.leader.post(url, json={"reason": "调离本乡镇"}), 428, "precondition-required")
    stale = town.leader.post(url, json={"reason": "调离本乡镇"}, headers={"If-Match": '"9"'})
    assert_problem(stale, 412, "precondition-failed")
    assert sorted(cell_ids_of(town.leader, wang["id"])) == sorted([c1, c2])  # the refused request changed nothing

    gone = ok(town.leader.post(url, json={"reason": "调离本乡镇"}, headers={"If-Match": '"1"'}))
    assert gone["active"] is False
    left_at = moment(gone["deactivated_at"])
    assert abs(now() - left_at) < timedelta(minutes=1)

    for ended_id in (owns_c1["id"], member_c2["id"]):
        ended = assignment(town.leader, ended_id)
        assert moment(ended["valid_to"]) == left_at, ended
        assert ended["current"] is False and ended["superseded_at"] is None
        assert ended["end_reason"] and "调离本乡镇" in ended["end_reason"]
        assert ended["ended_by_id"] == town.leader_id
    kept = assignment(town.leader, owns_c2["id"])
    assert kept["current"] is True and kept["valid_to"] is None

    # their cell is on the to-do list; the other cell keeps its owner, without them as a member
    assert cell_codes(town.leader, has_owner="false") == [C1_CODE]
    assert cell_codes(town.leader, has_owner="true") == [C2_CODE]
    assert owner_at(town.leader, c1) is None
    assert owner_at(town.leader, c2) == li["id"] and member_ids_at(town.leader, c2) == []
    assert cell_ids_of(town.leader, wang["id"]) == []
    # ... and the history still answers who was responsible just before
    just_before = zulu(left_at - MICROSECOND)
    assert owner_at(town.leader, c1, just_before) == wang["id"]
    assert member_ids_at(town.leader, c2, just_before) == [wang["id"]]
    assert sorted(cell_ids_of(town.leader, wang["id"], just_before)) == sorted([c1, c2])
    assert owner_at(town.leader, c1, zulu(left_at)) is None

    # their account can no longer log in, and the token they had stops working
    login = app.test_client().post(f"{API}/auth/token", json={"username": "wang", "password": f.PASSWORD})
    assert_problem(login, 401, "login-failed")
    assert_problem(officer_client.get(f"{API}/auth/me"), 401, "invalid-token")
    assert_problem(officer_client.get(f"{API}/grid-cells/{c1}/team"), 401, "invalid-token")

    # nobody assigns a deactivated officer; deactivating twice changes nothing
    assert_problem(assign(town.leader, c1, wang["id"]), 422, "officer-inactive")
    again = ok(town.leader.post(url, json={}, headers={"If-Match": "*"}))
    assert moment(again["deactivated_at"]) == left_at and again["version"] == gone["version"]


# ---- assignments ----------------------------------------------------------------------------------------------------


def test_each_new_owner_ends_the_previous_one_at_exactly_its_start_and_every_instant_has_the_right_owner(town):
    cell = town.c1["id"]
    officers = [town.officer(n) for n in range(1, 5)]
    starts = [ago(days=10), ago(days=7, hours=5), ago(days=4, minutes=3), ago(days=1, seconds=7)]
    made: list[dict[str, Any]] = []
    for i, (officer, start) in enumerate(zip(officers, starts, strict=True)):
        given = cst(start) if i % 2 == 0 else zulu(start)
        created = assigned(town.leader, cell, officer["id"], valid_from=given, reason=f"第{i + 1}次调整")
        assert moment(created["valid_from"]) == start
        assert created["valid_to"] is None and created["current"] is True
        assert created["role"] == "owner" and created["officer"]["id"] == officer["id"]
        assert created["cell_id"] == cell and created["township_id"] == town.t1["id"]
        assert created["assigned_by_id"] == town.leader_id
        if made:
            assert created["ended_assignment_ids"] == [made[-1]["id"]]
            previous = assignment(town.leader, made[-1]["id"])
            assert moment(previous["valid_to"]) == moment(created["valid_from"]) == start
            assert previous["current"] is False
            assert previous["end_reason"] and f"第{i + 1}次调整" in previous["end_reason"]
        else:
            assert created["ended_assignment_ids"] == []
        made.append(created)

    ids = [o["id"] for o in officers]
    # before the first owner: nobody
    for fmt in (cst, zulu):
        assert owner_at(town.leader, cell, fmt(starts[0] - SECOND)) is None
    # around every start: the previous owner just before, the new owner at the instant and after
    for i, start in enumerate(starts):
        before = ids[i - 1] if i else None
        for fmt in (cst, zulu):
            assert owner_at(town.leader, cell, fmt(start - SECOND)) == before, (i, "before")
            assert owner_at(town.leader, cell, fmt(start - MICROSECOND)) == before, (i, "1 µs before")
            assert owner_at(town.leader, cell, fmt(start)) == ids[i], (i, "at")
            assert owner_at(town.leader, cell, fmt(start + SECOND)) == ids[i], (i, "after")
        # the officers' own view agrees, at the same instants
        for j, officer_id in enumerate(ids):
            assert cell_ids_of(town.leader, officer_id, cst(start)) == ([cell] if j == i else [])
            assert cell_ids_of(town.leader, officer_id, zulu(start - SECOND)) == ([cell] if j == i - 1 else [])
        in_force = history(town.leader, cell_id=cell, at=zulu(start))["items"]
        assert [a["officer"]["id"] for a in in_force] == [ids[i]]

    # now: the last owner, with the team's ETag; a past instant has none
    response = town.leader.get(f"{API}/grid-cells/{cell}/team")
    now_team = ok(response)
    assert now_team["owner"]["id"] == made[-1]["id"] and now_team["members"] == [] and now_team["at"] is None
    assert now_team["etag"].startswith("team-") and response.headers["ETag"] == f'"{now_team["etag"]}"'
    assert now_team["cell"]["id"] == cell and now_team["cell"]["code"] == C1_CODE
    past = town.leader.get(f"{API}/grid-cells/{cell}/team", query_string={"at": cst(starts[1])})
    assert ok(past)["etag"] is None and "ETag" not in past.headers
    assert moment(ok(past)["at"]) == starts[1]
    assert cell_ids_of(town.leader, ids[-1]) == [cell]
    assert all(cell_ids_of(town.leader, officer_id) == [] for officer_id in ids[:-1])

    # a fifth owner from now (no valid_from): the handover instant is exact to the microsecond
    fifth = town.officer(5)
    latest = assigned(town.leader, cell, fifth["id"])
    handover = moment(latest["valid_from"])
    assert abs(now() - handover) < timedelta(minutes=1)
    assert moment(assignment(town.leader, made[-1]["id"])["valid_to"]) == handover
    assert owner_at(town.leader, cell, latest["valid_from"]) == fifth["id"]
    assert owner_at(town.leader, cell, cst(handover)) == fifth["id"]
    assert owner_at(town.leader, cell, zulu(handover - MICROSECOND)) == ids[-1]

    owners = assert_one_owner_and_no_overlap(town.leader, cell)
    assert [a["officer"]["id"] for a in owners] == [*ids, fifth["id"]]
    listed = history(town.leader, cell_id=cell)["items"]  # oldest start first
    assert [a["id"] for a in listed] == [*(a["id"] for a in made), latest["id"]]
    for earlier, later in pairwise(owners):
        assert moment(earlier["valid_to"]) == moment(later["valid_from"])


def test_any_number_of_members_and_a_member_promoted_to_owner_leaves_the_members_at_that_instant(town):
    cell = town.c1["id"]
    boss, m1, m2, m3 = (town.officer(n) for n in range(1, 5))
    t0, t1, t2 = ago(days=5), ago(days=4), ago(days=2)
    owner = assigned(town.leader, cell, boss["id"], valid_from=cst(t0))
    members = {}
    for k, m in enumerate((m1, m2, m3)):
        members[m["id"]] = assigned(town.leader, cell, m["id"], "member", valid_from=zulu(t1 + timedelta(hours=k)))
        assert members[m["id"]]["ended_assignment_ids"] == []
        assert members[m["id"]]["role"] == "member"
    assert owner_at(town.leader, cell) == boss["id"]
    assert member_ids_at(town.leader, cell) == [m1["id"], m2["id"], m3["id"]]

    # an officer already in the team: refused, whatever the role asked for; nothing changes
    etag = team_etag(town.leader, cell)
    for officer_id, role, existing in (
        (m1["id"], "member", members[m1["id"]]["id"]),
        (boss["id"], "member", owner["id"]),
        (boss["id"], "owner", owner["id"]),
    ):
        refused = assign(town.leader, cell, officer_id, role, if_match=etag)
        assert assert_problem(refused, 409, "already-assigned")["assignment_id"] == existing
    assert team_etag(town.leader, cell) == etag
    assert history(town.leader, cell_id=cell)["total"] == 4

    before_joining = assign(town.leader, cell, m2["id"], "owner", valid_from=cst(t1 + timedelta(minutes=30)))
    assert_problem(before_joining, 422, "valid-from-too-early")  # before m2 joined as a member
    promoted = assigned(town.leader, cell, m2["id"], "owner", valid_from=cst(t2))
    assert promoted["ended_assignment_ids"] == sorted([owner["id"], members[m2["id"]]["id"]])
    as_member = assignment(town.leader, members[m2["id"]]["id"])
    assert moment(as_member["valid_to"]) == t2 and as_member["end_reason"].startswith("became the owner")
    assert moment(assignment(town.leader, owner["id"])["valid_to"]) == t2

    assert owner_at(town.leader, cell) == m2["id"]
    assert member_ids_at(town.leader, cell) == [m1["id"], m3["id"]]
    assert owner_at(town.leader, cell, zulu(t2)) == m2["id"]
    assert member_ids_at(town.leader, cell, zulu(t2)) == [m1["id"], m3["id"]]
    assert owner_at(town.leader, cell, cst(t2 - SECOND)) == boss["id"]
    assert member_ids_at(town.leader, cell, cst(t2 - SECOND)) == [m1["id"], m2["id"], m3["id"]]
    assert member_ids_at(town.leader, cell, cst(t1 + timedelta(minutes=30))) == [m1["id"]]
    roles = ok(town.leader.get(f"{API}/officers/{m2['id']}/cells", query_string={"at": zulu(t2)}))["items"]
    assert [(a["cell_id"], a["role"]) for a in roles] == [(cell, "owner")]
    roles = ok(town.leader.get(f"{API}/officers/{m2['id']}/cells", query_string={"at": zulu(t2 - SECOND)}))["items"]
    assert [(a["cell_id"], a["role"]) for a in roles] == [(cell, "member")]
    assert_one_owner_and_no_overlap(town.leader, cell)


def test_valid_from_may_lie_in_the_past_but_not_in_the_future_nor_before_what_it_ends(town):
    cell = town.c1["id"]
    first, second, member = (town.officer(n) for n in range(1, 4))
    t0 = ago(days=5)
    owner = assigned(town.leader, cell, first["id"], valid_from=cst(t0))
    assert moment(owner["valid_from"]) == t0
    etag = team_etag(town.leader, cell)

    future = now() + timedelta(hours=1)
    for officer_id, role in ((second["id"], "owner"), (member["id"], "member")):
        body = assert_problem(
            assign(town.leader, cell, officer_id, role, valid_from=cst(future), if_match=etag), 422, "time-in-future"
        )
        assert body["errors"][0]["pointer"] == "/valid_from"
    for too_early in (t0, t0 - timedelta(days=1), t0 - SECOND):
        refused = assign(town.leader, cell, second["id"], valid_from=zulu(too_early), if_match=etag)
        assert assert_problem(refused, 422, "valid-from-too-early")["errors"][0]["pointer"] == "/valid_from"
    no_offset = assign(town.leader, cell, second["id"], valid_from="2024-01-01T08:00:00", if_match=etag)
    assert_problem(no_offset, 422, "time-without-offset")
    assert team_etag(town.leader, cell) == etag
    assert history(town.leader, cell_id=cell, include_superseded=True)["total"] == 1

    # a past interval is history: a backdated owner may not overlap it, but may start where it ended
    t1 = t0 + timedelta(days=1)
    ok(end(town.leader, owner["id"], valid_to=cst(t1)))
    overlapping = assign(town.leader, cell, second["id"], valid_from=zulu(t1 - timedelta(hours=12)))
    assert assert_problem(overlapping, 409, "overlaps-history")["assignment_id"] == owner["id"]
    assert owner_at(town.leader, cell) is None
    successor = assigned(town.leader, cell, second["id"], valid_from=zulu(t1))
    assert successor["ended_assignment_ids"] == []
    assert owner_at(town.leader, cell, cst(t1 - SECOND)) == first["id"]
    assert owner_at(town.leader, cell, cst(t1)) == second["id"]
    # a member backdated into the time before the owner's start is history too
    early_member = assigned(town.leader, cell, member["id"], "member", valid_from=cst(t0 - timedelta(days=2)))
    assert member_ids_at(town.leader, cell, zulu(t0 - timedelta(days=1))) == [member["id"]]
    assert owner_at(town.leader, cell, zulu(t0 - timedelta(days=1))) is None
    assert early_member["current"] is True
    assert_one_owner_and_no_overlap(town.leader, cell)


def test_an_officer_of_another_township_cannot_be_assigned(town):
    there = new_officer(town.admin, 9, township_id=town.t2["id"])
    here = town.officer(1)

    body = assert_problem(assign(town.admin, town.c1["id"], there["id"]), 422, "officer-other-township")
    assert body["errors"][0]["pointer"] == "/officer_id"
    assert_problem(assign(town.admin, town.c3["id"], here["id"], "member"), 422, "officer-other-township")
    # to a leader, the other township's officer and cell do not exist
    assert_problem(assign(town.leader, town.c1["id"], there["id"], if_match="*"), 422, "officer-not-found")
    assert_problem(assign(town.leader, town.c3["id"], here["id"], if_match="*"), 404, "not-found")
    assert history(town.admin, include_superseded=True)["total"] == 0
    assert owner_at(town.admin, town.c1["id"]) is None and owner_at(town.admin, town.c3["id"]) is None


def test_a_retired_cell_takes_nobody_and_a_cell_with_a_team_cannot_be_retired(town):
    boss, helper, other = (town.officer(n) for n in range(1, 4))
    c1, c2 = town.c1["id"], town.c2["id"]

    ok(town.leader.post(f"{API}/grid-cells/{c2}/retire", headers={"If-Match": '"1"'}))
    assert_problem(assign(town.leader, c2, other["id"]), 409, "unit-retired")
    assert history(town.leader, cell_id=c2, include_superseded=True)["total"] == 0

    owner = assigned(town.leader, c1, boss["id"], valid_from=cst(ago(days=3)))
    member = assigned(town.leader, c1, helper["id"], "member", valid_from=cst(ago(days=2)))
    refused = town.leader.post(f"{API}/grid-cells/{c1}/retire", headers={"If-Match": '"1"'})
    assert_problem(refused, 409, "cell-has-team")
    still = ok(town.leader.get(f"{API}/grid-cells/{c1}"))
    assert still["retired_at"] is None and still["version"] == 1

    ok(end(town.leader, owner["id"], reason="网格撤并"))  # a member alone is a team too
    assert_problem(town.leader.post(f"{API}/grid-cells/{c1}/retire", headers={"If-Match": '"1"'}), 409, "cell-has-team")
    ok(end(town.leader, member["id"], reason="调岗"))
    retired = ok(town.leader.post(f"{API}/grid-cells/{c1}/retire", headers={"If-Match": '"1"'}))
    assert retired["retired_at"] is not None

    # the history of the retired cell is kept
    assert owner_at(town.leader, c1, zulu(ago(days=1))) == boss["id"]
    assert member_ids_at(town.leader, c1, zulu(ago(days=1))) == [helper["id"]]
    assert owner_at(town.leader, c1) is None
    assert history(town.leader, cell_id=c1)["total"] == 2
    assert_problem(assign(town.leader, c1, other["id"]), 409, "unit-retired")


# ---- the team's ETag ------------------------------------------------------------------------------------------------


def test_the_team_etag_guards_every_change_of_the_team(town):
    cell = town.c1["id"]
    a, b, m = (town.officer(n) for n in range(1, 4))
    empty = team_etag(town.leader, cell)
    first = assigned(town.leader, cell, a["id"], if_match=empty)
    with_a = team_etag(town.leader, cell)
    assert with_a != empty

    stale = assign(town.leader, cell, b["id"], if_match=empty)
    body = assert_problem(stale, 412, "precondition-failed")
    assert f'"{body["current_etag"]}"' == with_a
    assert_problem(assign(town.leader, cell, b["id"], if_match=None), 428, "precondition-required")
    assert_problem(assign(town.leader, cell, b["id"], if_match="team-0000"), 412, "precondition-failed")
    assert owner_at(town.leader, cell) == a["id"]
    assert team_etag(town.leader, cell) == with_a
    assert history(town.leader, cell_id=cell, include_superseded=True)["total"] == 1
    assert assignment(town.leader, first["id"])["current"] is True

    joined = assigned(town.leader, cell, m["id"], "member", if_match=with_a)
    with_m = team_etag(town.leader, cell)
    assert with_m not in (with_a, empty)
    assert_problem(assign(town.leader, cell, b["id"], if_match=with_a), 412, "precondition-failed")

    replaced = assigned(town.leader, cell, b["id"], if_match="*")
    assert replaced["ended_assignment_ids"] == [first["id"]]
    assert owner_at(town.leader, cell) == b["id"] and member_ids_at(town.leader, cell) == [m["id"]]
    after = team_etag(town.leader, cell)
    assert after != with_m
    ok(end(town.leader, joined["id"]))
    assert team_etag(town.leader, cell) not in (after, with_m)


# ---- ending and correcting ------------------------------------------------------------------------------------------


def test_ending_an_assignment_in_the_past_or_now(town):
    cell = town.c1["id"]
    boss, helper, third = (town.officer(n) for n in range(1, 4))
    t0 = ago(days=3)
    owner = assigned(town.leader, cell, boss["id"], valid_from=zulu(t0))
    member = assigned(town.leader, cell, helper["id"], "member", valid_from=zulu(t0 + timedelta(hours=1)))
    url = f"{API}/grid-assignments/{owner['id']}/end"

    assert_problem(town.leader.post(url, json={"reason": "调岗"}), 428, "precondition-required")
    assert_problem(
        town.leader.post(url, json={"reason": "调岗"}, headers={"If-Match": '"5"'}), 412, "precondition-failed"
    )
    future = end(town.leader, owner["id"], valid_to=cst(now() + timedelta(hours=2)))
    assert assert_problem(future, 422, "time-in-future")["errors"][0]["pointer"] == "/valid_to"
    assert assignment(town.leader, owner["id"])["current"] is True

    t1 = t0 + timedelta(days=1)
    response = town.leader.post(url, json={"reason": "调岗", "valid_to": cst(t1)}, headers={"If-Match": '"1"'})
    ended = ok(response)
    assert moment(ended["valid_to"]) == t1 and ended["current"] is False
    assert ended["end_reason"] == "调岗" and ended["ended_by_id"] == town.leader_id
    assert abs(now() - moment(ended["ended_at"])) < timedelta(minutes=1)
    assert ended["version"] == 2 and response.headers["ETag"] == '"2"'
    assert moment(ended["valid_from"]) == t0 and ended["officer"]["id"] == boss["id"]

    for tag in ('"2"', "*"):
        again = town.leader.post(url, json={"reason": "再次"}, headers={"If-Match": tag})
        assert_problem(again, 409, "already-ended")
    assert moment(assignment(town.leader, owner["id"])["valid_to"]) == t1

    by_default = ok(end(town.leader, member["id"], reason="离职"))
    assert abs(now() - moment(by_default["valid_to"])) < timedelta(minutes=1)
    assert by_default["end_reason"] == "离职"

    assert owner_at(town.leader, cell) is None and member_ids_at(town.leader, cell) == []
    assert owner_at(town.leader, cell, cst(t1 - SECOND)) == boss["id"]
    assert owner_at(town.leader, cell, cst(t1)) is None
    assert member_ids_at(town.leader, cell, cst(t1)) == [helper["id"]]
    assert C1_CODE in cell_codes(town.leader, has_owner="false")

    # an end before the start is refused
    later = assigned(town.leader, cell, third["id"], valid_from=zulu(ago(hours=5)))
    assert_problem(end(town.leader, later["id"], valid_to=zulu(ago(hours=6))), 422, "valid-to-before-valid-from")
    assert assignment(town.leader, later["id"])["current"] is True


def test_correcting_the_current_owner_keeps_the_original_and_answers_the_corrected_officer(town):
    cell = town.c1["id"]
    typo, meant = town.officer(1), town.officer(2)
    t0 = ago(days=2)
    original = assigned(town.leader, cell, typo["id"], valid_from=cst(t0), reason="乡镇党委任命")
    totals = [all_rows_total(town.leader)]
    url = f"{API}/grid-assignments/{original['id']}/correct"

    assert_problem(
        town.leader.post(url, json={"reason": "录入错误", "officer_id": meant["id"]}), 428, "precondition-required"
    )
    assert_problem(
        correct(town.leader, original["id"], officer_id=meant["id"], if_match='"3"'), 412, "precondition-failed"
    )
    assert_problem(correct(town.leader, original["id"]), 422, "empty-correction")
    totals.append(all_rows_total(town.leader))

    response = correct(town.leader, original["id"], officer_id=meant["id"], reason="录入错误：网格长应为李强")
    correction = ok(response, 201)
    assert response.headers["Location"].endswith(f"{API}/grid-assignments/{correction['id']}")
    assert correction["id"] != original["id"]
    assert correction["officer"]["id"] == meant["id"] and correction["role"] == "owner"
    assert correction["corrects_id"] == original["id"]
    assert correction["correction_reason"] == "录入错误：网格长应为李强"
    assert moment(correction["valid_from"]) == t0 and correction["valid_to"] is None
    assert correction["current"] is True and correction["reason"] == "乡镇党委任命"
    totals.append(all_rows_total(town.leader))

    kept = assignment(town.leader, original["id"])
    assert kept["officer"]["id"] == typo["id"] and kept["role"] == "owner"
    assert moment(kept["valid_from"]) == t0 and kept["valid_to"] is None
    assert kept["reason"] == "乡镇党委任命" and kept["corrects_id"] is None
    assert kept["superseded_at"] is not None and kept["superseded_by_assignment_id"] == correction["id"]
    assert kept["superseded_by_id"] == town.leader_id and kept["current"] is False

    # now and in the past: the corrected officer
    assert owner_at(town.leader, cell) == meant["id"]
    assert team(town.leader, cell)["owner"]["id"] == correction["id"]
    for instant in (cst(t0), zulu(t0 + timedelta(hours=1)), cst(ago(minutes=1))):
        assert owner_at(town.leader, cell, instant) == meant["id"], instant
        assert cell_ids_of(town.leader, meant["id"], instant) == [cell]
        assert cell_ids_of(town.leader, typo["id"], instant) == []
    assert owner_at(town.leader, cell, zulu(t0 - SECOND)) is None
    assert cell_ids_of(town.leader, typo["id"]) == [] and cell_ids_of(town.leader, meant["id"]) == [cell]
    assert [a["id"] for a in history(town.leader, at=zulu(t0 + SECOND))["items"]] == [correction["id"]]

    # the lists: the correction by default, both when asked
    assert [a["id"] for a in history(town.leader, cell_id=cell)["items"]] == [correction["id"]]
    both = history(town.leader, cell_id=cell, include_superseded=True)
    assert sorted(a["id"] for a in both["items"]) == sorted([original["id"], correction["id"]])
    assert both["total"] == 2
    assert [a["id"] for a in history(town.leader, cell_id=cell, current=False)["items"]] == []

    # a superseded entry cannot be corrected (nor ended) again: work on the correction
    for tag in (f'"{kept["version"]}"', "*"):
        again = correct(town.leader, original["id"], officer_id=typo["id"], if_match=tag)
        assert_problem(again, 409, "assignment-superseded")
        assert_problem(end(town.leader, original["id"], if_match=tag), 409, "assignment-superseded")
    assert assignment(town.leader, original["id"]) == kept
    totals.append(all_rows_total(town.leader))

    # the correction itself may be ended: the history still has it
    ok(end(town.leader, correction["id"]))
    totals.append(all_rows_total(town.leader))
    assert owner_at(town.leader, cell, cst(t0 + SECOND)) == meant["id"]
    assert totals == sorted(totals) and totals[-1] == 2, totals


def test_a_correction_that_would_overlap_another_owner_changes_nothing(town):
    cell = town.c1["id"]
    a, b, c = (town.officer(n) for n in range(1, 4))
    t0, t1 = ago(days=6), ago(days=3)
    first = assigned(town.leader, cell, a["id"], valid_from=cst(t0))
    second = assigned(town.leader, cell, b["id"], valid_from=zulu(t1))
    member = assigned(town.leader, cell, c["id"], "member", valid_from=zulu(t1 + timedelta(hours=1)))
    before = {i: assignment(town.leader, i) for i in (first["id"], second["id"], member["id"])}
    total = all_rows_total(town.leader)
    audited = audit_total(town.admin)

    refusals = [
        (first["id"], {"valid_to": zulu(t1 + timedelta(hours=1))}, second["id"]),
        (first["id"], {"valid_to": None}, second["id"]),
        (second["id"], {"valid_from": cst(t1 - timedelta(hours=1))}, first["id"]),
        (member["id"], {"role": "owner"}, second["id"]),  # a second current owner
        (member["id"], {"officer_id": b["id"]}, second["id"]),  # b would hold two places in the cell
    ]
    for assignment_id, changes, overlapped in refusals:
        body = assert_problem(correct(town.leader, assignment_id, **changes), 409, "overlaps-history")
        assert body["assignment_id"] == overlapped, (changes, body)

    for assignment_id, was in before.items():
        assert assignment(town.leader, assignment_id) == was
    assert all_rows_total(town.leader) == total
    assert audit_total(town.admin) == audited  # a refused write leaves no trace either
    assert owner_at(town.leader, cell, cst(t1 - SECOND)) == a["id"]
    assert owner_at(town.leader, cell, cst(t1)) == b["id"]
    assert owner_at(town.leader, cell) == b["id"]

    # a correction that fits the history goes through: the first owner started a day earlier
    moved = ok(correct(town.leader, first["id"], valid_from=cst(t0 - timedelta(days=1))), 201)
    assert moment(moved["valid_from"]) == t0 - timedelta(days=1) and moment(moved["valid_to"]) == t1
    assert owner_at(town.leader, cell, zulu(t0 - timedelta(hours=12))) == a["id"]
    assert all_rows_total(town.leader) == total + 1
    assert_one_owner_and_no_overlap(town.leader, cell)


# ---- the database's own guarantees ----------------------------------------------------------------------------------


def _row(cell: dict, officer: dict, role: str, start: datetime, **extra: Any) -> GridAssignment:
    return GridAssignment(
        cell_id=cell["id"],
        officer_id=officer["id"],
        township_id=cell["township_id"],
        role=role,
        valid_from=start,
        reason="direct insert",
        created_at=now(),
        **extra,
    )


def _count(session: Session, cell_id: int) -> int:
    return session.scalar(select(func.count()).select_from(GridAssignment).where(GridAssignment.cell_id == cell_id))


def test_the_database_holds_at_most_one_current_owner_per_cell(town, session):
    cell = town.c1
    a, b, c = (town.officer(n) for n in range(1, 4))
    session.info["actor"] = SYSTEM
    start = ago(days=1)

    session.add_all([_row(cell, a, "owner", start), _row(cell, b, "owner", start + SECOND)])
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    assert _count(session, cell["id"]) == 0

    # an ended owner, a superseded owner and a member do not count: these are fine together
    session.add_all(
        [
            _row(cell, a, "owner", start - timedelta(days=2), valid_to=start - timedelta(days=1)),
            _row(cell, c, "owner", start - timedelta(hours=1), superseded_at=now()),
            _row(cell, b, "owner", start),
            _row(cell, c, "member", start),
        ]
    )
    session.commit()
    assert _count(session, cell["id"]) == 4

    session.add(_row(cell, a, "owner", start + SECOND))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    assert _count(session, cell["id"]) == 4
    current_owners = session.scalars(
        select(GridAssignment.officer_id).where(
            GridAssignment.cell_id == cell["id"],
            GridAssignment.role == "owner",
            GridAssignment.valid_to.is_(None),
            GridAssignment.superseded_at.is_(None),
        )
    ).all()
    assert current_owners == [b["id"]]
    assert owner_at(town.leader, cell["id"]) == b["id"]


def test_the_database_holds_at_most_one_current_assignment_per_cell_and_officer(town, session):
    cell, other_cell = town.c1, town.c2
    a, b = town.officer(1), town.officer(2)
    session.info["actor"] = SYSTEM
    start = ago(days=1)

    session.add_all([_row(cell, a, "member", start), _row(cell, a, "member", start + SECOND)])
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    assert _count(session, cell["id"]) == 0

    # the same officer in two cells, and twice in one cell over past intervals, is fine
    session.add_all(
        [
            _row(cell, a, "member", start - timedelta(days=3), valid_to=start - timedelta(days=2)),
            _row(cell, a, "member", start),
            _row(other_cell, a, "member", start),
            _row(cell, b, "member", start),
        ]
    )
    session.commit()
    assert _count(session, cell["id"]) == 3

    session.add(_row(cell, a, "owner", start + SECOND))  # a member who is also the owner: two places
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    assert _count(session, cell["id"]) == 3
    assert member_ids_at(town.leader, cell["id"]) == sorted([a["id"], b["id"]])
    assert owner_at(town.leader, cell["id"]) is None


# ---- two leaders at the same moment ---------------------------------------------------------------------------------


@pytest.fixture
def two_leaders(app: Flask, town: SimpleNamespace) -> list[FlaskClient]:
    second = f.login_as(app, Role.TOWNSHIP_LEADER, username="leader-qs-2", township_id=town.t1["id"])
    return [town.leader, second]


def _assign_as(cell_id: int, officer_id: int, if_match: str) -> Callable[[FlaskClient], Any]:
    return lambda c: assign(c, cell_id, officer_id, if_match=if_match, reason="同时指派")


def test_two_leaders_assigning_owners_with_if_match_star_both_succeed_in_turn(town, two_leaders):
    cell = town.c1["id"]
    n = 0
    for attempt in range(3):
        n += 2
        x, y = town.officer(n - 1), town.officer(n)
        previous = team(town.leader, cell)["owner"]

        answers = race(two_leaders, _assign_as(cell, x["id"], "*"), _assign_as(cell, y["id"], "*"))

        assert [a.status_code for a in answers] == [201, 201], [a.get_json() for a in answers]
        first, second = sorted((a.get_json() for a in answers), key=lambda a: moment(a["valid_from"]))
        assert moment(first["valid_from"]) < moment(second["valid_from"]), attempt
        assert second["ended_assignment_ids"] == [first["id"]]
        assert first["ended_assignment_ids"] == ([previous["id"]] if previous else [])
        assert moment(assignment(town.leader, first["id"])["valid_to"]) == moment(second["valid_from"])
        assert owner_at(town.leader, cell) == second["officer"]["id"]
        assert_one_owner_and_no_overlap(town.leader, cell)
    assert len(history(town.leader, cell_id=cell, role="owner")["items"]) == 6


def test_two_leaders_assigning_owners_from_the_same_team_etag_exactly_one_wins(town, two_leaders):
    cell = town.c1["id"]
    n = 0
    for _attempt in range(3):
        n += 2
        x, y = town.officer(n - 1), town.officer(n)
        etag = team_etag(town.leader, cell)

        answers = race(two_leaders, _assign_as(cell, x["id"], etag), _assign_as(cell, y["id"], etag))

        assert sorted(a.status_code for a in answers) == [201, 412], [a.get_json() for a in answers]
        winner = next(a for a in answers if a.status_code == 201).get_json()
        assert_problem(next(a for a in answers if a.status_code == 412), 412, "precondition-failed")
        assert owner_at(town.leader, cell) == winner["officer"]["id"]
        assert team_etag(town.leader, cell) != etag
        assert_one_owner_and_no_overlap(town.leader, cell)
    assert len(history(town.leader, cell_id=cell, role="owner", include_superseded=True)["items"]) == 3


def test_two_leaders_correcting_the_same_entry_at_the_same_moment_make_one_correction(town, two_leaders):
    cell = town.c1["id"]
    n = 0
    for attempt in range(3):
        n += 3
        typo, x, y = town.officer(n - 2), town.officer(n - 1), town.officer(n)
        entry = assigned(town.leader, cell, typo["id"], if_match="*")
        total = all_rows_total(town.leader)

        def fix(officer_id: int, entry_id: int = entry["id"]) -> Callable[[FlaskClient], Any]:
            return lambda c: correct(c, entry_id, officer_id=officer_id, if_match="*")

        answers = race(two_leaders, fix(x["id"]), fix(y["id"]))

        assert sorted(a.status_code for a in answers) == [201, 409], [a.get_json() for a in answers]
        winner = next(a for a in answers if a.status_code == 201).get_json()
        assert_problem(next(a for a in answers if a.status_code == 409), 409, "assignment-superseded")
        assert all_rows_total(town.leader) == total + 1, attempt
        assert assignment(town.leader, entry["id"])["superseded_by_assignment_id"] == winner["id"]
        assert owner_at(town.leader, cell) == winner["officer"]["id"]
        assert_one_owner_and_no_overlap(town.leader, cell)


def test_deactivating_an_officer_while_they_are_being_assigned_leaves_no_deactivated_officer_in_charge(
    town, two_leaders
):
    for attempt in range(4):
        cell = (town.c1 if attempt % 2 == 0 else town.c2)["id"]
        leaving = town.officer(attempt + 1)

        answers = race(
            two_leaders,
            lambda c, o=leaving: c.post(
                f"{API}/officers/{o['id']}/deactivate", json={"reason": "离职"}, headers={"If-Match": "*"}
            ),
            lambda c, o=leaving, cell=cell: assign(c, cell, o["id"], if_match="*"),
        )

        assert answers[0].status_code == 200, answers[0].get_json()
        assert answers[1].status_code in (201, 422), answers[1].get_json()
        if answers[1].status_code == 422:
            assert_problem(answers[1], 422, "officer-inactive")
        officer = ok(town.leader.get(f"{API}/officers/{leaving['id']}"))
        assert officer["active"] is False
        assert cell_ids_of(town.leader, leaving["id"]) == [], (attempt, [a.get_json() for a in answers])
        assert owner_at(town.leader, cell) != leaving["id"]


def test_retiring_a_cell_while_it_is_being_assigned_never_leaves_a_team_on_a_retired_cell(town, two_leaders):
    codes = [f"{town.v1['code']}{k:03d}" for k in range(3, 6)]
    for k, code in enumerate(codes):
        cell = f.cell(town.admin, town.v1["id"], code, box=(k * 300, 1000, k * 300 + 300, 1300), name=code)
        officer = town.officer(k + 1)

        answers = race(
            two_leaders,
            lambda c, cell=cell: c.post(f"{API}/grid-cells/{cell['id']}/retire", headers={"If-Match": '"1"'}),
            lambda c, cell=cell, o=officer: assign(c, cell["id"], o["id"], if_match="*"),
        )

        statuses = [a.status_code for a in answers]
        assert statuses in ([200, 409], [409, 201]), [a.get_json() for a in answers]
        now_cell = ok(town.leader.get(f"{API}/grid-cells/{cell['id']}", query_string={"include_retired": "true"}))
        if statuses == [200, 409]:
            assert_problem(answers[1], 409, "unit-retired")
            assert now_cell["retired_at"] is not None and owner_at(town.leader, cell["id"]) is None
        else:
            assert_problem(answers[0], 409, "cell-has-team")
            assert now_cell["retired_at"] is None and owner_at(town.leader, cell["id"]) == officer["id"]


# ---- the audit trail ------------------------------------------------------------------------------------------------


def test_the_audit_trail_records_every_assignment_write_with_its_leader_and_values(town):
    cell = town.c1["id"]
    a, b, c, d = (town.officer(n) for n in range(1, 5))
    t0, t1, t2, t3 = ago(days=8), ago(days=6), ago(days=4), ago(days=2)
    first = assigned(town.leader, cell, a["id"], valid_from=cst(t0), reason="任命")
    second = assigned(town.leader, cell, b["id"], valid_from=zulu(t1), reason="轮换")
    ok(end(town.leader, second["id"], valid_to=cst(t2), reason="调岗"))
    third = assigned(town.leader, cell, c["id"], valid_from=cst(t3), reason="新任")
    fourth = ok(correct(town.leader, third["id"], officer_id=d["id"], reason="录入错误"), 201)

    response = town.admin.get(f"{API}/audit-events", query_string={"entity_type": "grid_assignments", "page_size": 500})
    events = ok(response)["items"]
    assert [e["id"] for e in events] == sorted((e["id"] for e in events), reverse=True)  # newest first
    by = {(e["entity_id"], e["action"]): e for e in events}
    assert sorted(by) == sorted(
        [
            (first["id"], "create"),
            (first["id"], "end"),
            (second["id"], "create"),
            (second["id"], "end"),
            (third["id"], "create"),
            (third["id"], "supersede"),
            (fourth["id"], "create"),
        ]
    )
    assert len(events) == len(by)
    for event in events:
        assert event["actor"] == "leader-qs" and event["actor_user_id"] == town.leader_id, event
        assert event["entity_type"] == "grid_assignments" and event["township_id"] == town.t1["id"]
        assert abs(now() - moment(event["occurred_at"])) < timedelta(minutes=5)

    created = by[(first["id"], "create")]
    assert created["before"] is None
    assert created["after"]["officer_id"] == a["id"] and created["after"]["cell_id"] == cell
    assert created["after"]["role"] == "owner" and created["after"]["reason"] == "任命"
    assert moment(created["after"]["valid_from"]) == t0 and created["after"]["valid_to"] is None

    handed_over = by[(first["id"], "end")]
    assert handed_over["before"]["valid_to"] is None and handed_over["before"]["end_reason"] is None
    assert moment(handed_over["after"]["valid_to"]) == t1
    assert "轮换" in handed_over["after"]["end_reason"] and handed_over["after"]["ended_by_id"] == town.leader_id

    ended = by[(second["id"], "end")]
    assert ended["before"]["valid_to"] is None
    assert moment(ended["after"]["valid_to"]) == t2 and ended["after"]["end_reason"] == "调岗"
    assert by[(second["id"], "create")]["after"]["officer_id"] == b["id"]

    superseded = by[(third["id"], "supersede")]
    assert superseded["before"]["superseded_at"] is None and superseded["after"]["superseded_at"] is not None
    assert superseded["after"]["superseded_by_id"] == town.leader_id
    assert "officer_id" not in superseded["after"]  # the original keeps its values
    correction = by[(fourth["id"], "create")]["after"]
    assert correction["corrects_id"] == third["id"] and correction["correction_reason"] == "录入错误"
    assert correction["officer_id"] == d["id"] and moment(correction["valid_from"]) == t3

    one = ok(
        town.admin.get(
            f"{API}/audit-events", query_string={"entity_type": "grid_assignments", "entity_id": first["id"]}
        )
    )
    assert [e["action"] for e in one["items"]] == ["end", "create"]
    assert_problem(town.leader.get(f"{API}/audit-events"), 403, "forbidden")


# ---- an officer who moves to another township ------------------------------------------------------------------


def _moved_officer(town) -> tuple[dict[str, Any], dict[str, Any]]:
    """An officer of township 1 who owned c1 in the past and has since moved to township 2 (by the admin)."""
    officer = town.officer(71)
    start = ok(assign(town.leader, town.c1["id"], officer["id"], valid_from="2025-03-01T08:00:00+08:00"), 201)
    ended = ok(
        town.leader.post(
            f"{API}/grid-assignments/{start['id']}/end", json={"reason": "调岗"}, headers={"If-Match": '"1"'}
        )
    )
    moved = town.admin.patch(
        f"{API}/officers/{officer['id']}", json={"township_id": town.t2["id"]}, headers={"If-Match": '"1"'}
    )
    assert ok(moved)["township_id"] == town.t2["id"]
    return officer, ended


def test_an_officer_moved_to_another_township_takes_their_account_along(app, town):
    officer, _ended = _moved_officer(town)
    account = f.login_as(app, Role.GRID_OFFICER, username="mover", officer_id=officer["id"])
    moved_again = town.admin.patch(
        f"{API}/officers/{officer['id']}", json={"township_id": town.t1["id"]}, headers={"If-Match": "*"}
    )
    assert ok(moved_again)["township_id"] == town.t1["id"]
    assert me(account)["township_id"] == town.t1["id"]
    back = town.admin.patch(
        f"{API}/officers/{officer['id']}", json={"township_id": town.t2["id"]}, headers={"If-Match": "*"}
    )
    ok(back)
    user_id = me(account)["id"]
    assert me(account)["township_id"] == town.t2["id"]
    # the leader of the township they left no longer manages (or sees) their account
    assert_problem(town.leader.get(f"{API}/users/{user_id}"), 404, "not-found")
    reset = town.leader.post(
        f"{API}/users/{user_id}/password", json={"new_password": "taken over now"}, headers={"If-Match": "*"}
    )
    assert_problem(reset, 404, "not-found")


def test_the_past_cells_of_an_officer_who_moved_stay_out_of_the_new_townships_sight(app, town):
    officer, ended = _moved_officer(town)
    leader_2 = f.login_as(app, Role.TOWNSHIP_LEADER, username="leader-two", township_id=town.t2["id"])
    past = ok(leader_2.get(f"{API}/officers/{officer['id']}/cells", query_string={"at": "2025-06-01T00:00:00Z"}))
    assert past["items"] == []  # township 1's cell, out of township 2's scope
    mine = ok(town.admin.get(f"{API}/officers/{officer['id']}/cells", query_string={"at": "2025-06-01T00:00:00Z"}))
    assert [a["id"] for a in mine["items"]] == [ended["id"]]


def test_a_past_entry_of_an_officer_who_moved_can_still_be_corrected(town):
    _officer, ended = _moved_officer(town)
    corrected = town.admin.post(
        f"{API}/grid-assignments/{ended['id']}/correct",
        json={"reason": "日期录错", "valid_from": "2025-03-02T08:00:00+08:00"},
        headers={"If-Match": f'"{ended["version"]}"'},
    )
    fixed = ok(corrected, 201)
    assert fixed["corrects_id"] == ended["id"] and moment(fixed["valid_from"]) == moment("2025-03-02T00:00:00Z")
    # but reopening it would make someone of another township responsible now
    again = town.admin.post(
        f"{API}/grid-assignments/{fixed['id']}/correct",
        json={"reason": "误操作", "valid_to": None},
        headers={"If-Match": "*"},
    )
    assert_problem(again, 422, "officer-other-township")


def test_a_taken_mobile_number_names_the_officer_only_to_those_who_may_see_them(app, town):
    elsewhere = new_officer(town.admin, 72, town.t2["id"])
    again = {"name": "重号", "mobile": elsewhere["mobile"], "township_id": town.t1["id"]}
    body = assert_problem(town.leader.post(f"{API}/officers", json=again), 409, "mobile-taken")
    assert "existing_id" not in body
    body = assert_problem(town.admin.post(f"{API}/officers", json=again), 409, "mobile-taken")
    assert body["existing_id"] == elsewhere["id"]
