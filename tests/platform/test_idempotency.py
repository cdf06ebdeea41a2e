"""A retried write with the same Idempotency-Key answers the first answer and never does the work twice."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models.idempotency import IdempotencyKey
from models.people import Officer
from models.roles import Role
from tests import factories as f
from tests.factories import API, assert_problem, race


def officer_body(township_id: int, mobile: str = "13800138000", name: str = "张伟") -> dict:
    return {"name": name, "mobile": mobile, "township_id": township_id}


def officers_in(session) -> int:
    return session.scalar(select(func.count()).select_from(Officer))


def test_the_same_key_and_body_answer_the_first_answer_without_a_second_record(client, session):
    town = f.township(client)
    key = {"Idempotency-Key": str(uuid.uuid4())}

    first = client.post(f"{API}/officers", json=officer_body(town["id"]), headers=key)
    again = client.post(f"{API}/officers", json=officer_body(town["id"]), headers=key)

    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert again.mimetype == "application/json"
    assert officers_in(session) == 1


def test_a_json_body_counts_by_its_content_not_its_spelling(client, session):
    town = f.township(client)
    key = {"Idempotency-Key": "retry-1", "Content-Type": "application/json"}
    spelt = '{"name": "张伟", "mobile": "13800138000", "township_id": TOWN}'.replace("TOWN", str(town["id"]))
    respelt = '{"township_id":TOWN,"mobile":"13800138000","name":"张伟"}'.replace("TOWN", str(town["id"]))

    first = client.post(f"{API}/officers", data=spelt.encode(), headers=key)
    again = client.post(f"{API}/officers", data=respelt.encode(), headers=key)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert officers_in(session) == 1


def test_the_same_key_with_another_body_is_refused_and_creates_nothing(client, session):
    town = f.township(client)
    key = {"Idempotency-Key": "k-1"}
    assert client.post(f"{API}/officers", json=officer_body(town["id"]), headers=key).status_code == 201

    other = client.post(f"{API}/officers", json=officer_body(town["id"], mobile="13900139000"), headers=key)
    elsewhere = client.post(f"{API}/townships", json={"code": "430199109"}, headers=key)

    assert_problem(other, 422, "idempotency-key-reused")
    assert_problem(elsewhere, 422, "idempotency-key-reused")
    assert officers_in(session) == 1


def test_twenty_identical_posts_at_once_create_one_record_and_all_answer_it(client, session):
    town = f.township(client)
    key = {"Idempotency-Key": str(uuid.uuid4())}

    answers = race(client, *[lambda c: c.post(f"{API}/officers", json=officer_body(town["id"]), headers=key)] * 20)

    assert [a.status_code for a in answers] == [201] * 20, [a.get_json() for a in answers if a.status_code != 201]
    assert len({a.get_json()["id"] for a in answers}) == 1
    assert len({a.headers["Location"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 19
    assert officers_in(session) == 1


def test_keys_belong_to_one_account(app, client, session):
    town = f.township(client)
    leader = f.login_as(app, Role.TOWNSHIP_LEADER, username="lena", township_id=town["id"])
    key = {"Idempotency-Key": "shared-key"}

    mine = client.post(f"{API}/officers", json=officer_body(town["id"]), headers=key)
    theirs = leader.post(f"{API}/officers", json=officer_body(town["id"], mobile="13900139000"), headers=key)

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in theirs.headers
    assert officers_in(session) == 2


def test_a_refused_request_changes_nothing_so_its_retry_runs_again(client, session):
    town = f.township(client)
    key = {"Idempotency-Key": "fix-and-retry"}

    refused = client.post(f"{API}/officers", json=officer_body(town["id"], mobile="123"), headers=key)
    fixed = client.post(f"{API}/officers", json=officer_body(town["id"]), headers=key)

    assert_problem(refused, 422, "mobile-format")
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers
    assert officers_in(session) == 1


def test_an_action_replays_its_answer_too(client):
    town = f.township(client)
    key = {"Idempotency-Key": "retire-once", "If-Match": '"1"'}

    first = client.post(f"{API}/townships/{town['id']}/retire", headers=key)
    again = client.post(f"{API}/townships/{town['id']}/retire", headers=key)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("bad", ["", "has space", "é" * 3, "x" * 256])
def test_a_malformed_key_is_refused(client, bad):
    town = f.township(client)

    response = client.post(f"{API}/officers", json=officer_body(town["id"]), headers={"Idempotency-Key": bad})

    assert_problem(response, 422, "idempotency-key-invalid")


def age(session) -> None:
    """Every key expired two days ago."""
    for key in session.scalars(select(IdempotencyKey)):
        key.expires_at -= timedelta(days=2)
    session.commit()


def test_an_expired_key_is_forgotten_and_purged(app, client, session):
    town = f.township(client)
    key = {"Idempotency-Key": "old"}
    assert client.post(f"{API}/officers", json=officer_body(town["id"]), headers=key).status_code == 201
    age(session)

    again = client.post(f"{API}/officers", json=officer_body(town["id"]), headers=key)

    assert_problem(again, 409, "mobile-taken")  # the work ran again: the natural key caught it
    fresh = {"Idempotency-Key": "fresh"}
    assert (
        client.post(f"{API}/officers", json=officer_body(town["id"], "13900139000"), headers=fresh).status_code == 201
    )
    age(session)
    output = app.test_cli_runner().invoke(args=["auth", "purge-tokens"]).output
    assert "1 expired idempotency keys deleted" in output
    assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


# POSTs that ask and change nothing (a question whose geometry is too big for a query string)
QUESTIONS = {f"{API}/enterprises/near-geometry"}


def test_every_write_but_logging_in_takes_an_idempotency_key_in_the_spec(anonymous):
    spec = anonymous.get(f"{API}/openapi.json").get_json()
    missing = []
    for path, operations in spec["paths"].items():
        post = operations.get("post")
        if post is None or path.startswith(f"{API}/auth/") or path in QUESTIONS:
            continue
        names = {p["name"] for p in post.get("parameters", []) if p["in"] == "header"}
        if "Idempotency-Key" not in names:
            missing.append(path)
    assert missing == []
    assert len([p for p, ops in spec["paths"].items() if "post" in ops]) > 10


def test_a_write_with_both_headers_documents_both(anonymous):
    spec = anonymous.get(f"{API}/openapi.json").get_json()
    operation = spec["paths"][f"{API}/users/{{user_id}}/deactivate"]["post"]

    headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}

    assert set(headers) == {"If-Match", "Idempotency-Key"}
    assert headers["If-Match"]["required"] and not headers["Idempotency-Key"]["required"]
