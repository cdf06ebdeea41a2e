"""Accounts, tokens and the audit trail through the API, as the accounts tests use them.

Times that the API would only reach after minutes (expired tokens, the end of a lock, the refresh grace window) are
reached by moving the stored instants back through the `session` fixture.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from models.accounts import AuthToken
from models.accounts.tokens import token_digest
from models.roles import Role
from tests import factories as f
from tests.factories import API, PASSWORD, assert_problem

HIDDEN_USER_KEYS = {"password", "password_hash", "failed_logins", "current_password", "new_password"}
T2_CODE = "430199102"
T2_BOX = (4000, 0, 8000, 4000)


def assert_invalid_token(response: Any) -> None:
    assert_problem(response, 401, "invalid-token")


def me(app: Flask, access_token: str) -> Any:
    """The answer to GET /auth/me with this access token."""
    return f.bearer(app, access_token).get(f"{API}/auth/me")


def refresh(app: Flask, refresh_token: str) -> Any:
    return app.test_client().post(f"{API}/auth/refresh", json={"refresh_token": refresh_token})


def assert_pair(response: Any) -> dict[str, Any]:
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
) -> Any:
    """The answer to POST /users."""
    body: dict[str, Any] = {"username": username, "display_name": f"User {username}", "password": password}
    body["role"] = role.value
    if township_id is not None:
        body["township_id"] = township_id
    if officer_id is not None:
        body["officer_id"] = officer_id
    return client.post(f"{API}/users", json=body)


def user(client: FlaskClient, username: str, role: Role, **kwargs: Any) -> dict[str, Any]:
    """An account created through POST /users."""
    response = new_user(client, username, role, **kwargs)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _if_match(client: FlaskClient, user_id: int, if_match: str | None) -> dict[str, str]:
    if if_match == "current":
        return f.if_match(client, f"users/{user_id}")
    return {"If-Match": if_match} if if_match is not None else {}


def patch_user(client: FlaskClient, user_id: int, body: dict[str, Any], if_match: str | None = "current") -> Any:
    return client.patch(f"{API}/users/{user_id}", json=body, headers=_if_match(client, user_id, if_match))


def deactivate(client: FlaskClient, user_id: int, if_match: str | None = "current") -> Any:
    return client.post(f"{API}/users/{user_id}/deactivate", headers=_if_match(client, user_id, if_match))


def reset_password(client: FlaskClient, user_id: int, new_password: str, if_match: str | None = "current") -> Any:
    return client.post(
        f"{API}/users/{user_id}/password",
        json={"new_password": new_password},
        headers=_if_match(client, user_id, if_match),
    )


def change_password(app: Flask, access_token: str, current: str, new: str) -> Any:
    return f.bearer(app, access_token).post(
        f"{API}/auth/password", json={"current_password": current, "new_password": new}
    )


def usernames(client: FlaskClient, **query: Any) -> set[str]:
    response = client.get(f"{API}/users", query_string={"page_size": 500, **query})
    assert response.status_code == 200, response.get_json()
    return {u["username"] for u in response.get_json()["items"]}


def lock(app: Flask, username: str) -> None:
    """Ten wrong passwords in a row: the account is locked."""
    assert app.config["LOGIN_MAX_FAILURES"] == 10
    for attempt in range(10):
        assert_problem(f.login(app, username, f"Wr0ng-guess-{attempt:02d}"), 401, "login-failed")


def audit_events(client: FlaskClient, **query: Any) -> list[dict[str, Any]]:
    response = client.get(f"{API}/audit-events", query_string={"page_size": 500, "count": "true", **query})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["total"] == len(body["items"])
    return body["items"]


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
