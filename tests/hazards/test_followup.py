"""The steps beside a hazard's states: referral to a department, interim measures and extensions, listed supervision
and its visits. Every test runs on SpatiaLite and on PostGIS (see conftest.py)."""

from __future__ import annotations

from datetime import date

import pytest

from api.db import db
from models.hazards.model import Hazard
from models.roles import SYSTEM, Role
from tests import factories as f
from tests.factories import API, assert_problem
from tests.hazards.helpers import hazard_in, in_days, ok_step, report


def act(client, hazard: dict, path: str, **body) -> object:
    return client.post(
        f"{API}/hazards/{hazard['id']}/{path}", json=body, headers={"If-Match": f'"{hazard["version"]}"'}
    )


def ids(client, query: str = "") -> set[int]:
    return {h["id"] for h in f.ok(client.get(f"{API}/hazards{query}"))["items"]}


@pytest.fixture
def departments(app, world):
    admin = world.admin
    xfj = f.department(admin, code="XFJ", name="县消防救援大队", sectors=("crowded_place",))
    yjj = f.department(admin, sectors=("hazardous_chemicals",))
    return {
        "xfj": xfj,
        "yjj": yjj,
        "xfj_staff": f.login_as(app, Role.DEPARTMENT_STAFF, username="xfj-zhao", department_id=xfj["id"]),
        "yjj_staff": f.login_as(app, Role.DEPARTMENT_STAFF, username="yjj-wang", department_id=yjj["id"]),
    }


def test_a_township_refers_a_hazard_and_the_department_takes_it_on_or_sends_it_back(world, departments):
    leader, yjj_staff = world.as_("leader_a"), departments["yjj_staff"]
    hazard = report(world.admin, 500, 500)  # crowded place, no enterprise: the fire brigade sees it already
    assert hazard["id"] not in ids(yjj_staff)
    assert_problem(act(world.as_("officer_a"), hazard, "referral", comment="x"), 403, "forbidden")

    referred = f.ok(act(leader, hazard, "referral", department_id=departments["yjj"]["id"], comment="涉及危化品"))
    assert (referred["referral_status"], referred["referred_department_id"], referred["status"]) == (
        "pending", departments["yjj"]["id"], "reported"
    )  # fmt: skip
    assert hazard["id"] in ids(yjj_staff) and hazard["id"] in ids(
        yjj_staff, f"?referred_department_id={departments['yjj']['id']}"
    )
    assert "accept_referral" in referred["next_actions"] and "refer" not in referred["next_actions"]
    # the fire brigade may see it, but the referral is not theirs to answer
    assert_problem(act(departments["xfj_staff"], referred, "referral-acceptance", comment="x"), 403,
                   "not-referred-to-you")  # fmt: skip
    returned = f.ok(act(yjj_staff, referred, "referral-return", comment="不属于本部门职责"))
    assert returned["referral_status"] == "returned"
    assert hazard["id"] not in ids(yjj_staff)
    assert_problem(yjj_staff.get(f"{API}/hazards/{hazard['id']}"), 404, "not-found")

    again = f.ok(act(leader, returned, "referral", department_id=departments["yjj"]["id"], comment="再次移交"))
    accepted = f.ok(act(yjj_staff, again, "referral-acceptance", comment="已接收"))
    assert accepted["referral_status"] == "accepted" and hazard["id"] in ids(yjj_staff)
    # department staff now work it: start its rectification
    assert ok_step(yjj_staff, accepted, "start_rectification")["status"] == "rectifying"
    steps = f.ok(world.admin.get(f"{API}/hazards/{hazard['id']}/steps"))["items"]
    assert [s["action"] for s in steps] == [
        "report", "refer", "return_referral", "refer", "accept_referral", "start_rectification"
    ]  # fmt: skip
    assert steps[2]["comment"] == "不属于本部门职责"


def test_a_referral_goes_by_default_to_the_department_of_the_enterprise(world, departments):
    plant = f.enterprise(world.admin, 1500, 500, 1)
    hazard = report(world.admin, enterprise_id=plant["id"])
    referred = f.ok(act(world.as_("leader_a"), hazard, "referral", comment="移交"))
    assert referred["referred_department_id"] == departments["yjj"]["id"]


def test_an_extension_is_asked_with_a_reason_and_decided_by_someone_else(app, world, departments):
    admin, leader = world.admin, world.as_("leader_a")
    hazard = ok_step(admin, report(admin), "start_rectification", deadline=in_days(5))
    assert_problem(act(leader, hazard, "extension-request", deadline=in_days(3), comment="x"), 422,
                   "deadline-not-later")  # fmt: skip
    asked = f.ok(act(leader, hazard, "extension-request", deadline=in_days(20), comment="需厂家供货"))
    assert (asked["extension_deadline"], asked["deadline"]) == (in_days(20), in_days(5))
    assert "request_extension" not in asked["next_actions"]
    assert_problem(act(leader, asked, "extension-approval", comment="同意"), 403, "own-request")
    assert_problem(act(world.as_("officer_a"), asked, "extension-approval", comment="同意"), 403, "forbidden")
    approved = f.ok(act(admin, asked, "extension-approval", comment="同意"))
    assert (approved["deadline"], approved["extension_deadline"]) == (in_days(20), None)
    asked = f.ok(act(leader, approved, "extension-request", deadline=in_days(40), comment="再延"))
    refused = f.ok(act(admin, asked, "extension-refusal", comment="不同意"))
    assert (refused["deadline"], refused["extension_deadline"]) == (in_days(20), None)


def test_an_overdue_hazard_records_interim_measures_before_it_may_be_extended(app, world):
    admin, leader = world.admin, world.as_("leader_a")
    hazard = ok_step(admin, report(admin), "start_rectification", deadline=in_days(1))
    with db.new_session(app) as session:  # time passes: the deadline was yesterday
        session.info["actor"] = SYSTEM
        session.get(Hazard, hazard["id"]).deadline = date.fromisoformat(in_days(-1))
        session.commit()
    hazard = f.ok(admin.get(f"{API}/hazards/{hazard['id']}"))
    assert hazard["overdue"] is True
    assert_problem(act(leader, hazard, "extension-request", deadline=in_days(10), comment="延期"), 422,
                   "interim-measures-required")  # fmt: skip
    measured = f.ok(act(world.as_("officer_a"), hazard, "interim-measures", measures="设置警戒区，专人值守"))
    assert measured["interim_measures"] == "设置警戒区，专人值守"
    asked = f.ok(act(leader, measured, "extension-request", deadline=in_days(10), comment="延期"))
    assert asked["extension_deadline"] == in_days(10)
    step = f.ok(admin.get(f"{API}/hazards/{hazard['id']}/steps"))["items"][-1]
    assert step["details"] == {"deadline": in_days(10), "previous_deadline": in_days(-1), "overdue": True}


def test_a_major_hazard_under_listed_supervision_until_it_closes(app, world, departments):
    admin, other = world.admin, f.login_as(app, Role.COUNTY_ADMIN, username="admin-2")
    general = report(admin)
    assert_problem(act(admin, general, "listing", level="county", body="县安委会", document_number="县安委〔2026〕3号",
                       listed_on=in_days(0)), 409, "transition-not-allowed")  # fmt: skip
    major = hazard_in(admin, other, "rectifying", severity="major")
    listing = {"level": "city", "body": "市安委会", "document_number": "市安委〔2026〕9号", "listed_on": in_days(0)}
    assert_problem(act(world.as_("leader_a"), major, "listing", **listing), 403, "forbidden")
    listed = f.ok(act(admin, major, "listing", **listing))
    assert (listed["listed_level"], listed["listed_by"], listed["listing_lifted_at"]) == ("city", "市安委会", None)
    assert ids(admin, "?listed=true") == {major["id"]} and general["id"] in ids(admin, "?listed=false")
    visit = {"visited_on": in_days(0), "visited_by": "县安委办 张主任", "findings": "措施落实到位"}
    visited = f.ok(act(departments["xfj_staff"], listed, "supervision-visits", **visit))
    step = f.ok(admin.get(f"{API}/hazards/{major['id']}/steps"))["items"][-1]
    assert (step["action"], step["comment"], step["details"]["visited_by"]) == (
        "supervision_visit", "措施落实到位", "县安委办 张主任"
    )  # fmt: skip
    closed = ok_step(other, ok_step(admin, visited, "rectified"), "accept")
    assert closed["listing_lifted_at"] and closed["listed_level"] == "city"
    assert_problem(act(admin, closed, "supervision-visits", **visit), 409, "transition-not-allowed")
