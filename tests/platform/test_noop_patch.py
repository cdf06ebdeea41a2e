"""A PATCH that changes nothing leaves the record alone: same version (so every other client's ETag stays good),
no audit event."""

from __future__ import annotations

import pytest

from models.roles import Role
from tests import factories as f
from tests.factories import API


def audit_count(client) -> int:
    return client.get(f"{API}/audit-events", query_string={"count": "true"}).get_json()["total"]


@pytest.fixture
def records(app, client):
    town = f.township(client)
    village = f.village(client, town["id"])
    cell = f.cell(client, village["id"])
    officer = client.post(f"{API}/officers", json={"name": "张伟", "mobile": "13800138000", "township_id": town["id"]})
    user_id = f.add_user(app, Role.VIEWER, username="vera")
    user = client.get(f"{API}/users/{user_id}").get_json()
    return {
        "townships": (town, {"name": town["name"], "boundary": town["boundary"]}),
        "villages": (village, {"name": village["name"]}),
        "grid-cells": (cell, {"boundary": cell["boundary"], "name": cell["name"]}),
        "officers": (officer.get_json(), {"name": "张伟", "mobile": "+86 138-0013-8000", "title": None}),
        "users": (user, {"display_name": user["display_name"], "role": "viewer"}),
    }


@pytest.mark.parametrize("kind", ["townships", "villages", "grid-cells", "officers", "users"])
def test_a_patch_that_changes_nothing_keeps_the_version_and_writes_no_audit_event(client, records, kind):
    record, same = records[kind]
    events = audit_count(client)

    response = client.patch(f"{API}/{kind}/{record['id']}", json=same, headers={"If-Match": f'"{record["version"]}"'})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["version"] == record["version"]
    assert response.headers["ETag"] == f'"{record["version"]}"'
    assert response.get_json()["updated_at"] == record["updated_at"]
    assert audit_count(client) == events


def test_a_patch_that_changes_something_still_moves_the_version(client, records):
    town, _same = records["townships"]

    response = client.patch(f"{API}/townships/{town['id']}", json={"name": "新镇"}, headers={"If-Match": '"1"'})

    assert response.get_json()["version"] == 2
