"""Enforcement documents: kept in the ledger, each with its effect on the enterprise, issued by departments only; a
resumption with an open major hazard is refused and changes nothing. Every test runs on SpatiaLite and on PostGIS
(see conftest.py)."""

from __future__ import annotations

from datetime import date

import pytest

from models.roles import Role
from tests import factories as f
from tests.factories import API, assert_problem
from tests.hazards.helpers import hazard_in, report

TODAY = date.today().isoformat()


@pytest.fixture
def county(app, world):
    """The 应急管理局 (hazardous chemicals) with a staff account, and a chemical plant in cA2 of township tA."""
    admin = world.admin
    yjj = f.department(admin, sectors=("hazardous_chemicals",))
    zjj = f.department(admin, code="ZJJ", name="县住建局", sectors=("gas",))
    staff = f.login_as(app, Role.DEPARTMENT_STAFF, username="yjj-wang", department_id=yjj["id"])
    plant = f.enterprise(admin, 1500, 500, 1)
    return {"admin": admin, "staff": staff, "yjj": yjj, "zjj": zjj, "plant": plant,
            "other": f.login_as(app, Role.COUNTY_ADMIN, username="admin-2")}  # fmt: skip


def issue(client, kind: str, enterprise_id: int, number: str, **fields):
    body = {"kind": kind, "number": number, "issued_on": TODAY, "enterprise_id": enterprise_id,
            "signer": "王局长"} | fields  # fmt: skip
    return client.post(f"{API}/enforcement-documents", json=body)


def status_of(client, enterprise_id: int) -> str:
    return f.ok(client.get(f"{API}/enterprises/{enterprise_id}"))["status"]


def test_a_suspension_then_a_resumption_once_the_major_hazard_is_closed(world, county):
    admin, staff, plant = county["admin"], county["staff"], county["plant"]
    major = hazard_in(admin, county["other"], "rectifying", severity="major", enterprise_id=plant["id"])
    order = f.ok(
        issue(staff, "rectification_order", plant["id"], "责改〔2026〕1号", hazard_ids=[major["id"]], time_limit=TODAY),
        201,
    )
    assert (order["department_id"], order["hazard_ids"], order["township_id"]) == (
        county["yjj"]["id"], [major["id"]], world["tA"]
    )  # fmt: skip
    assert status_of(admin, plant["id"]) == "operating"
    f.ok(issue(staff, "suspension_order", plant["id"], "停整〔2026〕1号", hazard_ids=[major["id"]]), 201)
    assert status_of(admin, plant["id"]) == "suspended"

    before = f.ok(admin.get(f"{API}/enterprises/{plant['id']}"))
    refused = assert_problem(issue(staff, "resumption_acceptance", plant["id"], "复验〔2026〕1号"), 409,
                             "open-major-hazards")  # fmt: skip
    assert refused["hazard_numbers"] == [major["number"]]
    assert f.ok(admin.get(f"{API}/enterprises/{plant['id']}")) == before  # nothing changed
    assert [d["number"] for d in f.ok(admin.get(f"{API}/enforcement-documents"))["items"]] == [
        "停整〔2026〕1号", "责改〔2026〕1号"
    ]  # fmt: skip

    major = f.ok(admin.get(f"{API}/hazards/{major['id']}"))
    from tests.hazards.helpers import ok_step

    ok_step(county["other"], ok_step(admin, major, "rectified"), "accept")
    resumed = f.ok(issue(staff, "resumption_acceptance", plant["id"], "复验〔2026〕1号"), 201)
    assert resumed["kind"] == "resumption_acceptance" and status_of(admin, plant["id"]) == "operating"
    about = f.ok(admin.get(f"{API}/enforcement-documents?hazard_id={major['id']}"))["items"]
    assert {d["number"] for d in about} == {"责改〔2026〕1号", "停整〔2026〕1号"}


def test_a_resumption_needs_a_suspended_enterprise_and_a_closure_closes_it(county):
    admin, staff, plant = county["admin"], county["staff"], county["plant"]
    assert_problem(issue(staff, "resumption_acceptance", plant["id"], "复验1"), 409, "enterprise-not-suspended")
    f.ok(issue(staff, "closure", plant["id"], "关闭1"), 201)
    closed = f.ok(admin.get(f"{API}/enterprises/{plant['id']}"))
    assert closed["status"] == "closed" and closed["closed_at"] and "关闭1" in closed["close_reason"]
    assert_problem(issue(staff, "suspension_order", plant["id"], "停整2"), 409, "enterprise-closed")


def test_only_departments_issue_and_only_for_their_enterprises(app, world, county):
    admin, staff, plant = county["admin"], county["staff"], county["plant"]
    gas = f.enterprise(admin, 500, 500, 2, sector="gas")
    assert_problem(issue(world.as_("leader_a"), "suspension_order", plant["id"], "x1"), 403, "forbidden")
    assert_problem(issue(world.as_("officer_a"), "suspension_order", plant["id"], "x2"), 403, "forbidden")
    refused = issue(staff, "suspension_order", gas["id"], "x3")
    assert_problem(refused, 422, "enterprise-not-found")
    assert status_of(admin, gas["id"]) == "operating"
    wrong = issue(staff, "suspension_order", plant["id"], "x4", department_id=county["zjj"]["id"])
    assert_problem(wrong, 422, "department-not-allowed")
    assert_problem(issue(admin, "suspension_order", plant["id"], "x5"), 422, "department-required")
    by_county = f.ok(issue(admin, "suspension_order", gas["id"], "x6", department_id=county["zjj"]["id"]), 201)
    assert by_county["department_id"] == county["zjj"]["id"]
    other_hazard = report(admin, 500, 500)
    assert_problem(issue(staff, "rectification_order", plant["id"], "x7", time_limit=TODAY,
                         hazard_ids=[other_hazard["id"]]), 422, "hazard-not-found")  # fmt: skip
    assert_problem(issue(staff, "rectification_order", plant["id"], "x8"), 422, "time-limit-required")
    f.ok(issue(staff, "suspension_order", plant["id"], "x9"), 201)
    taken = assert_problem(issue(staff, "closure", plant["id"], "x9"), 409, "document-number-taken")
    assert "existing_id" in taken
    assert status_of(admin, plant["id"]) == "suspended"


def test_who_reads_which_documents(app, world, county):
    admin, staff, plant = county["admin"], county["staff"], county["plant"]
    in_b = f.enterprise(admin, 4500, 500, 3)
    a = f.ok(issue(staff, "suspension_order", plant["id"], "A1"), 201)
    b = f.ok(issue(staff, "suspension_order", in_b["id"], "B1"), 201)
    zjj_staff = f.login_as(app, Role.DEPARTMENT_STAFF, username="zjj-li", department_id=county["zjj"]["id"])
    seen = {
        "admin": {a["id"], b["id"]},
        "leader_a": {a["id"]},
        "leader_b": {b["id"]},
        "officer_a": set(),  # the plant stands in cA2, not officer_a's cell
        "viewer_county": {a["id"], b["id"]},
    }
    for who, expected in seen.items():
        listed = {d["id"] for d in f.ok(world.as_(who).get(f"{API}/enforcement-documents"))["items"]}
        assert listed == expected, who
        for document_id in {a["id"], b["id"]} - expected:
            assert_problem(world.as_(who).get(f"{API}/enforcement-documents/{document_id}"), 404, "not-found")
    assert {d["id"] for d in f.ok(staff.get(f"{API}/enforcement-documents"))["items"]} == {a["id"], b["id"]}
    assert f.ok(zjj_staff.get(f"{API}/enforcement-documents"))["items"] == []
