"""Request bodies are JSON: a body of another media type is a 415 that says what to send, not a list of missing
fields; `application/json` with a charset, or no body at all where none is required, keep working."""

from __future__ import annotations

import pytest

from models.roles import Role
from tests import factories as f
from tests.factories import API, PASSWORD, assert_problem


def assert_not_json(response) -> None:
    body = assert_problem(response, 415, "unsupported-media-type")
    assert "Content-Type: application/json" in body["detail"]


def test_a_form_encoded_login_is_told_to_send_json(app):
    f.add_user(app, Role.VIEWER, username="vera")

    response = app.test_client().post(f"{API}/auth/token", data={"username": "vera", "password": PASSWORD})

    assert_not_json(response)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None]
)
def test_a_json_text_sent_as_another_media_type_is_a_415(app, content_type):
    f.add_user(app, Role.VIEWER, username="vera")
    body = f'{{"username": "vera", "password": "{PASSWORD}"}}'

    response = app.test_client().post(f"{API}/auth/token", data=body, content_type=content_type)

    assert_not_json(response)


def test_json_with_a_charset_is_json(app):
    f.add_user(app, Role.VIEWER, username="vera")
    body = f'{{"username": "vera", "password": "{PASSWORD}"}}'

    response = app.test_client().post(
        f"{API}/auth/token", data=body.encode(), content_type="application/json; charset=utf-8"
    )

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["access_token"]


def test_a_form_encoded_write_is_refused_and_changes_nothing(client):
    town = f.township(client)

    response = client.patch(f"{API}/townships/{town['id']}", data={"name": "改名镇"}, headers={"If-Match": '"1"'})

    assert_not_json(response)
    assert client.get(f"{API}/townships/{town['id']}").get_json()["name"] == town["name"]


def test_a_body_is_checked_only_after_the_token(app):
    response = app.test_client().post(f"{API}/townships", data={"name": "x"})

    assert_problem(response, 401, "unauthenticated")


def test_an_optional_body_may_still_be_left_out(client):
    town = f.township(client)
    officer = f.create(client, "officers", {"name": "张伟", "mobile": "13912345678", "township_id": town["id"]})

    response = client.post(f"{API}/officers/{officer['id']}/deactivate", headers={"If-Match": '"1"'})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["active"] is False


def test_every_operation_with_a_body_documents_the_415_and_no_other_does(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    wrong = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "patch", "put", "delete"):
                continue
            if ("requestBody" in operation) != ("415" in operation["responses"]):
                wrong.append(f"{method.upper()} {path}")

    assert wrong == []
    assert "415" in spec["paths"][f"{API}/auth/token"]["post"]["responses"]
