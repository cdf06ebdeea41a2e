"""If-Match that is not a strong ETag of the record: the 412 says what is wrong and what to send, and names no
version the record does not have."""

from __future__ import annotations

import re

import pytest

from tests import factories as f
from tests.factories import API, assert_problem


def versions_named(detail: str) -> set[str]:
    return set(re.findall(r'"(\d+)"', detail))


@pytest.mark.parametrize("sent", ['W/"2"', 'W/"1"', 'w/"1"'])
def test_a_weak_etag_is_refused_as_weak_without_a_made_up_version(client, sent):
    town = f.township(client)
    client.patch(f"{API}/townships/{town['id']}", json={"name": "二版镇"}, headers={"If-Match": '"1"'})

    body = assert_problem(
        client.patch(f"{API}/townships/{town['id']}", json={"name": "三版镇"}, headers={"If-Match": sent}),
        412,
        "precondition-failed",
    )

    assert "weak" in body["detail"]
    assert "double quotes" in body["detail"] and "GET" in body["detail"]
    assert versions_named(body["detail"]) <= versions_named(sent)
    assert client.get(f"{API}/townships/{town['id']}").get_json()["name"] == "二版镇"


@pytest.mark.parametrize("sent", ["1", "'1'", '"team-0123abcd"', '"v1"', '"²"'])
def test_an_if_match_that_is_no_etag_of_the_record_says_what_one_looks_like(client, sent):
    town = f.township(client)

    body = assert_problem(
        client.patch(f"{API}/townships/{town['id']}", json={"name": "改名镇"}, headers={"If-Match": sent}),
        412,
        "precondition-failed",
    )

    assert "weak" not in body["detail"]
    assert "double quotes" in body["detail"] and "GET" in body["detail"]
    assert versions_named(body["detail"]) <= versions_named(sent)
    assert "look like" not in body["detail"]


def test_a_weak_team_etag_is_refused_as_weak(client):
    town = f.township(client)
    village = f.village(client, town["id"])
    cell = f.cell(client, village["id"])
    officer = f.create(client, "officers", {"name": "张伟", "mobile": "13912345678", "township_id": town["id"]})
    team_etag = client.get(f"{API}/grid-cells/{cell['id']}/team").headers["ETag"]

    body = assert_problem(
        client.post(
            f"{API}/grid-cells/{cell['id']}/assignments",
            json={"officer_id": officer["id"], "role": "owner", "reason": "首次划定网格"},
            headers={"If-Match": f"W/{team_etag}"},
        ),
        412,
        "precondition-failed",
    )

    assert "weak" in body["detail"]
