"""Accounts, tokens and the audit trail through the HTTP API: logging in, refreshing, logging out, passwords,
user accounts and their rules, secrets that must never leak, and who changed what.

Every test runs on SpatiaLite and on PostGIS (see conftest.py). Times that the API would only reach after minutes
(expired tokens, the end of a lock, the refresh grace window) are reached by moving the stored instants back
through the `session` fixture.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.accounts import AuthToken, User
from models.accounts.tokens import token_digest
from models.audit import AuditEvent
from models.roles import Role
from tests import factories as f
from tests.factories import PASSWORD, assert_problem, run_together

API = "/api/v1"
PROBLEM_JSON = "application/problem+json"
TOKEN_PATHS = {f"{API}/auth/token", f"{API}/auth/refresh", f"{API}/auth/password"}
HIDDEN_USER_KEYS = {"password", "password_hash", "failed_logins", "current_password", "new_password"}
T2_CODE = "430199102"
T2_BOX = (4000, 0, 8000, 4000)


# ---- helpers ------------------------------------------------------------------------------------------------------


def assert_invalid_token(response) -> None:
    assert_problem(response, 401, "invalid-token")


def assert_recent_aware_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    assert moment.utcoffset() is not None, f"{value} has no offset"
    assert abs(datetime.now(UTC) - moment) < timedelta(minutes=5)
    return moment


def login(app: Flask, username: str, password: str):
    return app.test_client().post(f"{API}/auth/token", json={"username": username, "password": password})


def tokens(app: Flask, username: str, password: str = PASSWORD) -> dict[str, Any]:
    response = login(app, username, password)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def bearer(app: Flask, access_token: str) -> FlaskClient:
    return f.authorise(app.test_client(), access_token)


def me(app: Flask, access_token: str):
    return bearer(app, access_token).get(f"{API}/auth/me")


def refresh(app: Flask, refresh_token: str):
    return app.test_client().post(f"{API}/auth/refresh", json={"refresh_token": refresh_token})


def assert_pair(response) -> dict[str, Any]:
    """A token-issuing answer: a fresh pair, never cached."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "no-store" in response.headers["Cache-Control"]
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith("gpa_") and len(body["access_token"]) >= 40
    assert body["refresh_token"].startswith("gpr_") and len(body["refresh_token"]) >= 40
    assert body["expires_in"] == 900
    assert body["refresh_expires_in"] == 30 * 24 * 3600
    assert_no_hidden_keys(body)
    return body


def assert_no_hidden_keys(value: Any) -> None:
    """No password, password hash or failure counter anywhere in a JSON document."""
    if isinstance(value, dict):
        assert not HIDDEN_USER_KEYS & set(value), sorted(HIDDEN_USER_KEYS & set(value))
        for item in value.values():
            assert_no_hidden_keys(item)
    elif isinstance(value, list):
        for item in value:
            assert_no_hidden_keys(item)


def new_user(
    client: FlaskClient,
    username: str,
    role: Role,
    *,
    password: str = PASSWORD,
    township_id: int | None = None,
    officer_id: int | None = None,
):
    body: dict[str, Any] = {"username": username, "display_name": f"User {username}", "password": password}
    body["role"] = role.value
    if township_id is not None:
        body["township_id"] = township_id
    if officer_id is not None:
        body["officer_id"] = officer_id
    return client.post(f"{API}/users", json=body)


def user(client: FlaskClient, username: str, role: Role, **kwargs: Any) -> dict[str, Any]:
    response = new_user(client, username, role, **kwargs)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def officer(client: FlaskClient, township_id: int, mobile: str = "13800138000", name: str = "张伟") -> dict:
    return f.create(client, "officers", {"name": name, "mobile": mobile, "township_id": township_id})


def user_etag(client: FlaskClient, user_id: int) -> str:
    response = client.get(f"{API}/users/{user_id}")
    assert response.status_code == 200, response.get_json()
    return response.headers["ETag"]


def patch_user(client: FlaskClient, user_id: int, body: dict[str, Any], if_match: str | None = "current"):
    if if_match == "current":
        if_match = user_etag(client, user_id)
    headers = {"If-Match": if_match} if if_match is not None else {}
    return client.patch(f"{API}/users/{user_id}", json=body, headers=headers)


def deactivate(client: FlaskClient, user_id: int, if_match: str | None = "current"):
    if if_match == "current":
        if_match = user_etag(client, user_id)
    headers = {"If-Match": if_match} if if_match is not None else {}
    return client.post(f"{API}/users/{user_id}/deactivate", headers=headers)


def reset_password(client: FlaskClient, user_id: int, new_password: str, if_match: str | None = "current"):
    if if_match == "current":
        if_match = user_etag(client, user_id)
    headers = {"If-Match": if_match} if if_match is not None else {}
    return client.post(f"{API}/users/{user_id}/password", json={"new_password": new_password}, headers=headers)


def change_password(app: Flask, access_token: str, current: str, new: str):
    return bearer(app, access_token).post(
        f"{API}/auth/password", json={"current_password": current, "new_password": new}
    )


def my_id(client: FlaskClient) -> int:
    response = client.get(f"{API}/auth/me")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["id"]


def usernames(client: FlaskClient, **query: Any) -> set[str]:
    response = client.get(f"{API}/users", query_string={"page_size": 500, **query})
    assert response.status_code == 200, response.get_json()
    return {u["username"] for u in response.get_json()["items"]}


def lock(app: Flask, username: str) -> None:
    """Ten wrong passwords in a row: the account is locked."""
    assert app.config["LOGIN_MAX_FAILURES"] == 10
    for attempt in range(10):
        assert_problem(login(app, username, f"Wr0ng-guess-{attempt:02d}"), 401, "login-failed")


def audit_events(client: FlaskClient, **query: Any) -> list[dict[str, Any]]:
    response = client.get(f"{API}/audit-events", query_string={"page_size": 500, "count": "true", **query})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["total"] == len(body["items"])
    return body["items"]


def the_event(events: list[dict[str, Any]], entity_type: str, entity_id: int, action: str) -> dict[str, Any]:
    matches = [e for e in events if (e["entity_type"], e["entity_id"], e["action"]) == (entity_type, entity_id, action)]
    assert len(matches) == 1, (entity_type, entity_id, action, events)
    return matches[0]


def in_db(session: Session, stmt: Any) -> list[Any]:
    """Rows of a query, read in a transaction of their own (so that the next read sees the API's later writes)."""
    rows = list(session.execute(stmt).all())
    session.commit()
    return rows


def in_db_change(session: Session, stmt: Any) -> None:
    session.execute(stmt)
    session.commit()


def move_token(session: Session, token: str, **values: Any) -> None:
    """Set columns of a stored token (found by its digest), e.g. to make it expire."""
    in_db_change(session, update(AuthToken).where(AuthToken.token_hash == token_digest(token)).values(**values))


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


# ---- logging in ---------------------------------------------------------------------------------------------------


def test_login_answers_an_uncached_token_pair_whose_access_token_opens_auth_me(app, client, session):
    f.add_user(app, Role.VIEWER, username="vera")

    response = login(app, "vera", PASSWORD)

    body = assert_pair(response)
    assert response.headers["Pragma"] == "no-cache"
    assert body["access_token"] != body["refresh_token"]
    expires = datetime.fromisoformat(body["access_expires_at"])
    assert expires.utcoffset() is not None
    assert abs(expires - (datetime.now(UTC) + timedelta(minutes=15))) < timedelta(minutes=1)
    assert body["user"]["username"] == "vera"
    assert body["user"]["role"] == "viewer"
    assert body["user"]["active"] is True

    who = me(app, body["access_token"])
    assert who.status_code == 200, who.get_json()
    assert who.get_json()["username"] == "vera"
    assert who.get_json()["scope"] == {
        "county_wide": True,
        "township_id": None,
        "officer_id": None,
        "cell_ids": None,
        "read_only": True,
    }
    assert_no_hidden_keys(who.get_json())

    # the database keeps the tokens' SHA-256 only
    for token, kind in ((body["access_token"], "access"), (body["refresh_token"], "refresh")):
        assert in_db(session, select(AuthToken.kind).where(AuthToken.token_hash == token_digest(token))) == [(kind,)]
        assert in_db(session, select(AuthToken.id).where(AuthToken.token_hash == token)) == []


def test_a_wrong_password_and_an_unknown_username_get_the_same_login_failed_problem(app, client):
    f.add_user(app, Role.VIEWER, username="vera")

    wrong = login(app, "vera", "Wr0ng-guess-for-vera")
    unknown = login(app, "nobody-here", "Wr0ng-guess-for-vera")

    assert_problem(wrong, 401, "login-failed")
    assert_problem(unknown, 401, "login-failed")
    assert wrong.get_json() == unknown.get_json()
    assert wrong.headers.get("WWW-Authenticate") == unknown.headers.get("WWW-Authenticate")
    assert "access_token" not in wrong.get_json()


def test_the_username_is_case_insensitive_at_login(app, client):
    created = user(client, "Mei.Ling", Role.VIEWER)
    assert created["username"] == "mei.ling"

    for spelling in ("MEI.LING", "Mei.Ling", "mei.ling"):
        body = assert_pair(login(app, spelling, PASSWORD))
        assert body["user"]["id"] == created["id"]
        assert me(app, body["access_token"]).get_json()["username"] == "mei.ling"


def test_a_deactivated_account_cannot_log_in(app, client):
    created = user(client, "vera", Role.VIEWER)
    assert_pair(login(app, "vera", PASSWORD))
    assert deactivate(client, created["id"]).status_code == 200

    refused = login(app, "vera", PASSWORD)

    assert_problem(refused, 401, "login-failed")
    assert refused.get_json() == login(app, "nobody-here", PASSWORD).get_json()


def test_ten_wrong_passwords_in_a_row_lock_the_account_even_against_the_right_password(app, client, session):
    vera = user(client, "vera", Role.VIEWER)

    lock(app, "vera")
    locked = login(app, "vera", PASSWORD)

    assert_problem(locked, 429, "login-locked")
    retry_after = int(locked.headers["Retry-After"])
    lock_seconds = app.config["LOGIN_LOCK_MINUTES"] * 60
    assert lock_seconds - 60 < retry_after <= lock_seconds + 1
    assert_problem(login(app, "vera", "Wr0ng-guess-again"), 429, "login-locked")
    shown = client.get(f"{API}/users/{vera['id']}").get_json()
    until = datetime.fromisoformat(shown["locked_until"])
    assert abs(until - (datetime.now(UTC) + timedelta(seconds=lock_seconds))) < timedelta(minutes=1)

    # the lock ends by itself
    in_db_change(session, update(User).where(User.id == vera["id"]).values(locked_until=ago(seconds=1)))
    assert_pair(login(app, "vera", PASSWORD))


def test_a_successful_login_resets_the_count_of_wrong_passwords(app, client):
    f.add_user(app, Role.VIEWER, username="vera")

    for _round in range(2):
        for attempt in range(9):
            assert_problem(login(app, "vera", f"Wr0ng-guess-{attempt}"), 401, "login-failed")
        assert_pair(login(app, "vera", PASSWORD))  # nine in a row, then a success: no lock, count reset

    lock(app, "vera")
    assert_problem(login(app, "vera", PASSWORD), 429, "login-locked")


# ---- refreshing ---------------------------------------------------------------------------------------------------


def test_refresh_answers_a_new_pair_and_uses_up_the_refresh_token(app, client, session):
    f.add_user(app, Role.VIEWER, username="vera")
    first = tokens(app, "vera")

    second = assert_pair(refresh(app, first["refresh_token"]))

    assert second["access_token"] not in (first["access_token"], first["refresh_token"])
    assert second["refresh_token"] not in (first["access_token"], first["refresh_token"])
    assert second["user"]["username"] == "vera"
    assert me(app, second["access_token"]).status_code == 200
    used = in_db(session, select(AuthToken.used_at).where(AuthToken.token_hash == token_digest(first["refresh_token"])))
    assert used[0][0] is not None
    third = assert_pair(refresh(app, second["refresh_token"]))
    assert me(app, third["access_token"]).status_code == 200


def test_a_refresh_retried_within_the_grace_window_answers_a_fresh_pair_and_revokes_the_first_answer(app, client):
    f.add_user(app, Role.VIEWER, username="vera")
    start = tokens(app, "vera")

    lost = assert_pair(refresh(app, start["refresh_token"]))  # the phone never got this answer
    retried = assert_pair(refresh(app, start["refresh_token"]))

    assert retried["access_token"] != lost["access_token"]
    assert retried["refresh_token"] != lost["refresh_token"]
    assert_invalid_token(me(app, lost["access_token"]))
    assert me(app, retried["access_token"]).status_code == 200
    after = assert_pair(refresh(app, retried["refresh_token"]))
    assert me(app, after["access_token"]).status_code == 200
    # Whoever sends the replaced token now had the lost answer after all: a copy is about, the session ends.
    assert_invalid_token(refresh(app, lost["refresh_token"]))
    assert_invalid_token(me(app, after["access_token"]))


def test_reusing_a_refresh_token_after_its_successor_was_used_ends_the_whole_session(app, client):
    f.add_user(app, Role.VIEWER, username="vera")
    other_device = tokens(app, "vera")
    start = tokens(app, "vera")
    second = assert_pair(refresh(app, start["refresh_token"]))
    third = assert_pair(refresh(app, second["refresh_token"]))

    reused = refresh(app, start["refresh_token"])

    assert_invalid_token(reused)
    assert_invalid_token(me(app, third["access_token"]))
    assert_invalid_token(refresh(app, third["refresh_token"]))
    assert_invalid_token(me(app, second["access_token"]))
    # the user's other session goes on
    assert me(app, other_device["access_token"]).status_code == 200
    assert_pair(refresh(app, other_device["refresh_token"]))


def test_reusing_a_refresh_token_after_the_grace_window_ends_the_whole_session(app, client, session):
    f.add_user(app, Role.VIEWER, username="vera")
    start = tokens(app, "vera")
    second = assert_pair(refresh(app, start["refresh_token"]))
    move_token(session, start["refresh_token"], used_at=ago(seconds=61))

    assert_invalid_token(refresh(app, start["refresh_token"]))

    assert_invalid_token(me(app, second["access_token"]))
    assert_invalid_token(refresh(app, second["refresh_token"]))


def test_an_access_token_is_no_refresh_token_and_a_refresh_token_no_access_token(app, client):
    f.add_user(app, Role.VIEWER, username="vera")
    pair = tokens(app, "vera")

    assert_invalid_token(refresh(app, pair["access_token"]))
    assert_invalid_token(me(app, pair["refresh_token"]))
    assert_invalid_token(refresh(app, "gpr_" + "x" * 43))
    assert_invalid_token(me(app, "gpa_" + "x" * 43))
    no_token = app.test_client().get(f"{API}/auth/me")
    assert_problem(no_token, 401, "unauthenticated")
    assert no_token.headers["WWW-Authenticate"].startswith("Bearer")
    assert me(app, pair["access_token"]).status_code == 200


def test_expired_access_and_refresh_tokens_are_refused(app, client, session):
    f.add_user(app, Role.VIEWER, username="vera")
    pair = tokens(app, "vera")
    assert me(app, pair["access_token"]).status_code == 200

    move_token(session, pair["access_token"], expires_at=ago(seconds=1))
    expired = me(app, pair["access_token"])
    assert_invalid_token(expired)
    assert 'error="invalid_token"' in expired.headers["WWW-Authenticate"]

    move_token(session, pair["refresh_token"], expires_at=ago(seconds=1))
    assert_invalid_token(refresh(app, pair["refresh_token"]))


# ---- logging out and passwords ------------------------------------------------------------------------------------


def test_logout_revokes_the_sessions_tokens_but_not_the_users_other_sessions(app, client):
    f.add_user(app, Role.VIEWER, username="vera")
    phone, laptop = tokens(app, "vera"), tokens(app, "vera")

    response = bearer(app, phone["access_token"]).post(f"{API}/auth/logout")

    assert response.status_code == 204
    assert_invalid_token(me(app, phone["access_token"]))
    assert_invalid_token(refresh(app, phone["refresh_token"]))
    assert me(app, laptop["access_token"]).status_code == 200
    assert_pair(refresh(app, laptop["refresh_token"]))
    assert client.get(f"{API}/auth/me").status_code == 200


def test_a_password_change_needs_the_current_password_and_a_good_new_one(app, client):
    f.add_user(app, Role.VIEWER, username="pete")
    pair = tokens(app, "pete")

    wrong = change_password(app, pair["access_token"], "Wr0ng-current-pw", "A fine new passphrase")
    body = assert_problem(wrong, 422, "wrong-password")
    assert body["errors"][0]["pointer"] == "/current_password"
    short = change_password(app, pair["access_token"], PASSWORD, "Sh0rt-pw")
    assert assert_problem(short, 422, "password-too-short")["errors"][0]["pointer"] == "/new_password"
    assert_problem(
        change_password(app, pair["access_token"], PASSWORD, "my pete passphrase"), 422, "password-contains-username"
    )
    assert_problem(
        change_password(app, pair["access_token"], PASSWORD, "PETE-was-here-2024"), 422, "password-contains-username"
    )

    # nothing changed
    assert me(app, pair["access_token"]).status_code == 200
    assert_pair(login(app, "pete", PASSWORD))


def test_a_password_change_answers_a_new_pair_and_ends_every_other_session(app, client):
    f.add_user(app, Role.VIEWER, username="pete")
    this_device, other_device = tokens(app, "pete"), tokens(app, "pete")
    new_password = "A fine new passphrase"

    response = change_password(app, this_device["access_token"], PASSWORD, new_password)

    renewed = assert_pair(response)
    assert renewed["user"]["username"] == "pete"
    assert me(app, renewed["access_token"]).status_code == 200
    assert_invalid_token(me(app, other_device["access_token"]))
    assert_invalid_token(refresh(app, other_device["refresh_token"]))
    assert_invalid_token(me(app, this_device["access_token"]))
    assert_problem(login(app, "pete", PASSWORD), 401, "login-failed")
    assert_pair(login(app, "pete", new_password))
    assert_pair(refresh(app, renewed["refresh_token"]))
    assert client.get(f"{API}/auth/me").status_code == 200  # other users are not touched


def test_an_admin_password_reset_needs_if_match_ends_the_users_sessions_and_lifts_a_lock(app, client):
    rita = user(client, "rita", Role.VIEWER)
    pair = tokens(app, "rita")
    lock(app, "rita")
    assert_problem(login(app, "rita", PASSWORD), 429, "login-locked")
    new_password = "Reset by the admin 42"

    assert_problem(reset_password(client, rita["id"], new_password, if_match=None), 428, "precondition-required")
    assert_problem(reset_password(client, rita["id"], new_password, if_match='"99"'), 412, "precondition-failed")
    assert_problem(reset_password(client, rita["id"], "Sh0rt-pw"), 422, "password-too-short")
    assert_problem(login(app, "rita", new_password), 429, "login-locked")  # refused resets lifted nothing

    response = reset_password(client, rita["id"], new_password)

    assert response.status_code == 200, response.get_json()
    shown = response.get_json()
    assert_no_hidden_keys(shown)
    assert shown["locked_until"] is None
    assert shown["version"] == rita["version"] + 1
    assert response.headers["ETag"] == f'"{shown["version"]}"'
    assert_invalid_token(me(app, pair["access_token"]))
    assert_invalid_token(refresh(app, pair["refresh_token"]))
    assert_pair(login(app, "rita", new_password))
    assert_problem(login(app, "rita", PASSWORD), 401, "login-failed")


# ---- user accounts ------------------------------------------------------------------------------------------------


def test_account_rules_for_role_township_and_officer(app, client):
    t1 = f.township(client)
    t2 = f.township(client, T2_CODE, box=T2_BOX, name="Green Hill Town")
    zhang = officer(client, t1["id"])

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
    li = officer(client, t1["id"], mobile="13900139000", name="李四")
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
    zhang = officer(client, t1["id"])
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
    ours, theirs = officer(client, t1["id"]), officer(client, t2["id"], mobile="13900139000", name="李四")
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
    pair = tokens(app, "vic")
    as_vic = bearer(app, pair["access_token"])
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
    root = my_id(client)

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
        a_id, b_id = my_id(a), my_id(b)

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
    phone, laptop = tokens(app, "vic"), tokens(app, "vic")

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
    assert_problem(login(app, "vic", PASSWORD), 401, "login-failed")
    assert "vic" not in usernames(client)
    assert "vic" in usernames(client, include_inactive="true")
    again = deactivate(client, vic["id"], if_match='"1"')  # deactivating twice is deactivating once
    assert again.status_code == 200 and again.get_json()["active"] is False


def test_two_accounts_created_at_once_for_one_username_end_with_one_409_naming_the_winner(app, client):
    outcomes = []
    for attempt in range(6):
        answers = run_together(
            lambda n=attempt: new_user(bearer_like(client), f"twin{n}", Role.VIEWER),
            lambda n=attempt: new_user(bearer_like(client), f"TWIN{n}", Role.VIEWER),
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
        zhang = officer(client, t1["id"], mobile=f"1380013800{attempt}")
        answers = run_together(
            lambda o=zhang["id"], n=attempt: new_user(
                bearer_like(client), f"gao-a{n}", Role.GRID_OFFICER, officer_id=o
            ),
            lambda o=zhang["id"], n=attempt: new_user(
                bearer_like(client), f"gao-b{n}", Role.GRID_OFFICER, officer_id=o
            ),
        )
        statuses = sorted(r.status_code for r in answers)
        winner = next((r.get_json()["id"] for r in answers if r.status_code == 201), None)
        refused = next((r.get_json() for r in answers if r.status_code == 409), {})
        outcomes.append((statuses, refused.get("code"), refused.get("existing_id") == winner))

    assert outcomes == [([201, 409], "officer-has-account", True)] * 6
    assert len(usernames(client, role="grid_officer")) == 6


def bearer_like(client: FlaskClient) -> FlaskClient:
    """A new test client with the same credentials (one per thread)."""
    other = client.application.test_client()
    other.environ_base.update(client.environ_base)
    return other


# ---- secrets ------------------------------------------------------------------------------------------------------


class RecordingClient(FlaskClient):
    """A test client that keeps every response it gets."""

    def __init__(self, *args: Any, log: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log = log

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        self.log.append(response)
        return response


P_LEADER = "Leader-pass-4417k"
P_LEADER_RESET = "Leader-reset-8830m"
P_GAO = "Officer-pass-9921x"
P_GAO_RESET = "Officer-reset-7710q"
P_VICKY = "Viewer-pass-3308y"
P_VICKY_NEW = "Viewer-renewed-5521z"
P_TOO_SHORT = "Sh0rt!x9"
P_TWINS = ("Racer-pass-a-6602r", "Racer-pass-b-6603s")
WRONG = [f"Wr0ng-secret-{i:02d}-zq" for i in range(14)]
FLOW_PASSWORDS = {PASSWORD, P_LEADER, P_LEADER_RESET, P_GAO, P_GAO_RESET, P_VICKY, P_VICKY_NEW, P_TOO_SHORT}
FLOW_PASSWORDS |= {*P_TWINS, *WRONG}


def secret_flow(app: Flask, client: FlaskClient, log: list) -> set[str]:
    """Every account operation, good and bad, through recording clients; answers the tokens issued."""

    def recording(access_token: str | None = None) -> RecordingClient:
        c = RecordingClient(app, app.response_class, log=log)
        return f.authorise(c, access_token) if access_token else c

    root_token = client.environ_base["HTTP_AUTHORIZATION"].split(" ", 1)[1]
    anon = recording()

    def sign_in(username: str, password: str, expect: int = 200) -> dict[str, Any]:
        response = anon.post(f"{API}/auth/token", json={"username": username, "password": password})
        assert response.status_code == expect, response.get_json()
        return response.get_json()

    admin = recording(sign_in("root", PASSWORD)["access_token"])
    t1 = f.township(admin)
    zhang = officer(admin, t1["id"])
    lena = user(admin, "lena", Role.TOWNSHIP_LEADER, township_id=t1["id"], password=P_LEADER)
    gao = user(admin, "gao", Role.GRID_OFFICER, officer_id=zhang["id"], password=P_GAO)
    vicky = user(admin, "vicky", Role.VIEWER, password=P_VICKY)
    assert new_user(admin, "shorty", Role.VIEWER, password=P_TOO_SHORT).status_code == 422
    assert new_user(admin, "vicky-2", Role.VIEWER, password="vicky-2 password").status_code == 422

    # wrong logins, unknown users, refresh, retry and reuse
    sign_in("vicky", WRONG[0], expect=401)
    sign_in("nobody-at-all", WRONG[1], expect=401)
    first = sign_in("VICKY", P_VICKY)
    second = anon.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]}).get_json()
    retried = anon.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]}).get_json()
    assert anon.post(f"{API}/auth/refresh", json={"refresh_token": retried["refresh_token"]}).status_code == 200
    assert anon.post(f"{API}/auth/refresh", json={"refresh_token": second["refresh_token"]}).status_code == 401
    assert anon.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]}).status_code == 401
    assert anon.post(f"{API}/auth/refresh", json={"refresh_token": first["access_token"]}).status_code == 401
    assert recording(second["access_token"]).get(f"{API}/auth/me").status_code == 401

    # own password change: wrong, weak, then right
    as_vicky = recording(sign_in("vicky", P_VICKY)["access_token"])
    as_vicky.get(f"{API}/auth/me")
    for current, new in ((WRONG[2], P_VICKY_NEW), (P_VICKY, P_TOO_SHORT), (P_VICKY, "vicky" + WRONG[3])):
        response = as_vicky.post(f"{API}/auth/password", json={"current_password": current, "new_password": new})
        assert response.status_code == 422, response.get_json()
    changed = as_vicky.post(
        f"{API}/auth/password", json={"current_password": P_VICKY, "new_password": P_VICKY_NEW}
    ).get_json()
    as_vicky = recording(changed["access_token"])
    assert as_vicky.get(f"{API}/auth/me").status_code == 200

    # an admin resets a password; a locked account is reset
    assert reset_password(admin, gao["id"], P_GAO_RESET).status_code == 200
    as_gao = recording(sign_in("gao", P_GAO_RESET)["access_token"])
    assert as_gao.get(f"{API}/grid-cells").status_code == 200
    for wrong in WRONG[4:]:
        anon.post(f"{API}/auth/token", json={"username": "lena", "password": wrong})
    sign_in("lena", P_LEADER, expect=429)
    assert reset_password(admin, lena["id"], P_LEADER_RESET).status_code == 200
    as_lena = recording(sign_in("lena", P_LEADER_RESET)["access_token"])
    assert as_lena.get(f"{API}/users").status_code == 200

    # logout, role change, deactivation
    assert as_gao.post(f"{API}/auth/logout").status_code == 204
    assert as_gao.get(f"{API}/auth/me").status_code == 401
    assert patch_user(admin, vicky["id"], {"role": "township_leader", "township_id": t1["id"]}).status_code == 200
    assert deactivate(admin, vicky["id"]).status_code == 200
    assert as_vicky.get(f"{API}/auth/me").status_code == 401
    sign_in("vicky", P_VICKY_NEW, expect=401)

    # two creates of one username at the same moment (an IntegrityError on PostgreSQL)
    racers = [recording(admin.environ_base["HTTP_AUTHORIZATION"].split(" ", 1)[1]) for _ in P_TWINS]
    answers = run_together(
        *[lambda c=c, p=p: new_user(c, "twin", Role.VIEWER, password=p) for c, p in zip(racers, P_TWINS, strict=True)]
    )
    assert sorted(r.status_code for r in answers) == [201, 409], [r.get_json() for r in answers]

    # everything an admin reads about accounts
    admin.get(f"{API}/users", query_string={"include_inactive": "true"})
    for uid in (lena["id"], gao["id"], vicky["id"]):
        admin.get(f"{API}/users/{uid}")
    admin.get(f"{API}/audit-events", query_string={"page_size": 500})
    as_lena.get(f"{API}/auth/me")

    issued = {root_token}
    for response in log:
        if response.request.path in TOKEN_PATHS and response.status_code == 200:
            body = response.get_json()
            issued |= {body["access_token"], body["refresh_token"]}
    return issued


def secret_strings(tokens_issued: set[str]) -> dict[str, str]:
    """What must never be seen, each with a name that does not give it away."""
    secrets: dict[str, str] = {"$argon2": "an Argon2 hash"}
    for n, value in enumerate(sorted(FLOW_PASSWORDS)):
        secrets[value] = f"password #{n}"
        secrets[hashlib.sha256(value.encode()).hexdigest()] = f"SHA-256 of password #{n}"
    for n, value in enumerate(sorted(tokens_issued)):
        secrets[value] = f"token #{n} ({value[:4]})"
        secrets[token_digest(value)] = f"SHA-256 of token #{n} ({value[:4]})"
    return secrets


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [name for value, name in secrets.items() if value in text]


def response_text(response) -> str:
    """A response as text, without the token fields of an answer that issues tokens."""
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    if response.request.path in TOKEN_PATHS and response.status_code == 200:
        body = {k: v for k, v in response.get_json().items() if k not in ("access_token", "refresh_token")}
        return headers + "\n" + json.dumps(body, ensure_ascii=False)
    return headers + "\n" + response.get_data(as_text=True)


def test_no_password_or_token_appears_in_any_response_and_user_answers_hide_hash_and_counter(app, client):
    log: list = []
    issued = secret_flow(app, client, log)
    secrets = secret_strings(issued)
    assert len(issued) > 15 and len(log) > 50

    found = {f"{r.request.method} {r.request.path} {r.status_code}": leaks(response_text(r), secrets) for r in log}
    assert {k: v for k, v in found.items() if v} == {}
    for response in log:
        if response.is_json and response.get_data():
            assert_no_hidden_keys(response.get_json())


def test_no_password_or_token_appears_in_the_audit_trail(app, client, session):
    log: list = []
    secrets = secret_strings(secret_flow(app, client, log))

    events = audit_events(client)
    assert {e["entity_type"] for e in events} >= {"users", "townships", "officers"}
    assert {e["action"] for e in events if e["entity_type"] == "users"} >= {
        "create",
        "update",
        "change-password",
        "deactivate",
    }
    assert leaks(json.dumps(events, ensure_ascii=False), secrets) == []
    raw = [dict(row._mapping) for row in in_db(session, select(AuditEvent.__table__))]
    assert len(raw) == len(events)
    assert leaks(json.dumps(raw, ensure_ascii=False, default=str), secrets) == []
    for event in raw:
        for values in (event["before"] or {}, event["after"] or {}):
            assert not {"password", "password_hash", "failed_logins", "locked_until"} & set(values), event


def _log_leaks(records: list[logging.LogRecord], secrets: dict[str, str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    formatter = logging.Formatter()
    for record in records:
        parts = [str(record.msg), repr(record.args), record.exc_text or ""]
        with contextlib.suppress(TypeError, ValueError):
            parts.append(record.getMessage())
        if record.exc_info:
            parts.append(formatter.formatException(record.exc_info))
        names = leaks("\n".join(parts), secrets)
        if names:
            key = f"{record.name}: {str(record.msg)[:60]}"
            found.setdefault(key, []).extend(n for n in names if n not in found.get(key, []))
    return found


def _loggers_at(caplog, level: int) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("werkzeug", "flask", "api", "models", "geo"):
        caplog.set_level(logging.DEBUG, logger=name)
    for name in ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "sqlalchemy.orm"):
        caplog.set_level(level, logger=name)


def test_no_password_or_token_appears_in_any_log_record_at_debug_level(app, client, caplog):
    _loggers_at(caplog, logging.DEBUG)
    log: list = []

    secrets = secret_strings(secret_flow(app, client, log))

    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)  # the SQL log was on
    assert _log_leaks(caplog.records, secrets) == {}
    assert leaks(caplog.text, secrets) == []


def test_no_password_or_token_appears_in_the_sql_statement_log(app, client, caplog):
    """The SQL log at INFO (statements, parameters hidden), as `echo=True` would give."""
    _loggers_at(caplog, logging.INFO)
    log: list = []

    secrets = secret_strings(secret_flow(app, client, log))

    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)
    assert _log_leaks(caplog.records, secrets) == {}
    assert leaks(caplog.text, secrets) == []


# ---- the audit trail ----------------------------------------------------------------------------------------------


def test_every_write_is_audited_with_who_when_what_and_the_values_before_and_after(app, client):
    root = my_id(client)
    t1 = f.township(client)
    renamed = client.patch(f"{API}/townships/{t1['id']}", json={"name": "新青山镇"}, headers={"If-Match": '"1"'})
    assert renamed.status_code == 200, renamed.get_json()
    vic = user(client, "vic", Role.VIEWER)
    assert patch_user(client, vic["id"], {"role": "township_leader", "township_id": t1["id"]}).status_code == 200
    assert reset_password(client, vic["id"], "Reset by the admin 42").status_code == 200
    assert deactivate(client, vic["id"]).status_code == 200
    leader = f.login_as(app, Role.TOWNSHIP_LEADER, username="lena", township_id=t1["id"])
    lena = my_id(leader)
    village = f.village(leader, t1["id"])
    pair = tokens(app, "lena")
    assert change_password(app, pair["access_token"], PASSWORD, "Her own new passphrase").status_code == 200

    events = audit_events(client)

    def by_root(event: dict[str, Any]) -> dict[str, Any]:
        assert (event["actor"], event["actor_user_id"]) == ("root", root)
        assert_recent_aware_time(event["occurred_at"])
        return event

    created = by_root(the_event(events, "townships", t1["id"], "create"))
    assert created["before"] is None
    assert (created["after"]["name"], created["after"]["code"]) == ("青山镇", f.TOWNSHIP_CODE)
    assert created["township_id"] == t1["id"]
    update_event = by_root(the_event(events, "townships", t1["id"], "update"))
    assert update_event["before"]["name"] == "青山镇"
    assert update_event["after"]["name"] == "新青山镇"
    assert "code" not in update_event["after"]  # only what changed

    user_created = by_root(the_event(events, "users", vic["id"], "create"))
    assert (user_created["after"]["username"], user_created["after"]["role"]) == ("vic", "viewer")
    role_change = by_root(the_event(events, "users", vic["id"], "update"))
    assert (role_change["before"]["role"], role_change["after"]["role"]) == ("viewer", "township_leader")
    assert (role_change["before"]["township_id"], role_change["after"]["township_id"]) == (None, t1["id"])
    reset = by_root(the_event(events, "users", vic["id"], "change-password"))
    assert set(reset["after"]) >= {"password_changed_at"}
    gone = by_root(the_event(events, "users", vic["id"], "deactivate"))
    assert gone["before"]["deactivated_at"] is None
    assert_recent_aware_time(gone["after"]["deactivated_at"])

    lena_created = the_event(events, "users", lena, "create")
    assert (lena_created["actor"], lena_created["actor_user_id"]) == ("system", None)
    village_created = the_event(events, "villages", village["id"], "create")
    assert (village_created["actor"], village_created["actor_user_id"]) == ("lena", lena)
    assert village_created["township_id"] == t1["id"]
    own_change = the_event(events, "users", lena, "change-password")
    assert (own_change["actor"], own_change["actor_user_id"]) == ("lena", lena)
    for event in events:
        assert_recent_aware_time(event["occurred_at"])
        assert event["actor"] and event["action"] and event["entity_type"] and event["entity_id"]


def test_the_audit_trail_filters_by_entity_actor_action_township_and_time(app, client):
    t1 = f.township(client)
    renamed = client.patch(f"{API}/townships/{t1['id']}", json={"name": "甲镇"}, headers={"If-Match": '"1"'})
    assert renamed.status_code == 200, renamed.get_json()
    t2 = f.township(client, T2_CODE, box=T2_BOX, name="Green Hill Town")
    vic = user(client, "vic", Role.VIEWER)
    leader = f.login_as(app, Role.TOWNSHIP_LEADER, username="lena", township_id=t1["id"])
    lena = my_id(leader)
    village = f.village(leader, t1["id"])
    everything = audit_events(client)
    assert len(everything) == 7  # root and lena were created by the system

    def ids(**query: Any) -> list[int]:
        return [e["id"] for e in audit_events(client, **query)]

    def expected(keep: Callable[[dict[str, Any]], bool]) -> list[int]:
        return [e["id"] for e in everything if keep(e)]

    assert ids(entity_type="townships") == expected(lambda e: e["entity_type"] == "townships")
    assert len(ids(entity_type="townships")) == 3
    t1_events = audit_events(client, entity_type="townships", entity_id=t1["id"])
    assert [e["action"] for e in t1_events] == ["update", "create"]
    assert ids(entity_type="users", entity_id=vic["id"]) == expected(
        lambda e: e["entity_id"] == vic["id"] and e["entity_type"] == "users"
    )
    assert len(ids(entity_type="users", entity_id=vic["id"])) == 1
    assert ids(actor_user_id=lena) == expected(lambda e: e["actor_user_id"] == lena)
    assert [(e["entity_type"], e["entity_id"]) for e in audit_events(client, actor_user_id=lena)] == [
        ("villages", village["id"])
    ]
    assert ids(action="update") == expected(lambda e: e["action"] == "update") != []
    assert ids(township_id=t2["id"]) == expected(lambda e: e["township_id"] == t2["id"]) != []

    middle = next(e for e in everything if e["entity_type"] == "townships" and e["entity_id"] == t2["id"])
    moment = datetime.fromisoformat(middle["occurred_at"])
    since = ids(since=middle["occurred_at"])
    until = ids(until=middle["occurred_at"])
    assert since == expected(lambda e: datetime.fromisoformat(e["occurred_at"]) >= moment)
    assert until == expected(lambda e: datetime.fromisoformat(e["occurred_at"]) < moment)
    assert middle["id"] in since and middle["id"] not in until
    assert since and until and sorted(since + until) == sorted(e["id"] for e in everything)
    in_beijing = moment.astimezone(ZoneInfo("Asia/Shanghai")).isoformat()
    assert ids(since=in_beijing) == since
    bad = client.get(f"{API}/audit-events", query_string={"since": "2026-01-01T08:00:00"})
    assert bad.status_code == 422 and bad.mimetype == PROBLEM_JSON


def test_the_audit_trail_is_newest_first_and_paginated(app, client):
    t1 = f.township(client)
    for version, name in enumerate(("一镇", "二镇", "三镇", "四镇"), start=1):
        response = client.patch(
            f"{API}/townships/{t1['id']}", json={"name": name}, headers={"If-Match": f'"{version}"'}
        )
        assert response.status_code == 200, response.get_json()

    everything = audit_events(client)

    assert len(everything) == 6  # the first: root, created by the system
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)
    moments = [datetime.fromisoformat(e["occurred_at"]) for e in everything]
    assert moments == sorted(moments, reverse=True)
    assert everything[0]["after"]["name"] == "四镇"
    assert everything[-1]["action"] == "create"
    pages, query = [], {"page_size": 2, "count": "true"}
    for page in (1, 2, 3):
        response = client.get(f"{API}/audit-events", query_string=query)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert (body["page_size"], body["total"]) == (2, 6)
        pages.append([e["id"] for e in body["items"]])
        assert (body["next_cursor"] is None) == (page == 3)
        assert (body["next"] is None) == (page == 3)
        query["cursor"] = body["next_cursor"]
    assert [len(p) for p in pages] == [2, 2, 2]
    assert [i for p in pages for i in p] == [e["id"] for e in everything]


def test_only_county_administrators_read_the_audit_trail(app, client, anonymous):
    t1 = f.township(client)
    zhang = officer(client, t1["id"])
    readers = [
        f.login_as(app, Role.TOWNSHIP_LEADER, username="lena", township_id=t1["id"]),
        f.login_as(app, Role.VIEWER, username="county-viewer"),
        f.login_as(app, Role.VIEWER, username="town-viewer", township_id=t1["id"]),
        f.login_as(app, Role.GRID_OFFICER, username="gao", officer_id=zhang["id"]),
    ]

    for reader in readers:
        assert_problem(reader.get(f"{API}/audit-events"), 403, "forbidden")
    refused = anonymous.get(f"{API}/audit-events")
    assert_problem(refused, 401, "unauthenticated")
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert len(audit_events(client)) >= 6


def test_no_audit_event_can_be_changed_or_deleted_through_the_api(app, client):
    t1 = f.township(client)
    before = audit_events(client)
    event_id = before[0]["id"]
    assert before[0]["entity_id"] == t1["id"]

    for method in ("PUT", "PATCH", "DELETE", "POST"):
        for path in (f"{API}/audit-events", f"{API}/audit-events/{event_id}"):
            response = client.open(path, method=method, json={"action": "nothing", "actor": "nobody"})
            assert response.status_code in (404, 405), (method, path, response.status_code)
            code = {404: "not-found", 405: "method-not-allowed"}[response.status_code]
            assert_problem(response, response.status_code, code)
            if response.status_code == 405:
                assert "PUT" not in response.headers["Allow"] and "DELETE" not in response.headers["Allow"]

    assert audit_events(client) == before


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
    answers = run_together(*[lambda: login(app, "vera", "not the password")] * (limit + 6))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(401) <= limit and statuses.count(429) >= 6, statuses
    assert_problem(login(app, "vera", PASSWORD), 429, "login-locked")


def test_a_taken_username_names_the_account_only_to_those_who_may_see_it(app, client):
    t1 = f.township(client)
    f.add_user(app, Role.VIEWER, username="county-viewer")
    leader = f.login_as(app, Role.TOWNSHIP_LEADER, username="lead", township_id=t1["id"])
    body = {"username": "County-Viewer", "display_name": "x", "password": "long enough pw", "role": "viewer"}
    assert "existing_id" not in assert_problem(leader.post(f"{API}/users", json=body), 409, "username-taken")
    assert "existing_id" in assert_problem(client.post(f"{API}/users", json=body), 409, "username-taken")
