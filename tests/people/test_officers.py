"""Officers through the API, as a township leader registers and changes them: normalised and unique mobile
numbers, versions, deactivation ending their cells and their account, and an officer who moves to another township.

The county is the `world` fixture's (tests/conftest.py); new officers are registered by the leader of township A.
Every test runs on SpatiaLite and on PostGIS (see conftest.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from models.roles import Role
from tests import factories as f
from tests.factories import API, ago, assert_problem, moment, ok, race
from tests.people.teams import (
    MICROSECOND,
    assign,
    assigned,
    assignment,
    cell_codes,
    cell_ids_of,
    cst,
    member_ids_at,
    new_officer,
    now,
    officer_of_a,
    owner_at,
    zulu,
)

WORLD_OFFICERS = ("oA1", "oA2", "oB1", "oB2")

# ---- officers -------------------------------------------------------------------------------------------------------


def test_registering_an_officer_stores_the_mobile_number_normalised(world):
    leader = world.as_("leader_a")
    body = {"name": "张伟", "mobile": "+86 138-0013-8000", "title": "网格员", "township_id": world["tA"]}
    response = leader.post(f"{API}/officers", json=body)

    officer = ok(response, 201)
    assert officer["mobile"] == "13800138000"
    assert officer["name"] == "张伟" and officer["title"] == "网格员"
    assert officer["township_id"] == world["tA"]
    assert officer["active"] is True and officer["deactivated_at"] is None
    assert officer["version"] == 1 and response.headers["ETag"] == '"1"'
    assert response.headers["Location"].endswith(f"{API}/officers/{officer['id']}")
    assert ok(leader.get(f"{API}/officers/{officer['id']}"))["mobile"] == "13800138000"

    other = new_officer(leader, 0, world["tA"], mobile="0086 139 0013 9000")
    assert other["mobile"] == "13900139000"
    found = ok(leader.get(f"{API}/officers", query_string={"mobile": "1380013"}))
    # the world's officers of township A have numbers with that prefix too (13800138001, 13800138002)
    assert sorted(o["id"] for o in found["items"]) == sorted([officer["id"], world["oA1"], world["oA2"]])


def test_an_officer_registered_by_a_township_leader_belongs_to_their_township_by_default(world):
    leader = world.as_("leader_a")
    response = leader.post(f"{API}/officers", json={"name": "张伟", "mobile": "13800138000"})

    officer = ok(response, 201)
    assert officer["township_id"] == world["tA"]
    assert ok(leader.get(f"{API}/officers/{officer['id']}"))["township_id"] == world["tA"]
    # a county administrator has no township of their own: they must name one
    refused = world.admin.post(f"{API}/officers", json={"name": "李强", "mobile": "13900139000"})
    assert_problem(refused, 422, "township-required")


def test_a_malformed_mobile_number_is_refused_and_nothing_is_registered(world):
    leader = world.as_("leader_a")
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
        response = leader.post(f"{API}/officers", json={"name": "张伟", "mobile": mobile})
        body = assert_problem(response, 422, "mobile-format")
        assert [(e["field"], e["pointer"], e["code"]) for e in body["errors"]] == [
            ("mobile", "/mobile", "mobile-format")
        ], mobile

    listed = ok(leader.get(f"{API}/officers", query_string={"include_inactive": "true", "count": "true"}))
    assert listed["total"] == 2  # the world's oA1 and oA2
    officer = officer_of_a(world, 1)
    response = leader.patch(
        f"{API}/officers/{officer['id']}", json={"mobile": "１３８００１３８０００"}, headers={"If-Match": '"1"'}
    )
    assert_problem(response, 422, "mobile-format")
    assert ok(leader.get(f"{API}/officers/{officer['id']}"))["mobile"] == officer["mobile"]


def test_a_second_active_officer_with_the_same_mobile_is_refused_naming_the_existing_one(world):
    leader = world.as_("leader_a")
    mine = world["tA"]
    first = ok(leader.post(f"{API}/officers", json={"name": "张伟", "mobile": "13800138000", "township_id": mine}), 201)

    # the same person registered again (a retried create): nothing is made twice
    for _ in range(2):
        again = leader.post(f"{API}/officers", json={"name": "张伟", "mobile": "13800138000", "township_id": mine})
        assert assert_problem(again, 409, "mobile-taken")["existing_id"] == first["id"]
    written_differently = leader.post(
        f"{API}/officers", json={"name": "张三", "mobile": "+86 138 0013 8000", "township_id": mine}
    )
    assert assert_problem(written_differently, 409, "mobile-taken")["existing_id"] == first["id"]
    in_another_township = world.admin.post(
        f"{API}/officers", json={"name": "张伟", "mobile": "13800138000", "township_id": world["tB"]}
    )
    assert assert_problem(in_another_township, 409, "mobile-taken")["existing_id"] == first["id"]
    listed = ok(world.admin.get(f"{API}/officers", query_string={"include_inactive": "true"}))
    assert sorted(o["id"] for o in listed["items"]) == sorted([first["id"], *(world[o] for o in WORLD_OFFICERS)])

    # another officer cannot take the number either
    second = officer_of_a(world, 2)
    taken = leader.patch(
        f"{API}/officers/{second['id']}", json={"mobile": "138-0013-8000"}, headers={"If-Match": '"1"'}
    )
    assert assert_problem(taken, 409, "mobile-taken")["existing_id"] == first["id"]
    assert ok(leader.get(f"{API}/officers/{second['id']}"))["mobile"] == second["mobile"]

    # once the first has left, the number may belong to a new officer
    ok(leader.post(f"{API}/officers/{first['id']}/deactivate", json={}, headers={"If-Match": '"1"'}))
    successor = ok(
        leader.post(f"{API}/officers", json={"name": "王五", "mobile": "13800138000", "township_id": mine}), 201
    )
    assert successor["id"] != first["id"]
    listed = ok(world.admin.get(f"{API}/officers", query_string={"include_inactive": "true", "mobile": "13800138000"}))
    assert sorted(o["id"] for o in listed["items"]) == sorted([first["id"], successor["id"]])


def test_the_same_create_sent_twice_at_the_same_moment_registers_one_officer(world):
    leader = world.as_("leader_a")
    for attempt in range(6):
        mobile = f"1370000000{attempt}"
        body = {"name": f"重复{attempt}", "mobile": mobile, "township_id": world["tA"]}
        answers = race([leader, leader], *[lambda c, b=body: c.post(f"{API}/officers", json=b)] * 2)

        assert sorted(a.status_code for a in answers) == [201, 409], [a.get_json() for a in answers]
        created = next(a for a in answers if a.status_code == 201).get_json()
        refused = assert_problem(next(a for a in answers if a.status_code == 409), 409, "mobile-taken")
        assert refused.get("existing_id") == created["id"], refused
        listed = ok(leader.get(f"{API}/officers", query_string={"mobile": mobile, "include_inactive": "true"}))
        assert [o["id"] for o in listed["items"]] == [created["id"]]


def test_changing_an_officer_names_the_version_it_changes(world):
    leader = world.as_("leader_a")
    officer = officer_of_a(world, 1, title="网格员")
    url = f"{API}/officers/{officer['id']}"

    assert_problem(leader.patch(url, json={"name": "张伟伟"}), 428, "precondition-required")
    assert_problem(leader.patch(url, json={"name": "张伟伟"}, headers={"If-Match": '"7"'}), 412, "precondition-failed")
    unchanged = ok(leader.get(url))
    assert (unchanged["name"], unchanged["version"]) == (officer["name"], 1)

    response = leader.patch(
        url, json={"name": "张伟伟", "mobile": "+86 139-0000-0001", "title": None}, headers={"If-Match": '"1"'}
    )
    changed = ok(response)
    assert (changed["name"], changed["mobile"], changed["title"]) == ("张伟伟", "13900000001", None)
    assert changed["version"] == 2 and response.headers["ETag"] == '"2"'
    assert moment(changed["updated_at"]) >= moment(officer["updated_at"])

    stale = leader.patch(url, json={"name": "又改了"}, headers={"If-Match": '"1"'})
    assert_problem(stale, 412, "precondition-failed")
    assert ok(leader.get(url))["name"] == "张伟伟"


def test_deactivating_an_officer_ends_their_cells_at_that_instant_and_their_account(app, world):
    leader = world.as_("leader_a")
    wang = officer_of_a(world, 1)
    li = officer_of_a(world, 2)
    c1, c2 = world["cA2"], world["cA3"]
    owns_c1 = assigned(leader, c1, wang["id"], valid_from=cst(ago(days=3)))
    owns_c2 = assigned(leader, c2, li["id"], valid_from=zulu(ago(days=3)))
    member_c2 = assigned(leader, c2, wang["id"], "member", valid_from=cst(ago(days=2)))
    f.add_user(app, Role.GRID_OFFICER, username="wang", officer_id=wang["id"])
    officer_client = f.bearer(app, f.token_for(app, "wang")["access_token"])
    assert sorted(f.my_account(officer_client)["scope"]["cell_ids"]) == sorted([c1, c2])
    assert cell_codes(leader, has_owner="false") == []  # cA1 has the world's team

    url = f"{API}/officers/{wang['id']}/deactivate"
    assert_problem(leader.post(url, json={"reason": "调离本乡镇"}), 428, "precondition-required")
    stale = leader.post(url, json={"reason": "调离本乡镇"}, headers={"If-Match": '"9"'})
    assert_problem(stale, 412, "precondition-failed")
    assert sorted(cell_ids_of(leader, wang["id"])) == sorted([c1, c2])  # the refused request changed nothing

    gone = ok(leader.post(url, json={"reason": "调离本乡镇"}, headers={"If-Match": '"1"'}))
    assert gone["active"] is False
    left_at = moment(gone["deactivated_at"])
    assert abs(now() - left_at) < timedelta(minutes=1)

    for ended_id in (owns_c1["id"], member_c2["id"]):
        ended = assignment(leader, ended_id)
        assert moment(ended["valid_to"]) == left_at, ended
        assert ended["current"] is False and ended["superseded_at"] is None
        assert ended["end_reason"] and "调离本乡镇" in ended["end_reason"]
        assert ended["ended_by_id"] == world["u_leader_a"]
    kept = assignment(leader, owns_c2["id"])
    assert kept["current"] is True and kept["valid_to"] is None

    # their cell is on the to-do list; the other cell keeps its owner, without them as a member
    assert cell_codes(leader, has_owner="false") == [world.record("cA2")["code"]]
    assert cell_codes(leader, has_owner="true") == [world.record("cA1")["code"], world.record("cA3")["code"]]
    assert owner_at(leader, c1) is None
    assert owner_at(leader, c2) == li["id"] and member_ids_at(leader, c2) == []
    assert cell_ids_of(leader, wang["id"]) == []
    # ... and the history still answers who was responsible just before
    just_before = zulu(left_at - MICROSECOND)
    assert owner_at(leader, c1, just_before) == wang["id"]
    assert member_ids_at(leader, c2, just_before) == [wang["id"]]
    assert sorted(cell_ids_of(leader, wang["id"], just_before)) == sorted([c1, c2])
    assert owner_at(leader, c1, zulu(left_at)) is None

    # their account can no longer log in, and the token they had stops working
    assert_problem(f.login(app, "wang"), 401, "login-failed")
    assert_problem(officer_client.get(f"{API}/auth/me"), 401, "invalid-token")
    assert_problem(officer_client.get(f"{API}/grid-cells/{c1}/team"), 401, "invalid-token")

    # nobody assigns a deactivated officer; deactivating twice changes nothing
    assert_problem(assign(leader, c1, wang["id"]), 422, "officer-inactive")
    again = ok(leader.post(url, json={}, headers={"If-Match": "*"}))
    assert moment(again["deactivated_at"]) == left_at and again["version"] == gone["version"]


# ---- an officer who moves to another township ------------------------------------------------------------------


def _moved_officer(world) -> tuple[dict[str, Any], dict[str, Any]]:
    """An officer of township A who owned cell cA2 in the past and has since moved to township B (by the admin)."""
    leader = world.as_("leader_a")
    officer = officer_of_a(world, 71)
    start = ok(assign(leader, world["cA2"], officer["id"], valid_from="2025-03-01T08:00:00+08:00"), 201)
    ended = ok(
        leader.post(f"{API}/grid-assignments/{start['id']}/end", json={"reason": "调岗"}, headers={"If-Match": '"1"'})
    )
    moved = world.admin.patch(
        f"{API}/officers/{officer['id']}", json={"township_id": world["tB"]}, headers={"If-Match": '"1"'}
    )
    assert ok(moved)["township_id"] == world["tB"]
    return officer, ended


def test_an_officer_moved_to_another_township_takes_their_account_along(app, world):
    leader = world.as_("leader_a")
    officer, _ended = _moved_officer(world)
    account = f.login_as(app, Role.GRID_OFFICER, username="mover", officer_id=officer["id"])
    moved_again = world.admin.patch(
        f"{API}/officers/{officer['id']}", json={"township_id": world["tA"]}, headers={"If-Match": "*"}
    )
    assert ok(moved_again)["township_id"] == world["tA"]
    assert f.my_account(account)["township_id"] == world["tA"]
    back = world.admin.patch(
        f"{API}/officers/{officer['id']}", json={"township_id": world["tB"]}, headers={"If-Match": "*"}
    )
    ok(back)
    user_id = f.my_account(account)["id"]
    assert f.my_account(account)["township_id"] == world["tB"]
    # the leader of the township they left no longer manages (or sees) their account
    assert_problem(leader.get(f"{API}/users/{user_id}"), 404, "not-found")
    reset = leader.post(
        f"{API}/users/{user_id}/password", json={"new_password": "taken over now"}, headers={"If-Match": "*"}
    )
    assert_problem(reset, 404, "not-found")


def test_the_past_cells_of_an_officer_who_moved_stay_out_of_the_new_townships_sight(world):
    officer, ended = _moved_officer(world)
    leader_b = world.as_("leader_b")
    past = ok(leader_b.get(f"{API}/officers/{officer['id']}/cells", query_string={"at": "2025-06-01T00:00:00Z"}))
    assert past["items"] == []  # township A's cell, out of township B's scope
    mine = ok(world.admin.get(f"{API}/officers/{officer['id']}/cells", query_string={"at": "2025-06-01T00:00:00Z"}))
    assert [a["id"] for a in mine["items"]] == [ended["id"]]


def test_a_past_entry_of_an_officer_who_moved_can_still_be_corrected(world):
    _officer, ended = _moved_officer(world)
    corrected = world.admin.post(
        f"{API}/grid-assignments/{ended['id']}/correct",
        json={"reason": "日期录错", "valid_from": "2025-03-02T08:00:00+08:00"},
        headers={"If-Match": f'"{ended["version"]}"'},
    )
    fixed = ok(corrected, 201)
    assert fixed["corrects_id"] == ended["id"] and moment(fixed["valid_from"]) == moment("2025-03-02T00:00:00Z")
    # but reopening it would make someone of another township responsible now
    again = world.admin.post(
        f"{API}/grid-assignments/{fixed['id']}/correct",
        json={"reason": "误操作", "valid_to": None},
        headers={"If-Match": "*"},
    )
    assert_problem(again, 422, "officer-other-township")


def test_a_taken_mobile_number_names_the_officer_only_to_those_who_may_see_them(app, world):
    leader = world.as_("leader_a")
    elsewhere = new_officer(world.admin, 72, world["tB"])
    again = {"name": "重号", "mobile": elsewhere["mobile"], "township_id": world["tA"]}
    body = assert_problem(leader.post(f"{API}/officers", json=again), 409, "mobile-taken")
    assert "existing_id" not in body
    body = assert_problem(world.admin.post(f"{API}/officers", json=again), 409, "mobile-taken")
    assert body["existing_id"] == elsewhere["id"]
