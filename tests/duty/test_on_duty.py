"""Who is on duty: for a unit, for every unit, and for a place given by GPS, GCJ-02 or BD-09, with the county
office's duty desk; drafts and cancelled periods count for nothing. Every test runs on both backends."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from geo.coords import CoordSystem, wgs84_to_gcj02
from models.roles import Role
from tests import factories as f
from tests.factories import API

PERIODS, ROSTERS, ON_DUTY = f"{API}/duty/periods", f"{API}/duty/rosters", f"{API}/duty/on-duty"
START = datetime.fromisoformat("2027-02-05T08:30:00+08:00")


def at(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat()


def as_reported(lon: float, lat: float, system: CoordSystem) -> tuple[float, float]:
    """A WGS-84 position as Amap (GCJ-02) or Baidu (BD-09) would report it."""
    if system is CoordSystem.WGS84:
        return lon, lat
    x, y = wgs84_to_gcj02(lon, lat)
    if system is CoordSystem.GCJ02:
        return x, y
    z = math.sqrt(x * x + y * y) + 0.00002 * math.sin(y * math.pi * 3000 / 180)
    theta = math.atan2(y, x) + 0.000003 * math.cos(x * math.pi * 3000 / 180)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def q(instant: str) -> str:
    return instant.replace("+", "%2B")


def test_who_is_on_duty_for_a_unit_every_unit_and_a_place(app, world):
    dept = f.ok(world.admin.post(f"{API}/departments", json={"code": "YJJ", "name": "应急管理局"}), 201)["id"]
    staff = f.add_user(app, Role.DEPARTMENT_STAFF, username="desk-1", department_id=dept)
    period = f.ok(world.admin.post(PERIODS, json={
        "name": "春节", "starts_at": at(0), "ends_at": at(48), "deadline": "2027-01-29T17:30:00+08:00",
        "desk_phone": "0731-55550000", "desk_department_id": dept}), 201)  # fmt: skip
    lead = {"user_id": world["u_leader_a"], "phone": "13900139000"}
    ta = f.ok(world.admin.post(ROSTERS, json={"period_id": period["id"], "township_id": world["tA"], "shifts": [
        {"starts_at": at(0), "ends_at": at(24), "leader": lead, "officers": [{"officer_id": world["oA1"]}],
         "phone": "0731-55550001"},
        {"starts_at": at(24), "ends_at": at(48), "leader": {"officer_id": world["oA2"]},
         "officers": [{"officer_id": world["oA1"]}]}]}), 201)  # fmt: skip
    desk = f.ok(world.admin.post(ROSTERS, json={"period_id": period["id"], "department_id": dept, "shifts": [
        {"starts_at": at(0), "ends_at": at(24), "leader": {"user_id": staff, "phone": "13700137000"},
         "officers": []}]}), 201)  # fmt: skip
    # drafts are nobody's duty yet
    assert all(not u["covered"] for u in f.ok(world.admin.get(f"{ON_DUTY}?at={q(at(3))}"))["units"])
    for r in (ta, desk):
        f.ok(world.admin.post(f"{ROSTERS}/{r['id']}/submit", headers={"If-Match": "*"}))

    board = f.ok(world.as_("officer_b").get(f"{ON_DUTY}?at={q(at(3))}"))  # every role reads every unit's duty
    assert [p["name"] for p in board["periods"]] == ["春节"]
    units = {(u["unit"]["kind"], u["unit"]["id"]): u for u in board["units"]}
    assert set(units) == {("township", world["tA"]), ("township", world["tB"]), ("department", dept)}
    shift = units[("township", world["tA"])]["shifts"][0]
    assert (shift["leader"]["name"], shift["leader"]["phone"], shift["officers"][0]["phone"], shift["phone"]) == (
        "Test township_leader", "13900139000", "13800138001", "0731-55550001")  # fmt: skip
    assert units[("township", world["tB"])]["covered"] is False and units[("township", world["tB"])]["shifts"] == []
    desk_duty = board["desk"]["duty"]
    assert board["desk"]["phone"] == "0731-55550000" and desk_duty["shifts"][0]["leader"]["user_id"] == staff

    later = f.ok(world.admin.get(f"{ON_DUTY}?at={q(at(30))}&township_id={world['tA']}"))
    assert [u["shifts"][0]["leader"]["officer_id"] for u in later["units"]] == [world["oA2"]]
    after = f.ok(world.admin.get(f"{ON_DUTY}?at={q(at(49))}"))  # the period is over: nobody is rostered
    assert (after["periods"], after["units"], after["desk"]) == ([], [], None)

    # a place: 500 m into cell cA1 of township tA, given as Amap (GCJ-02) and Baidu (BD-09) would
    lon, lat = f.at(500, 500)
    for system in (CoordSystem.WGS84, CoordSystem.GCJ02, CoordSystem.BD09):
        x, y = as_reported(lon, lat, system)
        here = f.ok(world.as_("viewer_b").get(f"{ON_DUTY}/here?lon={x}&lat={y}&coord_system={system.value}"
                                              f"&at={q(at(3))}"))  # fmt: skip
        assert here["township"]["id"] == world["tA"], system
        assert here["duty"]["shifts"][0]["leader"]["phone"] == "13900139000"
        assert here["desk"]["phone"] == "0731-55550000"
        assert abs(here["position"]["lon"] - lon) < 1e-5 and abs(here["position"]["lat"] - lat) < 1e-5
    nowhere = f.ok(world.admin.get(f"{ON_DUTY}/here?lon=100&lat=40&at={q(at(3))}"))
    assert (nowhere["township"], nowhere["duty"], nowhere["desk"]["phone"]) == (None, None, "0731-55550000")

    f.ok(world.admin.post(f"{PERIODS}/{period['id']}/cancel", json={"reason": "取消"}, headers={"If-Match": "*"}))
    assert f.ok(world.admin.get(f"{ON_DUTY}?at={q(at(3))}"))["units"] == []
