"""User accounts through the HTTP API: the rules of role, township and officer, unique usernames, who manages
which account, versions, role changes that apply at once, the last administrator, and deactivation.

Every test runs on SpatiaLite and on PostGIS (see conftest.py).
"""

from __future__ import annotations

from sqlalchemy import func, select, update

from models.accounts import User
from models.roles import Role
from tests import factories as f
from tests.accounts.users import (
    T2_BOX,
    T2_CODE,
    assert_invalid_token,
    assert_no_hidden_keys,
    deactivate,
    in_db,
    in_db_change,
    me,
    new_user,
    patch_user,
    refresh,
    user,
    usernames,
)
from tests.factories import API, PASSWORD, ago, assert_problem, assert_recent_aware_time, run_together

# ---- user accounts ------------------------------------------------------------------------------------------------


def test_account_rules_for_role_township_and_officer(app, client):
    t1 = f.township(client)
    t2 = f.township(client, T2_CODE, box=T2_BOX, name="Green Hill Town")
    zhang = f.officer(client, t1["id"])

    assert_problem(new_user(client, "gao", Role.GRID_OFFICER), 422, "officer-required")
    response = new_user(client, "gao", Role.GRID_OFFICER, officer_id=zhang["id"])
    assert response.status_code == 201, response.get_json()
    gao = response.get_json()
    assert (gao["township_id"], gao["officer_id"], gao["role"]) == (t1["id"], zhang["id"], "grid_officer")
    assert response.headers["Location"].endswith(f"{API}/users/{gao['id']}")
    assert response.headers["ETag"] == f'"{gao["version"]}"'
    assert_no_hidden_keys(gao)
    assert gao["active"] is True

    assert_problem(new_user(client, "lena", Role.TOWNSHIP_LEADER), 422, "township-required")
    assert user(client, "lena", Role.TOWNSHIP_LEADER, township_id=t1["id"])["township_id"] == t1["id"]
    assert_problem(new_user(client, "ada", Role.COUNTY_ADMIN, township_id=t1["id"]), 422, "township-not-allowed")
    assert user(client, "ada", Role.COUNTY_ADMIN)["township_id"] is None
    assert user(client, "vic", Role.VIEWER)["township_id"] is None
    assert_problem(new_user(client, "wuu", Role.VIEWER, township_id=99999), 422, "township-not-found")
    li = f.officer(client, t1["id"], mobile="13900139000", name="李四")
    mismatch = new_user(client, "lisi", Role.GRID_OFFICER, officer_id=li["id"], township_id=t2["id"])
    assert_problem(mismatch, 422, "township-mismatch")

    assert usernames(client) == {"root", "gao", "lena", "ada", "vic"}


def test_usernames_are_unique_whatever_their_case(app, client):
    alice = user(client, "Alice", Role.VIEWER)

    for spelling in ("alice", "ALICE", "aLiCe"):
        taken = assert_problem(new_user(client, spelling, Role.VIEWER), 409, "username-taken")
        assert taken["existing_id"] == alice["id"]
    assert usernames(client) == {"root", "alice"}


def test_an_officer_has_at_most_one_active_account(app, client):
    t1 = f.township(client)
    zhang = f.officer(client, t1["id"])
    gao = user(client, "gao", Role.GRID_OFFICER, officer_id=zhang["id"])

    second = assert_problem(
        new_user(client, "gao2", Role.GRID_OFFICER, officer_id=zhang["id"]), 409, "officer-has-account"
    )
    assert second["existing_id"] == gao["id"]

    assert deactivate(client, gao["id"]).status_code == 200
    again = user(client, "gao2", Role.GRID_OFFICER, officer_id=zhang["id"])
    assert again["officer_id"] == zhang["id"]


def test_a_township_leader_manages_officer_and_viewer_accounts_of_their_own_township_only(app, client):
    t1 = f.township(client)
    t2 = f.township(client, T2_CODE, box=T2_BOX, name="Green Hill Town")
    ours, theirs = f.officer(client, t1["id"]), f.officer(client, t2["id"], mobile="13900139000", name="李四")
    far_viewer = user(client, "far-viewer", Role.VIEWER, township_id=t2["id"])
    leader = f.login_as(app, Role.TOWNSHIP_LEADER, username="lena", township_id=t1["id"])

    viewer = user(leader, "near-viewer", Role.VIEWER)
    assert viewer["township_id"] == t1["id"]
    gao = user(leader, "gao", Role.GRID_OFFICER, officer_id=ours["id"])
    assert gao["township_id"] == t1["id"]

    assert_problem(new_user(leader, "lena2", Role.TOWNSHIP_LEADER, township_id=t1["id"]), 403, "forbidden")
    assert_problem(new_user(leader, "lena3", Role.TOWNSHIP_LEADER), 403, "forbidden")
    assert_problem(new_user(leader, "boss", Role.COUNTY_ADMIN), 403, "forbidden")
    assert_problem(new_user(leader, "spy", Role.VIEWER, township_id=t2["id"]), 422, "township-not-found")
    assert_problem(new_user(leader, "lisi", Role.GRID_OFFICER, officer_id=theirs["id"]), 422, "officer-not-found")

    assert usernames(client) == {"root", "lena", "far-viewer", "near-viewer", "gao"}
    assert usernames(leader) == {"lena", "near-viewer", "gao"}
    assert_problem(leader.get(f"{API}/users/{far_viewer['id']}"), 404, "not-found")
    assert_problem(patch_user(leader, far_viewer["id"], {"display_name": "x"}, if_match="*"), 404, "not-found")
    promote = patch_user(leader, viewer["id"], {"role": "township_leader"})
    assert_problem(promote, 403, "forbidden")
    renamed = patch_user(leader, viewer["id"], {"display_name": "近处的查看者"})
    assert renamed.status_code == 200, renamed.get_json()
    assert renamed.get_json()["display_name"] == "近处的查看者"


def test_patching_a_user_needs_a_current_if_match(app, client):
    vic = user(client, "vic", Role.VIEWER)
    assert vic["version"] == 1

    assert_problem(patch_user(client, vic["id"], {"display_name": "V"}, if_match=None), 428, "precondition-required")
    assert_problem(patch_user(client, vic["id"], {"display_name": "V"}, if_match='"7"'), 412, "precondition-failed")
    assert client.get(f"{API}/users/{vic['id']}").get_json()["display_name"] == "User vic"

    response = patch_user(client, vic["id"], {"display_name": "Victor"}, if_match='"1"')
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["display_name"] == "Victor"
    assert response.headers["ETag"] == '"2"'
    assert_no_hidden_keys(response.get_json())
    assert_problem(patch_user(client, vic["id"], {"display_name": "Stale"}, if_match='"1"'), 412, "precondition-failed")
    assert patch_user(client, vic["id"], {"display_name": "Any"}, if_match="*").status_code == 200


def test_a_role_change_takes_effect_on_the_users_very_next_request(app, client):
    t1 = f.township(client)
    vic = user(client, "vic", Role.VIEWER)
    pair = f.token_for(app, "vic")
    as_vic = f.bearer(app, pair["access_token"])
    assert_problem(as_vic.get(f"{API}/users"), 403, "forbidden")

    promoted = patch_user(client, vic["id"], {"role": "township_leader", "township_id": t1["id"]})
    assert promoted.status_code == 200, promoted.get_json()

    listed = as_vic.get(f"{API}/users")
    assert listed.status_code == 200, listed.get_json()
    who = as_vic.get(f"{API}/auth/me").get_json()
    assert who["role"] == "township_leader"
    assert who["scope"]["township_id"] == t1["id"]
    assert who["scope"]["county_wide"] is False
    assert who["scope"]["read_only"] is False
    assert new_user(as_vic, "helper", Role.VIEWER).status_code == 201

    demoted = patch_user(client, vic["id"], {"role": "viewer"})
    assert demoted.status_code == 200, demoted.get_json()
    assert_problem(new_user(as_vic, "helper2", Role.VIEWER), 403, "forbidden")
    assert as_vic.get(f"{API}/auth/me").get_json()["scope"]["read_only"] is True


def test_an_administrator_cannot_deactivate_their_own_account_or_change_their_own_role(app, client):
    root = f.my_account(client)["id"]

    assert_problem(deactivate(client, root), 409, "own-account")
    assert_problem(patch_user(client, root, {"role": "viewer"}), 409, "own-role")

    shown = client.get(f"{API}/auth/me").get_json()
    assert shown["active"] is True
    assert shown["role"] == "county_admin"


def test_the_last_county_administrator_cannot_be_deactivated_even_by_two_admins_at_once(app, session):
    """Two administrators, each deactivating the other at the same moment: one of them stays.

    The only way to reach the last administrator through the API: each request is checked while the other admin is
    still active. Tried several times, since a race does not always overlap.
    """
    outcomes = []
    for attempt in range(6):
        in_db_change(session, update(User).where(User.deactivated_at.is_(None)).values(deactivated_at=ago(seconds=1)))
        a = f.login_as(app, Role.COUNTY_ADMIN, username=f"admin-a{attempt}")
        b = f.login_as(app, Role.COUNTY_ADMIN, username=f"admin-b{attempt}")
        a_id, b_id = f.my_account(a)["id"], f.my_account(b)["id"]

        answers = run_together(
            lambda a=a, b_id=b_id: deactivate(a, b_id, if_match='"1"'),
            lambda b=b, a_id=a_id: deactivate(b, a_id, if_match='"1"'),
        )

        active = in_db(
            session,
            select(func.count())
            .select_from(User)
            .where(User.role == Role.COUNTY_ADMIN.value, User.deactivated_at.is_(None)),
        )[0][0]
        outcomes.append(
            (sorted((r.status_code, r.get_json()["code"] if r.status_code != 200 else "") for r in answers), active)
        )

    for answers, active in outcomes:
        assert active == 1, outcomes
        assert answers[0] == (200, ""), outcomes
        assert answers[1] in ((401, "invalid-token"), (409, "last-admin")), outcomes


def test_deactivating_a_user_stops_their_tokens_at_once(app, client):
    vic = user(client, "vic", Role.VIEWER)
    phone, laptop = f.token_for(app, "vic"), f.token_for(app, "vic")

    assert_problem(deactivate(client, vic["id"], if_match=None), 428, "precondition-required")
    assert_problem(deactivate(client, vic["id"], if_match='"9"'), 412, "precondition-failed")
    response = deactivate(client, vic["id"], if_match='"1"')

    assert response.status_code == 200, response.get_json()
    shown = response.get_json()
    assert shown["active"] is False
    assert_recent_aware_time(shown["deactivated_at"])
    assert_no_hidden_keys(shown)
    for pair in (phone, laptop):
        assert_invalid_token(me(app, pair["access_token"]))
        assert_invalid_token(refresh(app, pair["refresh_token"]))
    assert_problem(f.login(app, "vic", PASSWORD), 401, "login-failed")
    assert "vic" not in usernames(client)
    assert "vic" in usernames(client, include_inactive="true")
    again = deactivate(client, vic["id"], if_match='"1"')  # deactivating twice is deactivating once
    assert again.status_code == 200 and again.get_json()["active"] is False


def test_two_accounts_created_at_once_for_one_username_end_with_one_409_naming_the_winner(app, client):
    outcomes = []
    for attempt in range(6):
        answers = run_together(
            lambda n=attempt: new_user(f.same_caller(client), f"twin{n}", Role.VIEWER),
            lambda n=attempt: new_user(f.same_caller(client), f"TWIN{n}", Role.VIEWER),
        )
        statuses = sorted(r.status_code for r in answers)
        winner = next((r.get_json()["id"] for r in answers if r.status_code == 201), None)
        refused = next((r.get_json() for r in answers if r.status_code == 409), {})
        outcomes.append((statuses, refused.get("code"), refused.get("existing_id") == winner))

    assert outcomes == [([201, 409], "username-taken", True)] * 6
    assert usernames(client) == {"root"} | {f"twin{n}" for n in range(6)}


def test_two_accounts_created_at_once_for_one_officer_end_with_one_409_officer_has_account(app, client):
    t1 = f.township(client)
    outcomes = []
    for attempt in range(6):
        zhang = f.officer(client, t1["id"], mobile=f"1380013800{attempt}")
        answers = run_together(
            lambda o=zhang["id"], n=attempt: new_user(
                f.same_caller(client), f"gao-a{n}", Role.GRID_OFFICER, officer_id=o
            ),
            lambda o=zhang["id"], n=attempt: new_user(
                f.same_caller(client), f"gao-b{n}", Role.GRID_OFFICER, officer_id=o
            ),
        )
        statuses = sorted(r.status_code for r in answers)
        winner = next((r.get_json()["id"] for r in answers if r.status_code == 201), None)
        refused = next((r.get_json() for r in answers if r.status_code == 409), {})
        outcomes.append((statuses, refused.get("code"), refused.get("existing_id") == winner))

    assert outcomes == [([201, 409], "officer-has-account", True)] * 6
    assert len(usernames(client, role="grid_officer")) == 6


# ---- what the review found -----------------------------------------------------------------------------------------


def test_only_a_grid_officer_account_is_linked_to_an_officer(app, client):
    t1 = f.township(client)
    officer = client.post(f"{API}/officers", json={"name": "赵六", "mobile": "13912345671", "township_id": t1["id"]})
    assert officer.status_code == 201, officer.get_json()
    officer_id = officer.get_json()["id"]
    for role, extra in (("county_admin", {}), ("township_leader", {"township_id": t1["id"]}), ("viewer", {})):
        body = {"username": f"linked-{role}", "display_name": "x", "password": "long enough pw", "role": role}
        answer = client.post(f"{API}/users", json=body | extra | {"officer_id": officer_id})
        assert_problem(answer, 422, "officer-not-allowed")
    go = client.post(
        f"{API}/users",
        json={"username": "go-user", "display_name": "x", "password": "long enough pw", "role": "grid_officer"}
        | {"officer_id": officer_id},
    ).get_json()
    # becoming a viewer drops the link; deactivating the officer later leaves the viewer alone
    viewer = client.patch(f"{API}/users/{go['id']}", json={"role": "viewer"}, headers={"If-Match": '"1"'})
    assert viewer.status_code == 200 and viewer.get_json()["officer_id"] is None
    client.post(f"{API}/officers/{officer_id}/deactivate", json={}, headers={"If-Match": "*"})
    assert client.get(f"{API}/users/{go['id']}").get_json()["active"] is True


def test_parallel_wrong_passwords_cannot_get_past_the_lock(app, client):
    f.add_user(app, Role.VIEWER, username="vera")
    limit = app.config["LOGIN_MAX_FAILURES"]
    answers = run_together(*[lambda: f.login(app, "vera", "not the password")] * (limit + 6))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(401) <= limit and statuses.count(429) >= 6, statuses
    assert_problem(f.login(app, "vera", PASSWORD), 429, "login-locked")


def test_a_taken_username_names_the_account_only_to_those_who_may_see_it(app, client):
    t1 = f.township(client)
    f.add_user(app, Role.VIEWER, username="county-viewer")
    leader = f.login_as(app, Role.TOWNSHIP_LEADER, username="lead", township_id=t1["id"])
    body = {"username": "County-Viewer", "display_name": "x", "password": "long enough pw", "role": "viewer"}
    assert "existing_id" not in assert_problem(leader.post(f"{API}/users", json=body), 409, "username-taken")
    assert "existing_id" in assert_problem(client.post(f"{API}/users", json=body), 409, "username-taken")
