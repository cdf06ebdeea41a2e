"""The audit trail through the HTTP API: every write with who, when, what and the values before and after;
filters, newest first, pages; read by county administrators only, changed by nobody.

Every test runs on SpatiaLite and on PostGIS (see conftest.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from models.roles import Role
from tests import factories as f
from tests.accounts.users import (
    T2_BOX,
    T2_CODE,
    audit_events,
    change_password,
    deactivate,
    patch_user,
    reset_password,
    user,
)
from tests.factories import API, PASSWORD, PROBLEM_JSON, assert_problem, assert_recent_aware_time


def the_event(events: list[dict[str, Any]], entity_type: str, entity_id: int, action: str) -> dict[str, Any]:
    matches = [e for e in events if (e["entity_type"], e["entity_id"], e["action"]) == (entity_type, entity_id, action)]
    assert len(matches) == 1, (entity_type, entity_id, action, events)
    return matches[0]


# ---- the audit trail ----------------------------------------------------------------------------------------------


def test_every_write_is_audited_with_who_when_what_and_the_values_before_and_after(app, client):
    root = f.my_account(client)["id"]
    t1 = f.township(client)
    renamed = client.patch(f"{API}/townships/{t1['id']}", json={"name": "新青山镇"}, headers={"If-Match": '"1"'})
    assert renamed.status_code == 200, renamed.get_json()
    vic = user(client, "vic", Role.VIEWER)
    assert patch_user(client, vic["id"], {"role": "township_leader", "township_id": t1["id"]}).status_code == 200
    assert reset_password(client, vic["id"], "Reset by the admin 42").status_code == 200
    assert deactivate(client, vic["id"]).status_code == 200
    leader = f.login_as(app, Role.TOWNSHIP_LEADER, username="lena", township_id=t1["id"])
    lena = f.my_account(leader)["id"]
    village = f.village(leader, t1["id"])
    pair = f.token_for(app, "lena")
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
    lena = f.my_account(leader)["id"]
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
    zhang = f.officer(client, t1["id"])
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
