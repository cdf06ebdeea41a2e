"""Nothing of township B reaches a caller of township A: every verb against B's objects (or naming them in a body)
answers exactly as it would for an id that does not exist, and changes nothing.

The callers and the county are the `world` fixture's (tests/conftest.py). Every test runs on SpatiaLite and on
PostGIS (see conftest.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from tests import factories as f
from tests.access.outcomes import (
    ATTACKERS,
    FORBIDDEN,
    NEW_VIEWER,
    NO_CELL_HERE,
    NOT_FOUND,
    OFFICER_NOT_FOUND,
    OK,
    PARENT_NOT_FOUND,
    TOWNSHIP_NOT_FOUND,
    Outcome,
    locate_path,
    outcome_of,
    send,
)
from tests.factories import API, MISSING, assert_unchanged, at, rect, snapshot

NOWHERE = at(7000, 3000)  # inside township B's box, but in no village and no cell
B_KEYS = ("tB", "vB1", "cB1", "cB2", "oB1", "oB2", "aB1", "u_leader_b", "u_officer_b", "u_viewer_b")


def comparable(response) -> tuple[Any, ...]:
    """What a caller learns from an answer, minus the id it echoes (`detail`, `instance`)."""
    body = response.get_json(force=True, silent=True) or {}
    if response.status_code < 400:
        return response.status_code, body
    errors = sorted((e.get("in"), e.get("field"), e.get("code")) for e in body.get("errors", []))
    return response.status_code, body.get("code"), sorted(set(body) - {"detail", "instance"}), errors


@dataclass(frozen=True)
class Attempt:
    label: str
    method: str
    path: str
    body: Any
    expected: tuple[Outcome, Outcome, Outcome]  # for leader_a, officer_a, viewer_a


def cross_township_attempts(i: Mapping[str, Any]) -> list[Attempt]:
    """Every verb against township B's objects (or naming them in a body). `i` holds B's real ids, or ids that do
    not exist: the answers must be the same."""
    nf, no, empty = NOT_FOUND, FORBIDDEN, OK
    reads = (nf, nf, nf)
    leader_only = (nf, no, no)
    a = Attempt
    return [
        a("read township B", "GET", f"townships/{i['tB']}", None, reads),
        a("rename township B", "PATCH", f"townships/{i['tB']}", {"name": "并入"}, (no, no, no)),
        a("retire township B", "POST", f"townships/{i['tB']}/retire", None, (no, no, no)),
        a("read village B", "GET", f"villages/{i['vB1']}", None, reads),
        a("rename village B", "PATCH", f"villages/{i['vB1']}", {"name": "并入村"}, leader_only),
        a("redraw village B", "PATCH", f"villages/{i['vB1']}", {"boundary": rect(4000, 0, 6000, 2500)}, leader_only),
        a("retire village B", "POST", f"villages/{i['vB1']}/retire", None, leader_only),
        a("coverage gaps of village B", "GET", f"villages/{i['vB1']}/coverage-gaps", None, (nf, no, nf)),
        a(
            "create a village in township B",
            "POST",
            "villages",
            {"township_id": i["tB"], "code": "430199102202", "name": "新村", "boundary": rect(6000, 0, 8000, 2000)},
            (PARENT_NOT_FOUND, no, no),
        ),
        a("read cell B", "GET", f"grid-cells/{i['cB1']}", None, reads),
        a("rename cell B", "PATCH", f"grid-cells/{i['cB2']}", {"name": "并入网格"}, leader_only),
        a("retire cell B (no team)", "POST", f"grid-cells/{i['cB2']}/retire", None, leader_only),
        a("retire cell B (with team)", "POST", f"grid-cells/{i['cB1']}/retire", None, leader_only),
        a(
            "create a cell in village B",
            "POST",
            "grid-cells",
            {
                "village_id": i["vB1"],
                "code": "430199102201003",
                "name": "新网格",
                "boundary": rect(4000, 1000, 5000, 2000),
            },
            (PARENT_NOT_FOUND, no, no),
        ),
        a("locate a point in cell B", "GET", locate_path(i["pB"]), None, (NO_CELL_HERE,) * 3),
        a("read the team of cell B", "GET", f"grid-cells/{i['cB1']}/team", None, reads),
        a(
            "assign to cell B",
            "POST",
            f"grid-cells/{i['cB2']}/assignments",
            {"officer_id": i["oB2"], "role": "owner", "reason": "接管"},
            leader_only,
        ),
        a(
            "assign officer B to a cell of A",
            "POST",
            f"grid-cells/{i['cA2']}/assignments",
            {"officer_id": i["oB2"], "role": "owner", "reason": "借调"},
            (OFFICER_NOT_FOUND, no, no),
        ),
        a("read assignment B", "GET", f"grid-assignments/{i['aB1']}", None, reads),
        a("end assignment B", "POST", f"grid-assignments/{i['aB1']}/end", {"reason": "调岗"}, leader_only),
        a(
            "correct assignment B",
            "POST",
            f"grid-assignments/{i['aB1']}/correct",
            {"reason": "录入错误", "valid_from": "2024-01-01T00:00:00+08:00"},
            leader_only,
        ),
        a(
            "correct an assignment of A to officer B",
            "POST",
            f"grid-assignments/{i['aA2']}/correct",
            {"reason": "录入错误", "officer_id": i["oB2"]},
            (OFFICER_NOT_FOUND, no, no),
        ),
        a("read officer B", "GET", f"officers/{i['oB1']}", None, reads),
        a("change officer B", "PATCH", f"officers/{i['oB1']}", {"mobile": "13700137000"}, leader_only),
        a("deactivate officer B", "POST", f"officers/{i['oB1']}/deactivate", {"reason": "调离"}, leader_only),
        a("read officer B's cells", "GET", f"officers/{i['oB1']}/cells", None, reads),
        a(
            "register an officer in township B",
            "POST",
            "officers",
            {"name": "钱七", "mobile": "13600136000", "township_id": i["tB"]},
            (TOWNSHIP_NOT_FOUND, no, no),
        ),
        a(
            "move an officer of A to township B",
            "PATCH",
            f"officers/{i['oA2']}",
            {"township_id": i["tB"]},
            (TOWNSHIP_NOT_FOUND, no, no),
        ),
        a("read leader B's account", "GET", f"users/{i['u_leader_b']}", None, (nf, no, no)),
        a("read viewer B's account", "GET", f"users/{i['u_viewer_b']}", None, (nf, no, no)),
        a("rename viewer B's account", "PATCH", f"users/{i['u_viewer_b']}", {"display_name": "x"}, leader_only),
        a("deactivate officer B's account", "POST", f"users/{i['u_officer_b']}/deactivate", None, leader_only),
        a(
            "reset viewer B's password",
            "POST",
            f"users/{i['u_viewer_b']}/password",
            {"new_password": "taken over by A"},
            leader_only,
        ),
        a(
            "create a viewer of township B",
            "POST",
            "users",
            {**NEW_VIEWER, "username": "spy-viewer", "township_id": i["tB"]},
            (TOWNSHIP_NOT_FOUND, no, no),
        ),
        a(
            "create an account for officer B",
            "POST",
            "users",
            {**NEW_VIEWER, "username": "spy-officer", "role": "grid_officer", "officer_id": i["oB2"]},
            (OFFICER_NOT_FOUND, no, no),
        ),
        a(
            "move a viewer of A to township B",
            "PATCH",
            f"users/{i['u_viewer_a']}",
            {"township_id": i["tB"]},
            (TOWNSHIP_NOT_FOUND, no, no),
        ),
        a("list villages of township B", "GET", f"villages?township_id={i['tB']}", None, (empty,) * 3),
        a("list cells of village B", "GET", f"grid-cells?village_id={i['vB1']}", None, (empty,) * 3),
        a("list officers of township B", "GET", f"officers?township_id={i['tB']}", None, (empty,) * 3),
        a("list assignments of cell B", "GET", f"grid-assignments?cell_id={i['cB1']}", None, (empty,) * 3),
        a("list assignments of officer B", "GET", f"grid-assignments?officer_id={i['oB1']}", None, (empty,) * 3),
        a("list accounts of township B", "GET", f"users?township_id={i['tB']}", None, (empty, no, no)),
    ]


@pytest.mark.parametrize("who", ATTACKERS)
def test_township_b_answers_a_caller_of_township_a_as_if_it_did_not_exist(world, who):
    attacker = world.as_(who)
    leader_b = world.as_("leader_b")
    real = {**world.ids, "pB": at(4500, 500)}
    missing = {**world.ids, **dict.fromkeys(B_KEYS, MISSING), "pB": NOWHERE}
    before = snapshot(world.admin)

    mismatches = []
    for attempt, twin in zip(cross_township_attempts(real), cross_township_attempts(missing), strict=True):
        expected = attempt.expected[ATTACKERS.index(who)]
        against_b = send(attacker, attempt.method, attempt.path, attempt.body)
        against_nothing = send(attacker, twin.method, twin.path, twin.body)
        if outcome_of(against_b) != expected:
            mismatches.append(f"{attempt.label}: expected {expected}, got {outcome_of(against_b)}")
        if comparable(against_b) != comparable(against_nothing):
            mismatches.append(
                f"{attempt.label}: answers {comparable(against_b)}, but {comparable(against_nothing)} "
                "for an id that does not exist"
            )
        if expected == OK and against_b.get_json()["items"] != []:
            mismatches.append(f"{attempt.label}: lists rows of township B")

    assert mismatches == []
    assert_unchanged(before, snapshot(world.admin))
    # township B's people were not logged out, and their passwords still work
    assert leader_b.get(f"{API}/auth/me").status_code == 200
    assert f.token_for(world.app, "viewer-b")["user"]["id"] == world["u_viewer_b"]
