"""At most one current owner per cell, whatever happens: the database's own guarantees (partial unique indexes),
and two leaders writing at the same moment.

The county is the `world` fixture's (tests/conftest.py): the tests work in its empty cells cA2 and cA3, with
officers the leader of township A registers. Every test runs on SpatiaLite and on PostGIS (see conftest.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
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
from tests.factories import API, ago, assert_problem, moment, ok, race
from tests.people.teams import (
    SECOND,
    all_rows_total,
    assert_one_owner_and_no_overlap,
    assign,
    assigned,
    assignment,
    cell_ids_of,
    correct,
    history,
    member_ids_at,
    now,
    officer_of_a,
    owner_at,
    team,
    team_etag,
)

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


def test_the_database_holds_at_most_one_current_owner_per_cell(world, session):
    leader = world.as_("leader_a")
    cell = world.record("cA2")
    a, b, c = (officer_of_a(world, n) for n in range(1, 4))
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
    assert owner_at(leader, cell["id"]) == b["id"]


def test_the_database_holds_at_most_one_current_assignment_per_cell_and_officer(world, session):
    leader = world.as_("leader_a")
    cell, other_cell = world.record("cA2"), world.record("cA3")
    a, b = officer_of_a(world, 1), officer_of_a(world, 2)
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
    assert member_ids_at(leader, cell["id"]) == sorted([a["id"], b["id"]])
    assert owner_at(leader, cell["id"]) is None


# ---- two leaders at the same moment ---------------------------------------------------------------------------------


@pytest.fixture
def two_leaders(app: Flask, world) -> list[FlaskClient]:
    """The world's leader of township A and a second leader of the same township."""
    second = f.login_as(app, Role.TOWNSHIP_LEADER, username="leader-a-2", township_id=world["tA"])
    return [world.as_("leader_a"), second]


def _assign_as(cell_id: int, officer_id: int, if_match: str) -> Callable[[FlaskClient], Any]:
    return lambda c: assign(c, cell_id, officer_id, if_match=if_match, reason="同时指派")


def test_two_leaders_assigning_owners_with_if_match_star_both_succeed_in_turn(world, two_leaders):
    leader = world.as_("leader_a")
    cell = world["cA2"]
    n = 0
    for attempt in range(3):
        n += 2
        x, y = officer_of_a(world, n - 1), officer_of_a(world, n)
        previous = team(leader, cell)["owner"]

        answers = race(two_leaders, _assign_as(cell, x["id"], "*"), _assign_as(cell, y["id"], "*"))

        assert [a.status_code for a in answers] == [201, 201], [a.get_json() for a in answers]
        first, second = sorted((a.get_json() for a in answers), key=lambda a: moment(a["valid_from"]))
        assert moment(first["valid_from"]) < moment(second["valid_from"]), attempt
        assert second["ended_assignment_ids"] == [first["id"]]
        assert first["ended_assignment_ids"] == ([previous["id"]] if previous else [])
        assert moment(assignment(leader, first["id"])["valid_to"]) == moment(second["valid_from"])
        assert owner_at(leader, cell) == second["officer"]["id"]
        assert_one_owner_and_no_overlap(leader, cell)
    assert len(history(leader, cell_id=cell, role="owner")["items"]) == 6


def test_two_leaders_assigning_owners_from_the_same_team_etag_exactly_one_wins(world, two_leaders):
    leader = world.as_("leader_a")
    cell = world["cA2"]
    n = 0
    for _attempt in range(3):
        n += 2
        x, y = officer_of_a(world, n - 1), officer_of_a(world, n)
        etag = team_etag(leader, cell)

        answers = race(two_leaders, _assign_as(cell, x["id"], etag), _assign_as(cell, y["id"], etag))

        assert sorted(a.status_code for a in answers) == [201, 412], [a.get_json() for a in answers]
        winner = next(a for a in answers if a.status_code == 201).get_json()
        assert_problem(next(a for a in answers if a.status_code == 412), 412, "precondition-failed")
        assert owner_at(leader, cell) == winner["officer"]["id"]
        assert team_etag(leader, cell) != etag
        assert_one_owner_and_no_overlap(leader, cell)
    assert len(history(leader, cell_id=cell, role="owner", include_superseded=True)["items"]) == 3


def test_two_leaders_correcting_the_same_entry_at_the_same_moment_make_one_correction(world, two_leaders):
    leader = world.as_("leader_a")
    cell = world["cA2"]
    n = 0
    for attempt in range(3):
        n += 3
        typo, x, y = officer_of_a(world, n - 2), officer_of_a(world, n - 1), officer_of_a(world, n)
        entry = assigned(leader, cell, typo["id"], if_match="*")
        total = all_rows_total(leader)

        def fix(officer_id: int, entry_id: int = entry["id"]) -> Callable[[FlaskClient], Any]:
            return lambda c: correct(c, entry_id, officer_id=officer_id, if_match="*")

        answers = race(two_leaders, fix(x["id"]), fix(y["id"]))

        assert sorted(a.status_code for a in answers) == [201, 409], [a.get_json() for a in answers]
        winner = next(a for a in answers if a.status_code == 201).get_json()
        assert_problem(next(a for a in answers if a.status_code == 409), 409, "assignment-superseded")
        assert all_rows_total(leader) == total + 1, attempt
        assert assignment(leader, entry["id"])["superseded_by_assignment_id"] == winner["id"]
        assert owner_at(leader, cell) == winner["officer"]["id"]
        assert_one_owner_and_no_overlap(leader, cell)


def test_deactivating_an_officer_while_they_are_being_assigned_leaves_no_deactivated_officer_in_charge(
    world, two_leaders
):
    leader = world.as_("leader_a")
    for attempt in range(4):
        cell = (world.record("cA2") if attempt % 2 == 0 else world.record("cA3"))["id"]
        leaving = officer_of_a(world, attempt + 1)

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
        officer = ok(leader.get(f"{API}/officers/{leaving['id']}"))
        assert officer["active"] is False
        assert cell_ids_of(leader, leaving["id"]) == [], (attempt, [a.get_json() for a in answers])
        assert owner_at(leader, cell) != leaving["id"]


def test_retiring_a_cell_while_it_is_being_assigned_never_leaves_a_team_on_a_retired_cell(world, two_leaders):
    leader = world.as_("leader_a")
    codes = [f"{world.record('vA1')['code']}{k:03d}" for k in range(3, 6)]
    for k, code in enumerate(codes):
        cell = f.cell(world.admin, world["vA1"], code, box=(k * 300, 1000, k * 300 + 300, 1300), name=code)
        officer = officer_of_a(world, k + 1)

        answers = race(
            two_leaders,
            lambda c, cell=cell: c.post(f"{API}/grid-cells/{cell['id']}/retire", headers={"If-Match": '"1"'}),
            lambda c, cell=cell, o=officer: assign(c, cell["id"], o["id"], if_match="*"),
        )

        statuses = [a.status_code for a in answers]
        assert statuses in ([200, 409], [409, 201]), [a.get_json() for a in answers]
        now_cell = ok(leader.get(f"{API}/grid-cells/{cell['id']}", query_string={"include_retired": "true"}))
        if statuses == [200, 409]:
            assert_problem(answers[1], 409, "unit-retired")
            assert now_cell["retired_at"] is not None and owner_at(leader, cell["id"]) is None
        else:
            assert_problem(answers[0], 409, "cell-has-team")
            assert now_cell["retired_at"] is None and owner_at(leader, cell["id"]) == officer["id"]
