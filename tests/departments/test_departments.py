"""Sectors and supervising departments: the seeded sectors, departments managed by the county administrator with the
sectors they supervise, retired but never deleted, every change in the audit trail; and department staff accounts.
Every test runs on SpatiaLite and on PostGIS (see conftest.py)."""

from __future__ import annotations

from models.departments.model import SEEDED_SECTORS
from models.roles import Role
from tests import factories as f
from tests.factories import API, assert_problem


def test_the_county_starts_with_the_usual_sectors_and_every_role_reads_them(world):
    for who in ("admin", "leader_a", "officer_a", "viewer_a"):
        items = f.ok(world.as_(who).get(f"{API}/sectors"))["items"]
        assert [item["code"] for item in items] == [code for code, _zh, _en in SEEDED_SECTORS], who
        assert items[0] == {
            "code": "hazardous_chemicals",
            "name": "危险化学品",
            "name_en": "hazardous chemicals",
            "department_ids": [],
        }


def test_an_administrator_adds_a_sector_once(client):
    body = {"code": "combustible_dust", "name": "粉尘涉爆", "name_en": "combustible dust"}
    assert f.create(client, "sectors", body) == body | {"department_ids": []}
    assert_problem(client.post(f"{API}/sectors", json=body), 409, "sector-code-taken")
    assert_problem(client.post(f"{API}/sectors", json=body | {"code": "dust2"}), 409, "sector-name-taken")
    assert "combustible_dust" in [s["code"] for s in f.ok(client.get(f"{API}/sectors"))["items"]]


def test_a_department_supervises_its_sectors_and_the_sector_list_says_so(client):
    yjj = f.department(client, sectors=("fireworks", "hazardous_chemicals", "fireworks"))
    assert yjj["sectors"] == ["fireworks", "hazardous_chemicals"]  # sorted, once each
    assert (yjj["code"], yjj["name"], yjj["active"], yjj["version"]) == ("YJJ", "县应急管理局", True, 1)
    zjj = f.department(client, code="ZJJ", name="县住房和城乡建设局", sectors=("construction", "gas"))
    f.department(client, code="SJJ", name="县市场监督管理局", sectors=("special_equipment", "gas"))
    by_code = {s["code"]: s["department_ids"] for s in f.ok(client.get(f"{API}/sectors"))["items"]}
    assert by_code["fireworks"] == [yjj["id"]]
    assert len(by_code["gas"]) == 2 and zjj["id"] in by_code["gas"]
    gas = f.ok(client.get(f"{API}/departments?sector=gas"))["items"]
    assert [d["code"] for d in gas] == ["SJJ", "ZJJ"]


def test_codes_and_names_are_unique_and_sectors_must_exist(client):
    first = f.department(client)
    taken = assert_problem(
        client.post(f"{API}/departments", json={"code": "YJJ", "name": "另一个"}), 409, "department-code-taken"
    )
    assert taken["existing_id"] == first["id"]
    assert_problem(
        client.post(f"{API}/departments", json={"code": "AJJ", "name": "县应急管理局"}), 409, "department-name-taken"
    )
    unknown = client.post(f"{API}/departments", json={"code": "AJJ", "name": "安监", "sectors": ["space_travel"]})
    assert_problem(unknown, 422, "sector-unknown")
    assert_problem(client.post(f"{API}/departments", json={"code": "yjj", "name": "x"}), 422, "department-code-format")
    assert_problem(
        client.post(f"{API}/departments", json={"code": "AJJ", "name": "x", "duty_phone": "call me"}),
        422,
        "phone-format",
    )


def test_a_change_needs_if_match_and_lands_in_the_audit_trail(client):
    yjj = f.department(client)
    path = f"{API}/departments/{yjj['id']}"
    assert_problem(client.patch(path, json={"sectors": ["fireworks"]}), 428, "precondition-required")
    changed = client.patch(
        path, json={"sectors": ["fireworks"], "duty_phone": "0731-55551234"}, headers={"If-Match": '"1"'}
    )
    assert f.ok(changed)["sectors"] == ["fireworks"] and changed.headers["ETag"] == '"2"'
    stale = client.patch(path, json={"name": "县应急局"}, headers={"If-Match": '"1"'})
    assert_problem(stale, 412, "precondition-failed")
    events = f.ok(client.get(f"{API}/audit-events?entity_type=departments&entity_id={yjj['id']}"))["items"]
    assert [e["action"] for e in events] == ["update", "create"]
    assert events[0]["before"]["sectors"] == ["hazardous_chemicals"]
    assert events[0]["after"]["sectors"] == ["fireworks"]


def test_only_an_administrator_changes_departments_but_everyone_reads_them(world):
    yjj = f.department(world.admin)
    for who in ("leader_a", "officer_a", "viewer_county"):
        caller = world.as_(who)
        assert f.ok(caller.get(f"{API}/departments/{yjj['id']}"))["code"] == "YJJ"
        assert_problem(caller.post(f"{API}/departments", json={"code": "X1", "name": "x"}), 403, "forbidden")
        assert_problem(
            caller.patch(f"{API}/departments/{yjj['id']}", json={"name": "x"}, headers={"If-Match": '"1"'}),
            403,
            "forbidden",
        )


def test_department_staff_belong_to_one_active_department(app, client):
    yjj = f.department(client)
    body = {
        "username": "wang-yjj",
        "display_name": "王应急",
        "password": "a long enough pass",
        "role": "department_staff",
    }
    assert_problem(client.post(f"{API}/users", json=body), 422, "department-required")
    assert_problem(client.post(f"{API}/users", json=body | {"department_id": 9999}), 422, "department-not-found")
    viewer = body | {"role": "viewer", "department_id": yjj["id"]}
    assert_problem(client.post(f"{API}/users", json=viewer), 422, "department-not-allowed")
    staff = f.create(client, "users", body | {"department_id": yjj["id"]})
    assert (staff["role"], staff["department_id"], staff["township_id"]) == ("department_staff", yjj["id"], None)
    me = f.ok(f.bearer(app, f.token_for(app, "wang-yjj", "a long enough pass")["access_token"]).get(f"{API}/auth/me"))
    assert me["scope"]["department_id"] == yjj["id"] and me["scope"]["county_wide"] is False


def test_a_department_with_active_staff_is_not_retired_and_a_retired_one_changes_no_more(app, client):
    yjj = f.department(client)
    staff = f.add_user(app, Role.DEPARTMENT_STAFF, username="wang-yjj", department_id=yjj["id"])
    retire = f"{API}/departments/{yjj['id']}/retire"
    assert_problem(client.post(retire, headers={"If-Match": '"1"'}), 409, "department-has-staff")
    f.ok(client.post(f"{API}/users/{staff}/deactivate", headers=f.if_match(client, f"users/{staff}")))
    retired = f.ok(client.post(retire, headers={"If-Match": '"1"'}))
    assert retired["active"] is False and retired["retired_at"] is not None
    assert f.ok(client.post(retire, headers={"If-Match": '"2"'}))["version"] == 2  # twice is once
    assert_problem(
        client.patch(f"{API}/departments/{yjj['id']}", json={"name": "新"}, headers={"If-Match": '"2"'}),
        409,
        "department-retired",
    )
    assert f.ok(client.get(f"{API}/departments"))["items"] == []
    assert len(f.ok(client.get(f"{API}/departments?include_retired=true"))["items"]) == 1
    body = {"username": "li-yjj", "display_name": "李", "password": "a long enough pass", "role": "department_staff"}
    assert_problem(client.post(f"{API}/users", json=body | {"department_id": yjj["id"]}), 422, "department-retired")


def test_department_staff_read_the_territory_and_its_people_county_wide_and_change_none_of_it(app, world):
    yjj = f.department(world.admin)
    staff = f.login_as(app, Role.DEPARTMENT_STAFF, username="wang-yjj", department_id=yjj["id"])
    assert world.names(f.ok(staff.get(f"{API}/townships"))["items"], "t") == ["tA", "tB"]
    assert world.names(f.ok(staff.get(f"{API}/grid-cells"))["items"], "c") == ["cA1", "cA2", "cA3", "cB1", "cB2"]
    assert world.names(f.ok(staff.get(f"{API}/officers"))["items"], "o") == ["oA1", "oA2", "oB1", "oB2"]
    assert f.ok(staff.get(f"{API}/grid-cells/{world['cB1']}/team"))["owner"]["officer"]["id"] == world["oB1"]
    assert_problem(staff.get(f"{API}/users"), 403, "forbidden")  # accounts are the managers' business
    assert_problem(staff.post(f"{API}/townships", json={}), 403, "forbidden")
    assert_problem(staff.get(f"{API}/audit-events"), 403, "forbidden")
