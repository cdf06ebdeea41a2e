"""Territorial responsibility (属地管理): who owned grid cell X at instant T, always right, never lost.

Grid assignments and cell teams through the HTTP API, as a township leader uses them: each new owner ends the
previous one at exactly its start, members and promotions, times in the past but never the future, officers and
cells out of reach, and the team's ETag. The county is the `world` fixture's (tests/conftest.py): the tests work
in its empty cells cA2 and cA3 (township A) and cB2 (township B), with officers the leader of A registers. Every
test runs on SpatiaLite and on PostGIS (see conftest.py).
"""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any

from tests.factories import API, ago, assert_problem, moment, ok
from tests.people.teams import (
    MICROSECOND,
    SECOND,
    assert_one_owner_and_no_overlap,
    assign,
    assigned,
    assignment,
    cell_ids_of,
    cst,
    end,
    history,
    member_ids_at,
    new_officer,
    now,
    officer_of_a,
    owner_at,
    team_etag,
    zulu,
)

# ---- assignments ----------------------------------------------------------------------------------------------------


def test_each_new_owner_ends_the_previous_one_at_exactly_its_start_and_every_instant_has_the_right_owner(world):
    leader = world.as_("leader_a")
    cell = world["cA2"]
    officers = [officer_of_a(world, n) for n in range(1, 5)]
    starts = [ago(days=10), ago(days=7, hours=5), ago(days=4, minutes=3), ago(days=1, seconds=7)]
    made: list[dict[str, Any]] = []
    for i, (officer, start) in enumerate(zip(officers, starts, strict=True)):
        given = cst(start) if i % 2 == 0 else zulu(start)
        created = assigned(leader, cell, officer["id"], valid_from=given, reason=f"第{i + 1}次调整")
        assert moment(created["valid_from"]) == start
        assert created["valid_to"] is None and created["current"] is True
        assert created["role"] == "owner" and created["officer"]["id"] == officer["id"]
        assert created["cell_id"] == cell and created["township_id"] == world["tA"]
        assert created["assigned_by_id"] == world["u_leader_a"]
        if made:
            assert created["ended_assignment_ids"] == [made[-1]["id"]]
            previous = assignment(leader, made[-1]["id"])
            assert moment(previous["valid_to"]) == moment(created["valid_from"]) == start
            assert previous["current"] is False
            assert previous["end_reason"] and f"第{i + 1}次调整" in previous["end_reason"]
        else:
            assert created["ended_assignment_ids"] == []
        made.append(created)

    ids = [o["id"] for o in officers]
    # before the first owner: nobody
    for fmt in (cst, zulu):
        assert owner_at(leader, cell, fmt(starts[0] - SECOND)) is None
    # around every start: the previous owner just before, the new owner at the instant and after
    for i, start in enumerate(starts):
        before = ids[i - 1] if i else None
        for fmt in (cst, zulu):
            assert owner_at(leader, cell, fmt(start - SECOND)) == before, (i, "before")
            assert owner_at(leader, cell, fmt(start - MICROSECOND)) == before, (i, "1 µs before")
            assert owner_at(leader, cell, fmt(start)) == ids[i], (i, "at")
            assert owner_at(leader, cell, fmt(start + SECOND)) == ids[i], (i, "after")
        # the officers' own view agrees, at the same instants
        for j, officer_id in enumerate(ids):
            assert cell_ids_of(leader, officer_id, cst(start)) == ([cell] if j == i else [])
            assert cell_ids_of(leader, officer_id, zulu(start - SECOND)) == ([cell] if j == i - 1 else [])
        in_force = history(leader, cell_id=cell, at=zulu(start))["items"]
        assert [a["officer"]["id"] for a in in_force] == [ids[i]]

    # now: the last owner, with the team's ETag; a past instant has none
    response = leader.get(f"{API}/grid-cells/{cell}/team")
    now_team = ok(response)
    assert now_team["owner"]["id"] == made[-1]["id"] and now_team["members"] == [] and now_team["at"] is None
    assert now_team["etag"].startswith("team-") and response.headers["ETag"] == f'"{now_team["etag"]}"'
    assert now_team["cell"]["id"] == cell and now_team["cell"]["code"] == world.record("cA2")["code"]
    past = leader.get(f"{API}/grid-cells/{cell}/team", query_string={"at": cst(starts[1])})
    assert ok(past)["etag"] is None and "ETag" not in past.headers
    assert moment(ok(past)["at"]) == starts[1]
    assert cell_ids_of(leader, ids[-1]) == [cell]
    assert all(cell_ids_of(leader, officer_id) == [] for officer_id in ids[:-1])

    # a fifth owner from now (no valid_from): the handover instant is exact to the microsecond
    fifth = officer_of_a(world, 5)
    latest = assigned(leader, cell, fifth["id"])
    handover = moment(latest["valid_from"])
    assert abs(now() - handover) < timedelta(minutes=1)
    assert moment(assignment(leader, made[-1]["id"])["valid_to"]) == handover
    assert owner_at(leader, cell, latest["valid_from"]) == fifth["id"]
    assert owner_at(leader, cell, cst(handover)) == fifth["id"]
    assert owner_at(leader, cell, zulu(handover - MICROSECOND)) == ids[-1]

    owners = assert_one_owner_and_no_overlap(leader, cell)
    assert [a["officer"]["id"] for a in owners] == [*ids, fifth["id"]]
    listed = history(leader, cell_id=cell)["items"]  # oldest start first
    assert [a["id"] for a in listed] == [*(a["id"] for a in made), latest["id"]]
    for earlier, later in pairwise(owners):
        assert moment(earlier["valid_to"]) == moment(later["valid_from"])


def test_any_number_of_members_and_a_member_promoted_to_owner_leaves_the_members_at_that_instant(world):
    leader = world.as_("leader_a")
    cell = world["cA2"]
    boss, m1, m2, m3 = (officer_of_a(world, n) for n in range(1, 5))
    t0, t1, t2 = ago(days=5), ago(days=4), ago(days=2)
    owner = assigned(leader, cell, boss["id"], valid_from=cst(t0))
    members = {}
    for k, m in enumerate((m1, m2, m3)):
        members[m["id"]] = assigned(leader, cell, m["id"], "member", valid_from=zulu(t1 + timedelta(hours=k)))
        assert members[m["id"]]["ended_assignment_ids"] == []
        assert members[m["id"]]["role"] == "member"
    assert owner_at(leader, cell) == boss["id"]
    assert member_ids_at(leader, cell) == [m1["id"], m2["id"], m3["id"]]

    # an officer already in the team: refused, whatever the role asked for; nothing changes
    etag = team_etag(leader, cell)
    for officer_id, role, existing in (
        (m1["id"], "member", members[m1["id"]]["id"]),
        (boss["id"], "member", owner["id"]),
        (boss["id"], "owner", owner["id"]),
    ):
        refused = assign(leader, cell, officer_id, role, if_match=etag)
        assert assert_problem(refused, 409, "already-assigned")["assignment_id"] == existing
    assert team_etag(leader, cell) == etag
    assert history(leader, cell_id=cell)["total"] == 4

    before_joining = assign(leader, cell, m2["id"], "owner", valid_from=cst(t1 + timedelta(minutes=30)))
    assert_problem(before_joining, 422, "valid-from-too-early")  # before m2 joined as a member
    promoted = assigned(leader, cell, m2["id"], "owner", valid_from=cst(t2))
    assert promoted["ended_assignment_ids"] == sorted([owner["id"], members[m2["id"]]["id"]])
    as_member = assignment(leader, members[m2["id"]]["id"])
    assert moment(as_member["valid_to"]) == t2 and as_member["end_reason"].startswith("became the owner")
    assert moment(assignment(leader, owner["id"])["valid_to"]) == t2

    assert owner_at(leader, cell) == m2["id"]
    assert member_ids_at(leader, cell) == [m1["id"], m3["id"]]
    assert owner_at(leader, cell, zulu(t2)) == m2["id"]
    assert member_ids_at(leader, cell, zulu(t2)) == [m1["id"], m3["id"]]
    assert owner_at(leader, cell, cst(t2 - SECOND)) == boss["id"]
    assert member_ids_at(leader, cell, cst(t2 - SECOND)) == [m1["id"], m2["id"], m3["id"]]
    assert member_ids_at(leader, cell, cst(t1 + timedelta(minutes=30))) == [m1["id"]]
    roles = ok(leader.get(f"{API}/officers/{m2['id']}/cells", query_string={"at": zulu(t2)}))["items"]
    assert [(a["cell_id"], a["role"]) for a in roles] == [(cell, "owner")]
    roles = ok(leader.get(f"{API}/officers/{m2['id']}/cells", query_string={"at": zulu(t2 - SECOND)}))["items"]
    assert [(a["cell_id"], a["role"]) for a in roles] == [(cell, "member")]
    assert_one_owner_and_no_overlap(leader, cell)


def test_valid_from_may_lie_in_the_past_but_not_in_the_future_nor_before_what_it_ends(world):
    leader = world.as_("leader_a")
    cell = world["cA2"]
    first, second, member = (officer_of_a(world, n) for n in range(1, 4))
    t0 = ago(days=5)
    owner = assigned(leader, cell, first["id"], valid_from=cst(t0))
    assert moment(owner["valid_from"]) == t0
    etag = team_etag(leader, cell)

    future = now() + timedelta(hours=1)
    for officer_id, role in ((second["id"], "owner"), (member["id"], "member")):
        body = assert_problem(
            assign(leader, cell, officer_id, role, valid_from=cst(future), if_match=etag), 422, "time-in-future"
        )
        assert body["errors"][0]["pointer"] == "/valid_from"
    for too_early in (t0, t0 - timedelta(days=1), t0 - SECOND):
        refused = assign(leader, cell, second["id"], valid_from=zulu(too_early), if_match=etag)
        assert assert_problem(refused, 422, "valid-from-too-early")["errors"][0]["pointer"] == "/valid_from"
    no_offset = assign(leader, cell, second["id"], valid_from="2024-01-01T08:00:00", if_match=etag)
    assert_problem(no_offset, 422, "time-without-offset")
    assert team_etag(leader, cell) == etag
    assert history(leader, cell_id=cell, include_superseded=True)["total"] == 1

    # a past interval is history: a backdated owner may not overlap it, but may start where it ended
    t1 = t0 + timedelta(days=1)
    ok(end(leader, owner["id"], valid_to=cst(t1)))
    overlapping = assign(leader, cell, second["id"], valid_from=zulu(t1 - timedelta(hours=12)))
    assert assert_problem(overlapping, 409, "overlaps-history")["assignment_id"] == owner["id"]
    assert owner_at(leader, cell) is None
    successor = assigned(leader, cell, second["id"], valid_from=zulu(t1))
    assert successor["ended_assignment_ids"] == []
    assert owner_at(leader, cell, cst(t1 - SECOND)) == first["id"]
    assert owner_at(leader, cell, cst(t1)) == second["id"]
    # a member backdated into the time before the owner's start is history too
    early_member = assigned(leader, cell, member["id"], "member", valid_from=cst(t0 - timedelta(days=2)))
    assert member_ids_at(leader, cell, zulu(t0 - timedelta(days=1))) == [member["id"]]
    assert owner_at(leader, cell, zulu(t0 - timedelta(days=1))) is None
    assert early_member["current"] is True
    assert_one_owner_and_no_overlap(leader, cell)


def test_an_officer_of_another_township_cannot_be_assigned(world):
    leader = world.as_("leader_a")
    there = new_officer(world.admin, 9, township_id=world["tB"])
    here = officer_of_a(world, 1)

    body = assert_problem(assign(world.admin, world["cA2"], there["id"]), 422, "officer-other-township")
    assert body["errors"][0]["pointer"] == "/officer_id"
    assert_problem(assign(world.admin, world["cB2"], here["id"], "member"), 422, "officer-other-township")
    # to a leader, the other township's officer and cell do not exist
    assert_problem(assign(leader, world["cA2"], there["id"], if_match="*"), 422, "officer-not-found")
    assert_problem(assign(leader, world["cB2"], here["id"], if_match="*"), 404, "not-found")
    assert world.names(history(world.admin, include_superseded=True)["items"], "a") == ["aA1", "aA2", "aB1"]
    assert owner_at(world.admin, world["cA2"]) is None and owner_at(world.admin, world["cB2"]) is None


def test_a_retired_cell_takes_nobody_and_a_cell_with_a_team_cannot_be_retired(world):
    leader = world.as_("leader_a")
    boss, helper, other = (officer_of_a(world, n) for n in range(1, 4))
    c1, c2 = world["cA2"], world["cA3"]

    ok(leader.post(f"{API}/grid-cells/{c2}/retire", headers={"If-Match": '"1"'}))
    assert_problem(assign(leader, c2, other["id"]), 409, "unit-retired")
    assert history(leader, cell_id=c2, include_superseded=True)["total"] == 0

    owner = assigned(leader, c1, boss["id"], valid_from=cst(ago(days=3)))
    member = assigned(leader, c1, helper["id"], "member", valid_from=cst(ago(days=2)))
    refused = leader.post(f"{API}/grid-cells/{c1}/retire", headers={"If-Match": '"1"'})
    assert_problem(refused, 409, "cell-has-team")
    still = ok(leader.get(f"{API}/grid-cells/{c1}"))
    assert still["retired_at"] is None and still["version"] == 1

    ok(end(leader, owner["id"], reason="网格撤并"))  # a member alone is a team too
    assert_problem(leader.post(f"{API}/grid-cells/{c1}/retire", headers={"If-Match": '"1"'}), 409, "cell-has-team")
    ok(end(leader, member["id"], reason="调岗"))
    retired = ok(leader.post(f"{API}/grid-cells/{c1}/retire", headers={"If-Match": '"1"'}))
    assert retired["retired_at"] is not None

    # the history of the retired cell is kept
    assert owner_at(leader, c1, zulu(ago(days=1))) == boss["id"]
    assert member_ids_at(leader, c1, zulu(ago(days=1))) == [helper["id"]]
    assert owner_at(leader, c1) is None
    assert history(leader, cell_id=c1)["total"] == 2
    assert_problem(assign(leader, c1, other["id"]), 409, "unit-retired")


# ---- the team's ETag ------------------------------------------------------------------------------------------------


def test_the_team_etag_guards_every_change_of_the_team(world):
    leader = world.as_("leader_a")
    cell = world["cA2"]
    a, b, m = (officer_of_a(world, n) for n in range(1, 4))
    empty = team_etag(leader, cell)
    first = assigned(leader, cell, a["id"], if_match=empty)
    with_a = team_etag(leader, cell)
    assert with_a != empty

    stale = assign(leader, cell, b["id"], if_match=empty)
    body = assert_problem(stale, 412, "precondition-failed")
    assert f'"{body["current_etag"]}"' == with_a
    assert_problem(assign(leader, cell, b["id"], if_match=None), 428, "precondition-required")
    assert_problem(assign(leader, cell, b["id"], if_match="team-0000"), 412, "precondition-failed")
    assert owner_at(leader, cell) == a["id"]
    assert team_etag(leader, cell) == with_a
    assert history(leader, cell_id=cell, include_superseded=True)["total"] == 1
    assert assignment(leader, first["id"])["current"] is True

    joined = assigned(leader, cell, m["id"], "member", if_match=with_a)
    with_m = team_etag(leader, cell)
    assert with_m not in (with_a, empty)
    assert_problem(assign(leader, cell, b["id"], if_match=with_a), 412, "precondition-failed")

    replaced = assigned(leader, cell, b["id"], if_match="*")
    assert replaced["ended_assignment_ids"] == [first["id"]]
    assert owner_at(leader, cell) == b["id"] and member_ids_at(leader, cell) == [m["id"]]
    after = team_etag(leader, cell)
    assert after != with_m
    ok(end(leader, joined["id"]))
    assert team_etag(leader, cell) not in (after, with_m)
