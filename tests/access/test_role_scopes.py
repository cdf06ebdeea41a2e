"""Each role against each endpoint family: lists hold exactly the rows in the caller's scope, items outside it are
not found, locate finds only cells in scope, and every endpoint or account a role may not touch is forbidden.

The callers are the `world` fixture's (tests/conftest.py): the county administrator, the leader of township A,
the grid officer who owns cell cA1, a viewer of township A and a viewer of the whole county. Every test runs on
SpatiaLite and on PostGIS (see conftest.py).
"""

from __future__ import annotations

import re
from typing import Any

from models.roles import Role
from tests.access.outcomes import (
    ATTACKERS,
    FORBIDDEN,
    NEW_VIEWER,
    NOT_FOUND,
    OK,
    ROLES,
    Outcome,
    locate_path,
    outcome_of,
    send,
)
from tests.factories import API, assert_problem, assert_unchanged, at, rect, snapshot

ALL_TOWNSHIPS = ["tA", "tB"]
ALL_VILLAGES = ["vA1", "vA2", "vB1"]
ALL_CELLS = ["cA1", "cA2", "cA3", "cB1", "cB2"]
CELLS_OF_A = ["cA1", "cA2", "cA3"]
ALL_OFFICERS = ["oA1", "oA2", "oB1", "oB2"]
ALL_ASSIGNMENTS = ["aA1", "aA2", "aB1"]
ALL_USERS = [
    "u_admin",
    "u_leader_a",
    "u_leader_b",
    "u_officer_a",
    "u_officer_b",
    "u_viewer_a",
    "u_viewer_b",
    "u_viewer_county",
]
USERS_OF_A = ["u_leader_a", "u_officer_a", "u_viewer_a"]

# (list, query, prefix of its rows' names, rows seen by: admin, leader_a, officer_a, viewer_a, viewer_county)
# FORBIDDEN: the role is not admitted.
LISTS: list[tuple[str, dict[str, str], str, tuple[Any, ...]]] = [
    ("townships", {}, "t", (ALL_TOWNSHIPS, ["tA"], ["tA"], ["tA"], ALL_TOWNSHIPS)),
    ("villages", {}, "v", (ALL_VILLAGES, ["vA1", "vA2"], ["vA1"], ["vA1", "vA2"], ALL_VILLAGES)),
    ("villages", {"township_id": "{tB}"}, "v", (["vB1"], [], [], [], ["vB1"])),
    ("grid-cells", {}, "c", (ALL_CELLS, CELLS_OF_A, ["cA1"], CELLS_OF_A, ALL_CELLS)),
    (
        "grid-cells",
        {"has_owner": "false"},
        "c",
        (["cA2", "cA3", "cB2"], ["cA2", "cA3"], [], ["cA2", "cA3"], ["cA2", "cA3", "cB2"]),
    ),
    ("grid-cells", {"has_owner": "true"}, "c", (["cA1", "cB1"], ["cA1"], ["cA1"], ["cA1"], ["cA1", "cB1"])),
    ("grid-cells", {"village_id": "{vB1}"}, "c", (["cB1", "cB2"], [], [], [], ["cB1", "cB2"])),
    ("grid-cells", {"township_id": "{tA}"}, "c", (CELLS_OF_A, CELLS_OF_A, ["cA1"], CELLS_OF_A, CELLS_OF_A)),
    ("officers", {}, "o", (ALL_OFFICERS, ["oA1", "oA2"], ["oA1"], ["oA1", "oA2"], ALL_OFFICERS)),
    ("officers", {"township_id": "{tB}"}, "o", (["oB1", "oB2"], [], [], [], ["oB1", "oB2"])),
    ("grid-assignments", {}, "a", (ALL_ASSIGNMENTS, ["aA1", "aA2"], ["aA1", "aA2"], ["aA1", "aA2"], ALL_ASSIGNMENTS)),
    ("grid-assignments", {"officer_id": "{oB1}"}, "a", (["aB1"], [], [], [], ["aB1"])),
    ("users", {}, "u_", (ALL_USERS, USERS_OF_A, FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    ("users", {"township_id": "{tB}"}, "u_", (["u_leader_b", "u_officer_b", "u_viewer_b"], [], *(FORBIDDEN,) * 3)),
]


def test_lists_hold_exactly_the_rows_in_each_callers_scope(world):
    mismatches = []
    for who in ROLES:
        caller = world.as_(who)
        for path, query, prefix, expected_by_role in LISTS:
            expected = expected_by_role[ROLES.index(who)]
            response = caller.get(f"{API}/{path}", query_string={**world.resolve(query), "count": "true"})
            label = f"{who}: GET {path} {query}"
            if expected == FORBIDDEN:
                if outcome_of(response) != FORBIDDEN:
                    mismatches.append(f"{label}: expected 403 forbidden, got {outcome_of(response)}")
                continue
            if response.status_code != 200:
                mismatches.append(f"{label}: expected 200, got {outcome_of(response)}")
                continue
            body = response.get_json()
            got = world.names(body["items"], prefix)
            if got != sorted(expected) or body["total"] != len(expected):
                mismatches.append(f"{label}: expected {sorted(expected)}, got {got} (total {body['total']})")

    assert mismatches == []


# (GET path, answer for: admin, leader_a, officer_a, viewer_a, viewer_county)
ITEM_READS: list[tuple[str, tuple[Outcome, ...]]] = [
    ("townships/{tA}", (OK, OK, OK, OK, OK)),
    ("townships/{tB}", (OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)),
    ("villages/{vA1}", (OK, OK, OK, OK, OK)),
    ("villages/{vB1}", (OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)),
    ("villages/{vA1}/coverage-gaps", (OK, OK, FORBIDDEN, OK, OK)),
    ("villages/{vB1}/coverage-gaps", (OK, NOT_FOUND, FORBIDDEN, NOT_FOUND, OK)),
    ("grid-cells/{cA1}", (OK, OK, OK, OK, OK)),
    ("grid-cells/{cA2}", (OK, OK, NOT_FOUND, OK, OK)),
    ("grid-cells/{cB1}", (OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)),
    ("grid-cells/{cA1}/team", (OK, OK, OK, OK, OK)),
    ("grid-cells/{cA2}/team", (OK, OK, NOT_FOUND, OK, OK)),
    ("grid-cells/{cB1}/team", (OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)),
    ("officers/{oA1}", (OK, OK, OK, OK, OK)),
    ("officers/{oA2}", (OK, OK, NOT_FOUND, OK, OK)),  # in officer_a's team, but not officer_a
    ("officers/{oB1}", (OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)),
    ("officers/{oA1}/cells", (OK, OK, OK, OK, OK)),
    ("officers/{oA2}/cells", (OK, OK, NOT_FOUND, OK, OK)),
    ("officers/{oB1}/cells", (OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)),
    ("grid-assignments/{aA1}", (OK, OK, OK, OK, OK)),
    ("grid-assignments/{aA2}", (OK, OK, OK, OK, OK)),  # an assignment of officer_a's cell
    ("grid-assignments/{aB1}", (OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)),
    ("users/{u_viewer_a}", (OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    ("users/{u_officer_a}", (OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    ("users/{u_leader_b}", (OK, NOT_FOUND, FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    ("users/{u_admin}", (OK, NOT_FOUND, FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    ("audit-events", (OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    ("auth/me", (OK, OK, OK, OK, OK)),
]


def _answered_id(path: str, body: dict[str, Any]) -> Any:
    if path.endswith("/team"):
        return body["cell"]["id"]
    if path.endswith("/coverage-gaps"):
        return body["village_id"]
    if path.endswith("/cells"):
        return body["officer_id"]
    return body.get("id")


def test_items_in_scope_are_answered_and_items_outside_it_are_not_found(world):
    mismatches = []
    for who in ROLES:
        caller = world.as_(who)
        for template, expected_by_role in ITEM_READS:
            expected = expected_by_role[ROLES.index(who)]
            path = world.resolve(template)
            response = caller.get(f"{API}/{path}")
            got = outcome_of(response)
            label = f"{who}: GET {template}"
            if got != expected:
                mismatches.append(f"{label}: expected {expected}, got {got}")
                continue
            if expected == OK and "{" in template:
                wanted = world[re.search(r"\{(\w+)\}", template).group(1)]
                if _answered_id(path, response.get_json()) != wanted:
                    mismatches.append(f"{label}: answered another object")
                if response.headers.get("ETag") is None and not path.endswith(("/coverage-gaps", "/cells")):
                    mismatches.append(f"{label}: no ETag")

    assert mismatches == []


# (point, the cell found by: admin, leader_a, officer_a, viewer_a, viewer_county; None: 404 no-cell-here)
LOCATES = [
    ((500, 500), ("cA1", "cA1", "cA1", "cA1", "cA1")),
    ((1500, 500), ("cA2", "cA2", None, "cA2", "cA2")),
    ((2500, 500), ("cA3", "cA3", None, "cA3", "cA3")),
    ((4500, 500), ("cB1", None, None, None, "cB1")),
    ((5500, 500), ("cB2", None, None, None, "cB2")),
]


def test_locate_finds_only_cells_in_the_callers_scope(world):
    found: dict[str, list[str | None]] = {}
    for who in ROLES:
        found[who] = []
        for (x, y), _ in LOCATES:
            response = world.as_(who).get(f"{API}/{locate_path(at(x, y))}")
            if response.status_code == 200:
                found[who].append(world.names([response.get_json()], "c")[0])
            else:
                assert_problem(response, 404, "no-cell-here")
                found[who].append(None)

    assert found == {who: [cells[ROLES.index(who)] for _, cells in LOCATES] for who in ROLES}


# (role, scope fields from /auth/me: county_wide, township, officer, cell_ids, read_only)
ME = {
    "admin": (Role.COUNTY_ADMIN, True, None, None, None, False),
    "leader_a": (Role.TOWNSHIP_LEADER, False, "tA", None, None, False),
    # read_only describes the role: a viewer never writes; a grid officer will record patrols (a later issue)
    "officer_a": (Role.GRID_OFFICER, False, "tA", "oA1", ["cA1"], False),
    "viewer_a": (Role.VIEWER, False, "tA", None, None, True),
    "viewer_county": (Role.VIEWER, True, None, None, None, True),
}


def test_me_tells_each_caller_their_role_and_scope(world):
    def named(key: str | None) -> int | None:
        return world[key] if key else None

    got, expected = {}, {}
    for who in ROLES:
        response = world.as_(who).get(f"{API}/auth/me")
        assert response.status_code == 200
        body = response.get_json()
        scope = body["scope"]
        assert body["id"] == world[f"u_{who}"]
        assert "password_hash" not in body
        got[who] = (body["role"], scope["county_wide"], scope["township_id"], scope["officer_id"], scope["cell_ids"])
        got[who] += (scope["read_only"],)
        role, county_wide, township, officer, cells, read_only = ME[who]
        cell_ids = [world[c] for c in cells] if cells is not None else None
        expected[who] = (role.value, county_wide, named(township), named(officer), cell_ids, read_only)

    assert got == expected


# (method, path, body, answer for: leader_a, officer_a, viewer_a; None: admitted, tested elsewhere)
# The bodies are valid and every write sends If-Match: *, so a role gate that let the call through would show.
NEW_VILLAGE = {"township_id": "{tA}", "code": "430199101203", "name": "赵家村", "boundary": rect(0, 2000, 2000, 4000)}
NEW_CELL = {"village_id": "{vA1}", "code": "430199101201003", "name": "第3网格", "boundary": rect(0, 1000, 1000, 2000)}
NEW_OFFICER = {"name": "孙丽", "mobile": "13900139000", "township_id": "{tA}"}
WRITES: list[tuple[str, str, Any, tuple[Outcome | None, ...]]] = [
    (
        "POST",
        "townships",
        {"code": "430199103", "name": "新镇", "boundary": rect(8000, 0, 9000, 1000)},
        (FORBIDDEN,) * 3,
    ),
    ("PATCH", "townships/{tA}", {"name": "红旗镇"}, (FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    ("POST", "townships/{tB}/retire", None, (FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    ("POST", "villages", NEW_VILLAGE, (None, FORBIDDEN, FORBIDDEN)),
    ("PATCH", "villages/{vA1}", {"name": "张家新村"}, (None, FORBIDDEN, FORBIDDEN)),
    ("POST", "villages/{vA1}/retire", None, (None, FORBIDDEN, FORBIDDEN)),
    ("POST", "grid-cells", NEW_CELL, (None, FORBIDDEN, FORBIDDEN)),
    ("PATCH", "grid-cells/{cA1}", {"name": "东片网格"}, (None, FORBIDDEN, FORBIDDEN)),
    ("POST", "grid-cells/{cA2}/retire", None, (None, FORBIDDEN, FORBIDDEN)),
    ("POST", "officers", NEW_OFFICER, (None, FORBIDDEN, FORBIDDEN)),
    ("PATCH", "officers/{oA1}", {"title": "网格长"}, (None, FORBIDDEN, FORBIDDEN)),
    ("POST", "officers/{oA2}/deactivate", {"reason": "调离"}, (None, FORBIDDEN, FORBIDDEN)),
    (
        "POST",
        "grid-cells/{cA2}/assignments",
        {"officer_id": "{oA2}", "role": "owner", "reason": "分工调整"},
        (None, FORBIDDEN, FORBIDDEN),
    ),
    ("POST", "grid-assignments/{aA2}/end", {"reason": "调岗"}, (None, FORBIDDEN, FORBIDDEN)),
    ("POST", "grid-assignments/{aA2}/correct", {"reason": "录入错误", "role": "owner"}, (None, FORBIDDEN, FORBIDDEN)),
    ("GET", "users", None, (None, FORBIDDEN, FORBIDDEN)),
    ("POST", "users", NEW_VIEWER, (None, FORBIDDEN, FORBIDDEN)),
    ("GET", "users/{u_viewer_a}", None, (None, FORBIDDEN, FORBIDDEN)),
    ("PATCH", "users/{u_viewer_a}", {"display_name": "改名"}, (None, FORBIDDEN, FORBIDDEN)),
    ("POST", "users/{u_viewer_a}/password", {"new_password": "a brand new secret"}, (None, FORBIDDEN, FORBIDDEN)),
    ("POST", "users/{u_viewer_a}/deactivate", None, (None, FORBIDDEN, FORBIDDEN)),
    ("GET", "audit-events", None, (FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    ("GET", "villages/{vA1}/coverage-gaps", None, (None, FORBIDDEN, None)),
    # a township leader manages grid officer and viewer accounts of their township, and no other account
    ("POST", "users", {**NEW_VIEWER, "role": "township_leader", "township_id": "{tA}"}, (FORBIDDEN,) * 3),
    ("POST", "users", {**NEW_VIEWER, "role": "county_admin"}, (FORBIDDEN,) * 3),
    ("PATCH", "users/{u_viewer_a}", {"role": "township_leader"}, (FORBIDDEN,) * 3),
    ("PATCH", "users/{u_viewer_a}", {"role": "county_admin"}, (FORBIDDEN,) * 3),
    ("PATCH", "users/{u_leader_a}", {"display_name": "我"}, (FORBIDDEN,) * 3),
    ("POST", "users/{u_leader_a}/password", {"new_password": "a brand new secret"}, (FORBIDDEN,) * 3),
    ("POST", "users/{u_leader_a}/deactivate", None, (FORBIDDEN,) * 3),
]


def test_each_role_is_forbidden_every_endpoint_and_account_it_may_not_touch(world):
    before = snapshot(world.admin)
    mismatches, refused = [], 0
    for who in ATTACKERS:
        caller = world.as_(who)
        for method, template, body, expected_by_role in WRITES:
            expected = expected_by_role[ATTACKERS.index(who)]
            if expected is None:
                continue
            response = send(caller, method, world.resolve(template), world.resolve(body))
            refused += 1
            if outcome_of(response) != expected:
                mismatches.append(f"{who}: {method} {template} {body}: expected {expected}, got {outcome_of(response)}")
            else:
                assert_problem(response, *expected)

    assert mismatches == []
    assert refused > 60  # leader_a 11, officer_a 30, viewer_a 29
    assert_unchanged(before, snapshot(world.admin))


def test_a_township_leader_manages_the_territory_people_and_accounts_of_their_township(world):
    leader = world.as_("leader_a")

    def ok(method: str, template: str, body: Any = None, status: int = 200) -> dict[str, Any]:
        response = send(leader, method, world.resolve(template), world.resolve(body))
        assert response.status_code == status, (method, template, response.get_json())
        return response.get_json()

    village = ok("POST", "villages", NEW_VILLAGE, 201)
    cell = ok("POST", "grid-cells", NEW_CELL, 201)
    officer = ok("POST", "officers", NEW_OFFICER, 201)
    renamed = ok("PATCH", "villages/{vA1}", {"name": "张家新村"})
    ok("PATCH", "grid-cells/{cA1}", {"name": "东片网格"})
    ok("PATCH", f"officers/{officer['id']}", {"title": "网格员"})
    assigned = ok(
        "POST", "grid-cells/{cA2}/assignments", {"officer_id": officer["id"], "role": "owner", "reason": "x"}, 201
    )
    ended = ok("POST", f"grid-assignments/{assigned['id']}/end", {"reason": "调岗"})
    corrected = ok(
        "POST", "grid-assignments/{aA2}/correct", {"reason": "录入错误", "valid_from": "2024-01-01T00:00:00+08:00"}, 201
    )
    retired = ok("POST", f"grid-cells/{cell['id']}/retire")
    viewer = ok("POST", "users", NEW_VIEWER, 201)  # their own township by default
    account = ok(
        "POST",
        "users",
        {**NEW_VIEWER, "username": "new-officer", "role": "grid_officer", "officer_id": officer["id"]},
        201,
    )
    ok("PATCH", f"users/{viewer['id']}", {"display_name": "王五"})
    ok("POST", f"users/{viewer['id']}/password", {"new_password": "a brand new secret"})
    deactivated = ok("POST", f"users/{viewer['id']}/deactivate")
    officer_gone = ok("POST", f"officers/{officer['id']}/deactivate", {"reason": "调离"})

    assert village["township_id"] == world["tA"]
    assert cell["township_id"] == world["tA"] and retired["retired_at"] is not None
    assert officer["township_id"] == world["tA"] and officer_gone["active"] is False
    assert renamed["name"] == "张家新村"
    assert ended["valid_to"] is not None and ended["current"] is False
    assert corrected["corrects_id"] == world["aA2"]
    assert (viewer["role"], viewer["township_id"]) == ("viewer", world["tA"])
    assert (account["role"], account["township_id"], account["officer_id"]) == (
        "grid_officer",
        world["tA"],
        officer["id"],
    )
    assert deactivated["active"] is False
    trail = world.admin.get(
        f"{API}/audit-events", query_string={"actor_user_id": world["u_leader_a"], "page_size": 100, "count": "true"}
    )
    assert trail.status_code == 200
    assert {e["township_id"] for e in trail.get_json()["items"]} == {world["tA"]}
    assert {e["actor"] for e in trail.get_json()["items"]} == {"leader-a"}
    assert trail.get_json()["total"] >= 16


def test_a_township_leader_registers_officers_in_their_own_township_by_default(world):
    # OfficerCreateSchema: "the officer's township; a township leader may leave it out (their own)"
    response = send(world.as_("leader_a"), "POST", "officers", {"name": "孙丽", "mobile": "13900139000"})

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["township_id"] == world["tA"]


def test_the_county_admin_changes_townships_and_reads_the_audit_trail(client):
    body = {"code": "430199103", "name": "新镇", "boundary": rect(8000, 0, 9000, 1000)}

    created = send(client, "POST", "townships", body)
    renamed = send(client, "PATCH", f"townships/{created.get_json()['id']}", {"name": "新城镇"})
    retired = send(client, "POST", f"townships/{created.get_json()['id']}/retire")
    query = {"entity_type": "townships", "entity_id": created.get_json()["id"]}
    trail = client.get(f"{API}/audit-events", query_string=query)

    assert (created.status_code, renamed.status_code, retired.status_code) == (201, 200, 200)
    assert retired.get_json()["retired_at"] is not None
    assert trail.status_code == 200
    assert [e["action"] for e in trail.get_json()["items"]] == ["retire", "update", "create"]
    assert {e["actor"] for e in trail.get_json()["items"]} == {"root"}
