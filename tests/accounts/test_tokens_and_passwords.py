"""Logging in, refreshing, logging out and passwords through the HTTP API: token pairs, wrong passwords and the lock,
refresh tokens used once (with a grace window for a retry), sessions ended, passwords changed and reset.

Every test runs on SpatiaLite and on PostGIS (see conftest.py). Times that the API would only reach after minutes
(expired tokens, the end of a lock, the refresh grace window) are reached by moving the stored instants back
through the `session` fixture.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from models.accounts import AuthToken, User
from models.accounts.tokens import token_digest
from models.roles import Role
from tests import factories as f
from tests.accounts.users import (
    assert_invalid_token,
    assert_no_hidden_keys,
    assert_pair,
    change_password,
    deactivate,
    in_db,
    in_db_change,
    lock,
    me,
    move_token,
    refresh,
    reset_password,
    user,
)
from tests.factories import API, PASSWORD, ago, assert_problem

# ---- logging in ---------------------------------------------------------------------------------------------------


def test_login_answers_an_uncached_token_pair_whose_access_token_opens_auth_me(app, client, session):
    f.add_user(app, Role.VIEWER, username="vera")

    response = f.login(app, "vera", PASSWORD)

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
        "department_id": None,
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

    wrong = f.login(app, "vera", "Wr0ng-guess-for-vera")
    unknown = f.login(app, "nobody-here", "Wr0ng-guess-for-vera")

    assert_problem(wrong, 401, "login-failed")
    assert_problem(unknown, 401, "login-failed")
    assert wrong.get_json() == unknown.get_json()
    assert wrong.headers.get("WWW-Authenticate") == unknown.headers.get("WWW-Authenticate")
    assert "access_token" not in wrong.get_json()


def test_the_username_is_case_insensitive_at_login(app, client):
    created = user(client, "Mei.Ling", Role.VIEWER)
    assert created["username"] == "mei.ling"

    for spelling in ("MEI.LING", "Mei.Ling", "mei.ling"):
        body = assert_pair(f.login(app, spelling, PASSWORD))
        assert body["user"]["id"] == created["id"]
        assert me(app, body["access_token"]).get_json()["username"] == "mei.ling"


def test_a_deactivated_account_cannot_log_in(app, client):
    created = user(client, "vera", Role.VIEWER)
    assert_pair(f.login(app, "vera", PASSWORD))
    assert deactivate(client, created["id"]).status_code == 200

    refused = f.login(app, "vera", PASSWORD)

    assert_problem(refused, 401, "login-failed")
    assert refused.get_json() == f.login(app, "nobody-here", PASSWORD).get_json()


def test_ten_wrong_passwords_in_a_row_lock_the_account_even_against_the_right_password(app, client, session):
    vera = user(client, "vera", Role.VIEWER)

    lock(app, "vera")
    locked = f.login(app, "vera", PASSWORD)

    assert_problem(locked, 429, "login-locked")
    retry_after = int(locked.headers["Retry-After"])
    lock_seconds = app.config["LOGIN_LOCK_MINUTES"] * 60
    assert lock_seconds - 60 < retry_after <= lock_seconds + 1
    assert_problem(f.login(app, "vera", "Wr0ng-guess-again"), 429, "login-locked")
    shown = client.get(f"{API}/users/{vera['id']}").get_json()
    until = datetime.fromisoformat(shown["locked_until"])
    assert abs(until - (datetime.now(UTC) + timedelta(seconds=lock_seconds))) < timedelta(minutes=1)

    # the lock ends by itself
    in_db_change(session, update(User).where(User.id == vera["id"]).values(locked_until=ago(seconds=1)))
    assert_pair(f.login(app, "vera", PASSWORD))


def test_a_successful_login_resets_the_count_of_wrong_passwords(app, client):
    f.add_user(app, Role.VIEWER, username="vera")

    for _round in range(2):
        for attempt in range(9):
            assert_problem(f.login(app, "vera", f"Wr0ng-guess-{attempt}"), 401, "login-failed")
        assert_pair(f.login(app, "vera", PASSWORD))  # nine in a row, then a success: no lock, count reset

    lock(app, "vera")
    assert_problem(f.login(app, "vera", PASSWORD), 429, "login-locked")


# ---- refreshing ---------------------------------------------------------------------------------------------------


def test_refresh_answers_a_new_pair_and_uses_up_the_refresh_token(app, client, session):
    f.add_user(app, Role.VIEWER, username="vera")
    first = f.token_for(app, "vera")

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
    start = f.token_for(app, "vera")

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
    other_device = f.token_for(app, "vera")
    start = f.token_for(app, "vera")
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
    start = f.token_for(app, "vera")
    second = assert_pair(refresh(app, start["refresh_token"]))
    move_token(session, start["refresh_token"], used_at=ago(seconds=61))

    assert_invalid_token(refresh(app, start["refresh_token"]))

    assert_invalid_token(me(app, second["access_token"]))
    assert_invalid_token(refresh(app, second["refresh_token"]))


def test_an_access_token_is_no_refresh_token_and_a_refresh_token_no_access_token(app, client):
    f.add_user(app, Role.VIEWER, username="vera")
    pair = f.token_for(app, "vera")

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
    pair = f.token_for(app, "vera")
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
    phone, laptop = f.token_for(app, "vera"), f.token_for(app, "vera")

    response = f.bearer(app, phone["access_token"]).post(f"{API}/auth/logout")

    assert response.status_code == 204
    assert_invalid_token(me(app, phone["access_token"]))
    assert_invalid_token(refresh(app, phone["refresh_token"]))
    assert me(app, laptop["access_token"]).status_code == 200
    assert_pair(refresh(app, laptop["refresh_token"]))
    assert client.get(f"{API}/auth/me").status_code == 200


def test_a_password_change_needs_the_current_password_and_a_good_new_one(app, client):
    f.add_user(app, Role.VIEWER, username="pete")
    pair = f.token_for(app, "pete")

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
    assert_pair(f.login(app, "pete", PASSWORD))


def test_a_password_change_answers_a_new_pair_and_ends_every_other_session(app, client):
    f.add_user(app, Role.VIEWER, username="pete")
    this_device, other_device = f.token_for(app, "pete"), f.token_for(app, "pete")
    new_password = "A fine new passphrase"

    response = change_password(app, this_device["access_token"], PASSWORD, new_password)

    renewed = assert_pair(response)
    assert renewed["user"]["username"] == "pete"
    assert me(app, renewed["access_token"]).status_code == 200
    assert_invalid_token(me(app, other_device["access_token"]))
    assert_invalid_token(refresh(app, other_device["refresh_token"]))
    assert_invalid_token(me(app, this_device["access_token"]))
    assert_problem(f.login(app, "pete", PASSWORD), 401, "login-failed")
    assert_pair(f.login(app, "pete", new_password))
    assert_pair(refresh(app, renewed["refresh_token"]))
    assert client.get(f"{API}/auth/me").status_code == 200  # other users are not touched


def test_an_admin_password_reset_needs_if_match_ends_the_users_sessions_and_lifts_a_lock(app, client):
    rita = user(client, "rita", Role.VIEWER)
    pair = f.token_for(app, "rita")
    lock(app, "rita")
    assert_problem(f.login(app, "rita", PASSWORD), 429, "login-locked")
    new_password = "Reset by the admin 42"

    assert_problem(reset_password(client, rita["id"], new_password, if_match=None), 428, "precondition-required")
    assert_problem(reset_password(client, rita["id"], new_password, if_match='"99"'), 412, "precondition-failed")
    assert_problem(reset_password(client, rita["id"], "Sh0rt-pw"), 422, "password-too-short")
    assert_problem(f.login(app, "rita", new_password), 429, "login-locked")  # refused resets lifted nothing

    response = reset_password(client, rita["id"], new_password)

    assert response.status_code == 200, response.get_json()
    shown = response.get_json()
    assert_no_hidden_keys(shown)
    assert shown["locked_until"] is None
    assert shown["version"] == rita["version"] + 1
    assert response.headers["ETag"] == f'"{shown["version"]}"'
    assert_invalid_token(me(app, pair["access_token"]))
    assert_invalid_token(refresh(app, pair["refresh_token"]))
    assert_pair(f.login(app, "rita", new_password))
    assert_problem(f.login(app, "rita", PASSWORD), 401, "login-failed")
