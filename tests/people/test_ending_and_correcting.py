"""Ending and correcting grid assignments: an end in the past or now, a correction that keeps the original and
answers the corrected officer, a correction that would overlap refused without a trace, and the audit trail of
every assignment write.

The county is the `world` fixture's (tests/conftest.py): the tests work in its empty cell cA2, with officers the
leader of township A registers. Every test runs on SpatiaLite and on PostGIS (see conftest.py).
"""

from __future__ import annotations

from datetime import timedelta

from tests.factories import API, ago, assert_problem, moment, ok
from tests.people.teams import (
    SECOND,
    all_rows_total,
    assert_one_owner_and_no_overlap,
    assigned,
    assignment,
    audit_total,
    cell_codes,
    cell_ids_of,
    correct,
    cst,
    end,
    history,
    member_ids_at,
    now,
    officer_of_a,
    owner_at,
    team,
    zulu,
)

# ---- ending and correcting ------------------------------------------------------------------------------------------


def test_ending_an_assignment_in_the_past_or_now(world):
    leader = world.as_("leader_a")
    cell = world["cA2"]
    boss, helper, third = (officer_of_a(world, n) for n in range(1, 4))
    t0 = ago(days=3)
    owner = assigned(leader, cell, boss["id"], valid_from=zulu(t0))
    member = assigned(leader, cell, helper["id"], "member", valid_from=zulu(t0 + timedelta(hours=1)))
    url = f"{API}/grid-assignments/{owner['id']}/end"

    assert_problem(leader.post(url, json={"reason": "调岗"}), 428, "precondition-required")
    assert_problem(leader.post(url, json={"reason": "调岗"}, headers={"If-Match": '"5"'}), 412, "precondition-failed")
    future = end(leader, owner["id"], valid_to=cst(now() + timedelta(hours=2)))
    assert assert_problem(future, 422, "time-in-future")["errors"][0]["pointer"] == "/valid_to"
    assert assignment(leader, owner["id"])["current"] is True

    t1 = t0 + timedelta(days=1)
    response = leader.post(url, json={"reason": "调岗", "valid_to": cst(t1)}, headers={"If-Match": '"1"'})
    ended = ok(response)
    assert moment(ended["valid_to"]) == t1 and ended["current"] is False
    assert ended["end_reason"] == "调岗" and ended["ended_by_id"] == world["u_leader_a"]
    assert abs(now() - moment(ended["ended_at"])) < timedelta(minutes=1)
    assert ended["version"] == 2 and response.headers["ETag"] == '"2"'
    assert moment(ended["valid_from"]) == t0 and ended["officer"]["id"] == boss["id"]

    for tag in ('"2"', "*"):
        again = leader.post(url, json={"reason": "再次"}, headers={"If-Match": tag})
        assert_problem(again, 409, "already-ended")
    assert moment(assignment(leader, owner["id"])["valid_to"]) == t1

    by_default = ok(end(leader, member["id"], reason="离职"))
    assert abs(now() - moment(by_default["valid_to"])) < timedelta(minutes=1)
    assert by_default["end_reason"] == "离职"

    assert owner_at(leader, cell) is None and member_ids_at(leader, cell) == []
    assert owner_at(leader, cell, cst(t1 - SECOND)) == boss["id"]
    assert owner_at(leader, cell, cst(t1)) is None
    assert member_ids_at(leader, cell, cst(t1)) == [helper["id"]]
    assert world.record("cA2")["code"] in cell_codes(leader, has_owner="false")

    # an end before the start is refused
    later = assigned(leader, cell, third["id"], valid_from=zulu(ago(hours=5)))
    assert_problem(end(leader, later["id"], valid_to=zulu(ago(hours=6))), 422, "valid-to-before-valid-from")
    assert assignment(leader, later["id"])["current"] is True


def test_correcting_the_current_owner_keeps_the_original_and_answers_the_corrected_officer(world):
    leader = world.as_("leader_a")
    cell = world["cA2"]
    typo, meant = officer_of_a(world, 1), officer_of_a(world, 2)
    t0 = ago(days=2)
    original = assigned(leader, cell, typo["id"], valid_from=cst(t0), reason="乡镇党委任命")
    totals = [all_rows_total(leader)]
    url = f"{API}/grid-assignments/{original['id']}/correct"

    assert_problem(
        leader.post(url, json={"reason": "录入错误", "officer_id": meant["id"]}), 428, "precondition-required"
    )
    assert_problem(correct(leader, original["id"], officer_id=meant["id"], if_match='"3"'), 412, "precondition-failed")
    assert_problem(correct(leader, original["id"]), 422, "empty-correction")
    totals.append(all_rows_total(leader))

    response = correct(leader, original["id"], officer_id=meant["id"], reason="录入错误：网格长应为李强")
    correction = ok(response, 201)
    assert response.headers["Location"].endswith(f"{API}/grid-assignments/{correction['id']}")
    assert correction["id"] != original["id"]
    assert correction["officer"]["id"] == meant["id"] and correction["role"] == "owner"
    assert correction["corrects_id"] == original["id"]
    assert correction["correction_reason"] == "录入错误：网格长应为李强"
    assert moment(correction["valid_from"]) == t0 and correction["valid_to"] is None
    assert correction["current"] is True and correction["reason"] == "乡镇党委任命"
    totals.append(all_rows_total(leader))

    kept = assignment(leader, original["id"])
    assert kept["officer"]["id"] == typo["id"] and kept["role"] == "owner"
    assert moment(kept["valid_from"]) == t0 and kept["valid_to"] is None
    assert kept["reason"] == "乡镇党委任命" and kept["corrects_id"] is None
    assert kept["superseded_at"] is not None and kept["superseded_by_assignment_id"] == correction["id"]
    assert kept["superseded_by_id"] == world["u_leader_a"] and kept["current"] is False

    # now and in the past: the corrected officer
    assert owner_at(leader, cell) == meant["id"]
    assert team(leader, cell)["owner"]["id"] == correction["id"]
    for instant in (cst(t0), zulu(t0 + timedelta(hours=1)), cst(ago(minutes=1))):
        assert owner_at(leader, cell, instant) == meant["id"], instant
        assert cell_ids_of(leader, meant["id"], instant) == [cell]
        assert cell_ids_of(leader, typo["id"], instant) == []
    assert owner_at(leader, cell, zulu(t0 - SECOND)) is None
    assert cell_ids_of(leader, typo["id"]) == [] and cell_ids_of(leader, meant["id"]) == [cell]
    assert [a["id"] for a in history(leader, at=zulu(t0 + SECOND))["items"]] == [correction["id"]]

    # the lists: the correction by default, both when asked
    assert [a["id"] for a in history(leader, cell_id=cell)["items"]] == [correction["id"]]
    both = history(leader, cell_id=cell, include_superseded=True)
    assert sorted(a["id"] for a in both["items"]) == sorted([original["id"], correction["id"]])
    assert both["total"] == 2
    assert [a["id"] for a in history(leader, cell_id=cell, current=False)["items"]] == []

    # a superseded entry cannot be corrected (nor ended) again: work on the correction
    for tag in (f'"{kept["version"]}"', "*"):
        again = correct(leader, original["id"], officer_id=typo["id"], if_match=tag)
        assert_problem(again, 409, "assignment-superseded")
        assert_problem(end(leader, original["id"], if_match=tag), 409, "assignment-superseded")
    assert assignment(leader, original["id"]) == kept
    totals.append(all_rows_total(leader))

    # the correction itself may be ended: the history still has it
    ok(end(leader, correction["id"]))
    totals.append(all_rows_total(leader))
    assert owner_at(leader, cell, cst(t0 + SECOND)) == meant["id"]
    assert totals == sorted(totals) and totals[-1] == 4, totals  # the world's aA1 and aA2, original, correction


def test_a_correction_that_would_overlap_another_owner_changes_nothing(world):
    leader = world.as_("leader_a")
    cell = world["cA2"]
    a, b, c = (officer_of_a(world, n) for n in range(1, 4))
    t0, t1 = ago(days=6), ago(days=3)
    first = assigned(leader, cell, a["id"], valid_from=cst(t0))
    second = assigned(leader, cell, b["id"], valid_from=zulu(t1))
    member = assigned(leader, cell, c["id"], "member", valid_from=zulu(t1 + timedelta(hours=1)))
    before = {i: assignment(leader, i) for i in (first["id"], second["id"], member["id"])}
    total = all_rows_total(leader)
    audited = audit_total(world.admin)

    refusals = [
        (first["id"], {"valid_to": zulu(t1 + timedelta(hours=1))}, second["id"]),
        (first["id"], {"valid_to": None}, second["id"]),
        (second["id"], {"valid_from": cst(t1 - timedelta(hours=1))}, first["id"]),
        (member["id"], {"role": "owner"}, second["id"]),  # a second current owner
        (member["id"], {"officer_id": b["id"]}, second["id"]),  # b would hold two places in the cell
    ]
    for assignment_id, changes, overlapped in refusals:
        body = assert_problem(correct(leader, assignment_id, **changes), 409, "overlaps-history")
        assert body["assignment_id"] == overlapped, (changes, body)

    for assignment_id, was in before.items():
        assert assignment(leader, assignment_id) == was
    assert all_rows_total(leader) == total
    assert audit_total(world.admin) == audited  # a refused write leaves no trace either
    assert owner_at(leader, cell, cst(t1 - SECOND)) == a["id"]
    assert owner_at(leader, cell, cst(t1)) == b["id"]
    assert owner_at(leader, cell) == b["id"]

    # a correction that fits the history goes through: the first owner started a day earlier
    moved = ok(correct(leader, first["id"], valid_from=cst(t0 - timedelta(days=1))), 201)
    assert moment(moved["valid_from"]) == t0 - timedelta(days=1) and moment(moved["valid_to"]) == t1
    assert owner_at(leader, cell, zulu(t0 - timedelta(hours=12))) == a["id"]
    assert all_rows_total(leader) == total + 1
    assert_one_owner_and_no_overlap(leader, cell)


# ---- the audit trail ------------------------------------------------------------------------------------------------


def test_the_audit_trail_records_every_assignment_write_with_its_leader_and_values(world):
    leader = world.as_("leader_a")
    cell = world["cA2"]
    a, b, c, d = (officer_of_a(world, n) for n in range(1, 5))
    t0, t1, t2, t3 = ago(days=8), ago(days=6), ago(days=4), ago(days=2)
    first = assigned(leader, cell, a["id"], valid_from=cst(t0), reason="任命")
    second = assigned(leader, cell, b["id"], valid_from=zulu(t1), reason="轮换")
    ok(end(leader, second["id"], valid_to=cst(t2), reason="调岗"))
    third = assigned(leader, cell, c["id"], valid_from=cst(t3), reason="新任")
    fourth = ok(correct(leader, third["id"], officer_id=d["id"], reason="录入错误"), 201)

    query = {"entity_type": "grid_assignments", "page_size": 500}
    everything = ok(world.admin.get(f"{API}/audit-events", query_string=query))["items"]
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)  # newest first
    # the world's teams were assigned by the administrator; everything else is this test's leader's
    built = sorted(world[name] for name in ("aA1", "aA2", "aB1"))
    by_admin = sorted((e["entity_id"], e["action"], e["actor"]) for e in everything if e["entity_id"] in built)
    assert by_admin == [(assignment_id, "create", "root") for assignment_id in built]
    events = [e for e in everything if e["entity_id"] not in built]
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
        assert event["actor"] == "leader-a" and event["actor_user_id"] == world["u_leader_a"], event
        assert event["entity_type"] == "grid_assignments" and event["township_id"] == world["tA"]
        assert abs(now() - moment(event["occurred_at"])) < timedelta(minutes=5)

    created = by[(first["id"], "create")]
    assert created["before"] is None
    assert created["after"]["officer_id"] == a["id"] and created["after"]["cell_id"] == cell
    assert created["after"]["role"] == "owner" and created["after"]["reason"] == "任命"
    assert moment(created["after"]["valid_from"]) == t0 and created["after"]["valid_to"] is None

    handed_over = by[(first["id"], "end")]
    assert handed_over["before"]["valid_to"] is None and handed_over["before"]["end_reason"] is None
    assert moment(handed_over["after"]["valid_to"]) == t1
    assert "轮换" in handed_over["after"]["end_reason"] and handed_over["after"]["ended_by_id"] == world["u_leader_a"]

    ended = by[(second["id"], "end")]
    assert ended["before"]["valid_to"] is None
    assert moment(ended["after"]["valid_to"]) == t2 and ended["after"]["end_reason"] == "调岗"
    assert by[(second["id"], "create")]["after"]["officer_id"] == b["id"]

    superseded = by[(third["id"], "supersede")]
    assert superseded["before"]["superseded_at"] is None and superseded["after"]["superseded_at"] is not None
    assert superseded["after"]["superseded_by_id"] == world["u_leader_a"]
    assert "officer_id" not in superseded["after"]  # the original keeps its values
    correction = by[(fourth["id"], "create")]["after"]
    assert correction["corrects_id"] == third["id"] and correction["correction_reason"] == "录入错误"
    assert correction["officer_id"] == d["id"] and moment(correction["valid_from"]) == t3

    one = ok(
        world.admin.get(
            f"{API}/audit-events", query_string={"entity_type": "grid_assignments", "entity_id": first["id"]}
        )
    )
    assert [e["action"] for e in one["items"]] == ["end", "create"]
    assert_problem(leader.get(f"{API}/audit-events"), 403, "forbidden")
