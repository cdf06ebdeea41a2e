"""A grid officer sees a cell only while assigned to it; a missing, bad or stale token is a 401; a deactivated
user's token and a changed scope apply at once.

The callers and the county are the `world` fixture's (tests/conftest.py). Every test runs on SpatiaLite and on
PostGIS (see conftest.py).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from models.roles import Role
from tests import factories as f
from tests.access.outcomes import PUBLIC_OPERATIONS, locate_path, outcome_of, routes
from tests.factories import API, assert_problem, at


def test_a_grid_officer_sees_a_cell_only_while_assigned_to_it(world):
    officer = world.as_("officer_a")
    leader = world.as_("leader_a")

    def seen(path: str, prefix: str, **query: Any) -> list[str]:
        response = officer.get(f"{API}/{path}", query_string=query)
        assert response.status_code == 200, response.get_json()
        return world.names(response.get_json()["items"], prefix)

    def my_cells() -> list[int]:
        return officer.get(f"{API}/auth/me").get_json()["scope"]["cell_ids"]

    team = officer.get(f"{API}/grid-cells/{world['cA1']}/team")
    assert team.status_code == 200
    assert team.get_json()["owner"]["officer"]["id"] == world["oA1"]
    assert [m["officer"]["id"] for m in team.get_json()["members"]] == [world["oA2"]]
    assert seen("grid-cells", "c") == ["cA1"]
    assert officer.get(f"{API}/{locate_path(at(500, 500))}").get_json()["id"] == world["cA1"]
    assert my_cells() == [world["cA1"]]

    own = leader.get(f"{API}/grid-assignments/{world['aA1']}")
    ended = leader.post(
        f"{API}/grid-assignments/{world['aA1']}/end", json={"reason": "调岗"}, headers={"If-Match": own.headers["ETag"]}
    )
    assert ended.status_code == 200, ended.get_json()

    assert seen("grid-cells", "c") == []
    assert seen("grid-cells", "c", has_owner="false") == []
    assert seen("villages", "v") == []
    assert seen("townships", "t") == []
    assert_problem(officer.get(f"{API}/{locate_path(at(500, 500))}"), 404, "no-cell-here")
    assert_problem(officer.get(f"{API}/grid-cells/{world['cA1']}"), 404, "not-found")
    assert_problem(officer.get(f"{API}/grid-cells/{world['cA1']}/team"), 404, "not-found")
    assert_problem(officer.get(f"{API}/villages/{world['vA1']}"), 404, "not-found")
    assert_problem(officer.get(f"{API}/grid-assignments/{world['aA2']}"), 404, "not-found")
    assert my_cells() == []
    assert officer.get(f"{API}/officers/{world['oA1']}/cells").get_json()["items"] == []
    # their own record and their own (now ended) assignment stay theirs to read
    assert seen("officers", "o") == ["oA1"]
    assert seen("grid-assignments", "a") == ["aA1"]

    assigned = leader.post(
        f"{API}/grid-cells/{world['cA2']}/assignments",
        json={"officer_id": world["oA1"], "role": "member", "reason": "分工调整"},
        headers={"If-Match": "*"},
    )
    assert assigned.status_code == 201, assigned.get_json()

    assert seen("grid-cells", "c") == ["cA2"]
    assert officer.get(f"{API}/{locate_path(at(1500, 500))}").get_json()["id"] == world["cA2"]
    assert_problem(officer.get(f"{API}/{locate_path(at(500, 500))}"), 404, "no-cell-here")
    assert my_cells() == [world["cA2"]]


def _protected_requests(app: Flask):
    for rule, method in routes(app):
        if (rule.endpoint, method) in PUBLIC_OPERATIONS:
            continue
        yield method, re.sub(r"<(?:([^:<>(]+)(?:\(([^)]*)\))?:)?[^<>]+>", _sample_value, rule.rule)


def _sample_value(parameter: re.Match) -> str:
    """A value the parameter's converter accepts, so that the route matches and only the token is wrong."""
    converter, arguments = parameter.group(1), parameter.group(2)
    if converter == "uuid":
        return "00000000-0000-4000-8000-000000000001"
    if converter == "any":
        return arguments.split(",")[0].strip().strip("'\"")
    return "1"


def test_a_request_without_a_token_is_401_with_a_bearer_challenge(app, anonymous):
    wrong = []
    requests = list(_protected_requests(app))
    for method, path in requests:
        response = anonymous.open(path, method=method, json={}, headers={"If-Match": "*"})
        challenge = response.headers.get("WWW-Authenticate", "")
        if outcome_of(response) != (401, "unauthenticated") or not challenge.startswith("Bearer "):
            wrong.append(f"{method} {path}: {outcome_of(response)} WWW-Authenticate={challenge!r}")

    assert len(requests) >= 28
    assert wrong == []
    # the public operations need no token
    assert anonymous.get(f"{API}/openapi.json").status_code == 200
    assert_problem(
        anonymous.post(f"{API}/auth/token", json={"username": "nobody", "password": "x" * 12}), 401, "login-failed"
    )


@pytest.mark.parametrize(
    ("authorization", "error"),
    [
        ("Bearer gpa_not-a-token-we-issued", "invalid_token"),
        ("Bearer gpr_" + "x" * 43, "invalid_token"),  # a refresh-shaped token is no access token
        ("Basic cm9vdDpwYXNzd29yZA==", "invalid_request"),
        ("Bearer ", "invalid_request"),
    ],
)
def test_a_bad_token_is_401_invalid_token(app, anonymous, authorization, error):
    wrong = []
    for method, path in _protected_requests(app):
        response = anonymous.open(
            path, method=method, json={}, headers={"Authorization": authorization, "If-Match": "*"}
        )
        challenge = response.headers.get("WWW-Authenticate", "")
        if outcome_of(response) != (401, "invalid-token") or f'error="{error}"' not in challenge:
            wrong.append(f"{method} {path}: {outcome_of(response)} WWW-Authenticate={challenge!r}")

    assert wrong == []


def test_a_refresh_token_is_no_access_token(app):
    f.add_user(app, Role.VIEWER, username="viewer")
    tokens = f.token_for(app, "viewer")

    assert_problem(f.bearer(app, tokens["refresh_token"]).get(f"{API}/townships"), 401, "invalid-token")
    assert f.bearer(app, tokens["access_token"]).get(f"{API}/townships").status_code == 200


@pytest.mark.parametrize("how", ["account deactivated", "officer deactivated"])
def test_a_deactivated_users_token_stops_working_at_once(world, how):
    who, path = ("viewer_a", "users/{u_viewer_a}") if how == "account deactivated" else ("officer_a", "officers/{oA1}")
    username = world.username(who)
    tokens = f.token_for(world.app, username)
    user = f.bearer(world.app, tokens["access_token"])
    leader = world.as_("leader_a")
    assert user.get(f"{API}/townships").status_code == 200
    current = leader.get(f"{API}/{world.resolve(path)}")

    deactivated = leader.post(
        f"{API}/{world.resolve(path)}/deactivate", json={}, headers={"If-Match": current.headers["ETag"]}
    )

    assert deactivated.status_code == 200, deactivated.get_json()
    assert deactivated.get_json()["active"] is False
    response = user.get(f"{API}/townships")
    assert_problem(response, 401, "invalid-token")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert_problem(user.get(f"{API}/auth/me"), 401, "invalid-token")
    refreshed = world.app.test_client().post(f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_problem(refreshed, 401, "invalid-token")
    login = f.login(world.app, username)
    assert_problem(login, 401, "login-failed")
    account = world.admin.get(f"{API}/users/{world[f'u_{who}']}")
    assert account.get_json()["active"] is False


def test_a_changed_scope_applies_on_the_users_next_request(world):
    viewer = world.as_("viewer_a")
    assert world.names(viewer.get(f"{API}/townships").get_json()["items"], "t") == ["tA"]
    account = world.admin.get(f"{API}/users/{world['u_viewer_a']}")

    moved = world.admin.patch(
        f"{API}/users/{world['u_viewer_a']}",
        json={"township_id": world["tB"]},
        headers={"If-Match": account.headers["ETag"]},
    )

    assert moved.status_code == 200, moved.get_json()
    assert world.names(viewer.get(f"{API}/townships").get_json()["items"], "t") == ["tB"]
    assert_problem(viewer.get(f"{API}/grid-cells/{world['cA1']}"), 404, "not-found")
    assert viewer.get(f"{API}/grid-cells/{world['cB1']}").status_code == 200
