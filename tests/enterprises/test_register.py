"""The register of enterprises: credit codes, the place derived from the location, the departments derived from the
sector, who sees and changes what, closing. Every test runs on SpatiaLite and on PostGIS (see conftest.py)."""

from __future__ import annotations

import pytest

from models.enterprises.credit_code import ALPHABET, credit_code_problem
from models.roles import Role
from tests import factories as f
from tests.factories import API, assert_problem

VALID = ("91110108551385082Q", "91110000600037341L")


@pytest.mark.parametrize("code", VALID)
def test_known_valid_codes_pass_and_every_single_character_slip_is_refused_naming_the_check_character(code):
    assert credit_code_problem(code) is None
    for position in range(18):
        for char in set(ALPHABET + "IOSVZ") - {code[position]}:
            altered = code[:position] + char + code[position + 1 :]
            problem = credit_code_problem(altered)
            assert problem is not None, altered
            assert "check character" in problem[1], altered


def test_the_api_refuses_a_mistyped_credit_code_with_a_422_naming_the_check_character(client, world):
    slip = "91110108551385083Q"
    body = f.assert_problem(
        client.post(
            f"{API}/enterprises",
            json={"name": "x", "credit_code": slip, "sector": "gas", "position": {"lon": 113.0, "lat": 28.0}},
        ),
        422,
        "credit-code-check",
    )
    assert "check character" in body["detail"] and body["errors"][0]["field"] == "credit_code"


def test_the_place_is_derived_from_the_location_in_any_coordinate_system(client, world):
    inside = f.enterprise(client, 500, 500, 1)
    assert (inside["cell_id"], inside["village_id"], inside["township_id"]) == (world["cA1"], world["vA1"], world["tA"])
    assert inside["unassigned"] is False
    assert inside["location"]["type"] == "Point"
    # in village vA1 but in no cell (cells cover the southern 1000 m only): kept, flagged, in its village and township
    outside = f.enterprise(client, 500, 1500, 2)
    assert (outside["cell_id"], outside["village_id"], outside["township_id"]) == (None, world["vA1"], world["tA"])
    assert outside["unassigned"] is True
    # beyond every township
    nowhere = f.enterprise(client, 500, 9000, 3)
    assert (nowhere["cell_id"], nowhere["village_id"], nowhere["township_id"]) == (None, None, None)
    # the same spot as a phone with Amap reports it (GCJ-02)
    from geo.coords import wgs84_to_gcj02

    gcj = wgs84_to_gcj02(*f.at(4500, 500))
    moved = f.enterprise(client, 0, 0, 4, position={"lon": gcj[0], "lat": gcj[1], "coord_system": "gcj02"})
    assert moved["cell_id"] == world["cB1"]
    assert moved["location"]["coordinates"] == pytest.approx(f.at(4500, 500), abs=1e-6)


def test_a_point_on_the_edge_between_two_cells_belongs_to_the_one_with_the_lower_code(client, world):
    edge = f.enterprise(client, 1000, 500, 1)  # on the edge of cA1 and cA2
    assert edge["cell_id"] == world["cA1"]


def test_listing_filters_and_unassigned_enterprises_for_the_township_leader(world):
    admin = world.admin
    f.enterprise(admin, 500, 500, 1, risk_level="red", major_hazard_grade=2, key_level="county")
    f.enterprise(admin, 1500, 500, 2, sector="gas")
    f.enterprise(admin, 500, 1500, 3, licence_expires_on="2026-12-31")
    f.enterprise(admin, 4500, 500, 4)
    names = lambda query, who="admin": [  # noqa: E731
        e["name"] for e in f.ok(world.as_(who).get(f"{API}/enterprises{query}"))["items"]
    ]
    assert names("") == ["企业1", "企业2", "企业3", "企业4"]
    assert names(f"?cell_id={world['cA2']}") == ["企业2"]
    assert names(f"?cell_id={world['cA1']}") == ["企业1"]  # the same shape of statement, another value
    assert names(f"?village_id={world['vA1']}") == ["企业1", "企业2", "企业3"]
    assert names("?sector=gas") == ["企业2"]
    assert names("?risk_level=red&major_hazard=true&key_level=county") == ["企业1"]
    assert names("?licence_expires_before=2027-01-01") == ["企业3"]
    assert names("?unassigned=true", "leader_a") == ["企业3"]
    assert names("", "leader_b") == ["企业4"]
    assert names("", "officer_a") == ["企业1"]  # officer oA1's cell is cA1
    assert names("?name=业2") == ["企业2"]
    first = f.ok(admin.get(f"{API}/enterprises?page_size=2"))
    second = f.ok(admin.get(f"{API}/enterprises?page_size=2&cursor={first['next_cursor']}"))
    assert [e["name"] for e in first["items"] + second["items"]] == ["企业1", "企业2", "企业3", "企业4"]
    collection = world.admin.get(f"{API}/enterprises?format=geojson")
    assert collection.mimetype == "application/geo+json"
    assert len(collection.get_json()["features"]) == 4


def test_a_township_leader_registers_enterprises_in_their_own_township_only(world):
    leader = world.as_("leader_a")
    f.enterprise(leader, 500, 500, 1)
    refused = leader.post(
        f"{API}/enterprises",
        json={
            "name": "x",
            "credit_code": f.credit_code(2),
            "sector": "gas",
            "position": dict(zip(("lon", "lat"), f.at(4500, 500), strict=True)),
        },
    )
    assert_problem(refused, 422, "location-outside-township")
    mine = f.enterprise(world.admin, 4500, 500, 3)
    assert_problem(world.as_("leader_a").get(f"{API}/enterprises/{mine['id']}"), 404, "not-found")
    assert_problem(world.as_("officer_a").post(f"{API}/enterprises", json={}), 403, "forbidden")


def test_credit_codes_are_unique_among_live_records_and_closing_frees_one(client, world):
    first = f.enterprise(client, 500, 500, 1)
    taken = f.enterprise(client, 600, 600, 1, expect=409)
    assert taken["code"] == "credit-code-taken" and taken["existing_id"] == first["id"]
    path = f"{API}/enterprises/{first['id']}"
    closed = f.ok(client.post(f"{path}/close", json={"reason": "已注销"}, headers={"If-Match": '"1"'}))
    assert (closed["status"], closed["close_reason"]) == ("closed", "已注销") and closed["closed_at"]
    assert f.ok(client.get(f"{API}/enterprises"))["items"] == []
    again = f.enterprise(client, 600, 600, 1)
    assert again["id"] != first["id"]
    assert_problem(client.patch(path, json={"name": "x"}, headers={"If-Match": '"2"'}), 409, "enterprise-closed")


def test_a_change_moves_the_place_and_the_history_keeps_every_step(client, world):
    created = f.enterprise(client, 500, 500, 1)
    path = f"{API}/enterprises/{created['id']}"
    lon, lat = f.at(2500, 500)
    moved = f.ok(
        client.patch(
            path, json={"position": {"lon": lon, "lat": lat}, "risk_level": "orange"}, headers={"If-Match": '"1"'}
        )
    )
    assert (moved["cell_id"], moved["village_id"], moved["version"]) == (world["cA3"], world["vA2"], 2)
    unchanged = client.patch(path, json={"risk_level": "orange"}, headers={"If-Match": '"2"'})
    assert f.ok(unchanged)["version"] == 2  # nothing changed: no new version
    events = f.ok(client.get(f"{API}/audit-events?entity_type=enterprises&entity_id={created['id']}"))["items"]
    assert [e["action"] for e in events] == ["update", "create"]
    assert events[0]["before"]["cell_id"] == world["cA1"] and events[0]["after"]["cell_id"] == world["cA3"]
    assert events[0]["after"]["risk_level"] == "orange"


def test_departments_follow_the_sector_unless_set_by_hand_and_department_staff_see_theirs_only(app, world):
    admin = world.admin
    yjj = f.department(admin)  # hazardous chemicals
    zjj = f.department(admin, code="ZJJ", name="县住建局", sectors=("gas",))
    chem = f.enterprise(admin, 500, 500, 1)
    gas = f.enterprise(admin, 1500, 500, 2, sector="gas")
    by_hand = f.enterprise(admin, 2500, 500, 3, sector="gas", department_ids=[yjj["id"]])
    assert (chem["department_ids"], gas["department_ids"]) == ([yjj["id"]], [zjj["id"]])
    assert (by_hand["department_ids"], by_hand["departments_set"]) == ([yjj["id"]], True)
    staff = f.login_as(app, Role.DEPARTMENT_STAFF, username="wang-yjj", department_id=yjj["id"])
    seen = [e["name"] for e in f.ok(staff.get(f"{API}/enterprises"))["items"]]
    assert seen == ["企业1", "企业3"]
    assert_problem(staff.get(f"{API}/enterprises/{gas['id']}"), 404, "not-found")  # like a missing id
    # the department takes on gas too: the enterprises that follow their sector follow
    f.ok(
        admin.patch(
            f"{API}/departments/{yjj['id']}",
            json={"sectors": ["hazardous_chemicals", "gas"]},
            headers={"If-Match": '"1"'},
        )
    )
    assert f.ok(admin.get(f"{API}/enterprises/{gas['id']}"))["department_ids"] == [yjj["id"], zjj["id"]]
    assert f.ok(staff.get(f"{API}/enterprises/{gas['id']}"))["name"] == "企业2"
    # back to the sector's
    back = admin.patch(f"{API}/enterprises/{by_hand['id']}", json={"department_ids": None}, headers={"If-Match": '"1"'})
    assert (f.ok(back)["department_ids"], f.ok(back)["departments_set"]) == ([yjj["id"], zjj["id"]], False)
