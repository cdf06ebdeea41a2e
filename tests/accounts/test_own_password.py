"""Account fixes: an administrator's reset of another user's password is not a way round their own current password."""

from __future__ import annotations

from models.roles import Role
from tests.factories import API, PASSWORD, assert_problem, login_as, token_for

NEW_PASSWORD = "A brand new secret 77"


def test_an_administrator_cannot_reset_their_own_password_without_the_current_one(app):
    admin = login_as(app, Role.COUNTY_ADMIN, username="ada")
    login_as(app, Role.COUNTY_ADMIN, username="bob")  # another administrator: not the last-admin rule at work
    me = admin.get(f"{API}/auth/me")
    own_id, etag = me.get_json()["id"], me.headers["ETag"]

    for if_match in (etag, "*"):
        response = admin.post(
            f"{API}/users/{own_id}/password", json={"new_password": NEW_PASSWORD}, headers={"If-Match": if_match}
        )

        body = assert_problem(response, 409, "own-password")
        assert "POST /api/v1/auth/password" in body["detail"]

    # nothing changed: the old password still logs in, the new one does not, this session goes on
    assert token_for(app.test_client(), "ada", PASSWORD)["user"]["version"] == me.get_json()["version"]
    assert_problem(
        app.test_client().post(f"{API}/auth/token", json={"username": "ada", "password": NEW_PASSWORD}),
        401,
        "login-failed",
    )
    assert admin.get(f"{API}/auth/me").status_code == 200


def test_an_administrator_still_resets_another_administrators_password(app):
    admin = login_as(app, Role.COUNTY_ADMIN, username="ada")
    login_as(app, Role.COUNTY_ADMIN, username="bob")
    bob = next(u for u in admin.get(f"{API}/users").get_json()["items"] if u["username"] == "bob")

    response = admin.post(
        f"{API}/users/{bob['id']}/password", json={"new_password": NEW_PASSWORD}, headers={"If-Match": "*"}
    )

    assert response.status_code == 200, response.get_json()
    assert token_for(app.test_client(), "bob", NEW_PASSWORD)["user"]["username"] == "bob"


def test_the_spec_documents_the_own_password_refusal(client):
    spec = client.get(f"{API}/openapi.json").get_json()

    conflict = spec["paths"][f"{API}/users/{{user_id}}/password"]["post"]["responses"]["409"]

    assert "own" in conflict["description"]
