"""Hazards by place: near a point (nearest first, geodesic metres), in a map's box, as JSON or GeoJSON, each in the
caller's scope and through the spatial index. Every test runs on SpatiaLite and on PostGIS (see conftest.py)."""

from __future__ import annotations

import pytest
from pyproj import Geod

from models.hazards.model import Hazard
from models.hazards.queries import HAZARD_SELECT, hazard_box_listing
from models.roles import SYSTEM
from tests import factories as f
from tests.factories import API, assert_problem, query_plan
from tests.hazards.helpers import report

GEOD = Geod(ellps="WGS84")


def metres(a: list[float], b: list[float]) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


def test_hazards_near_a_point_nearest_first_with_their_geodesic_distance(world):
    admin = world.admin
    placed = (("here", 500, "general"), ("next", 600, "major"), ("near", 900, "general"), ("far", 1500, "general"))
    spots = {name: report(admin, x, 500, severity=severity) for name, x, severity in placed}
    lon, lat = (round(v, 7) for v in f.at(500, 500))
    answer = f.ok(admin.get(f"{API}/hazards/within-radius?lon={lon}&lat={lat}&radius_m=450"))
    assert [h["id"] for h in answer["items"]] == [spots[n]["id"] for n in ("here", "next", "near")]
    for item in answer["items"]:
        assert item["distance_m"] == pytest.approx(metres([lon, lat], item["location"]["coordinates"]), abs=0.2)
    assert answer["truncated"] is False and answer["position"] == {"lon": lon, "lat": lat, "coord_system": "wgs84"}
    limited = f.ok(admin.get(f"{API}/hazards/within-radius?lon={lon}&lat={lat}&radius_m=2000&limit=2"))
    assert len(limited["items"]) == 2 and limited["truncated"] is True
    major = f.ok(admin.get(f"{API}/hazards/within-radius?lon={lon}&lat={lat}&radius_m=2000&severity=major"))
    assert [h["id"] for h in major["items"]] == [spots["next"]["id"]]
    # officer_a's cell is cA1 (0-1000 m): the far one lies in cA2
    mine = f.ok(world.as_("officer_a").get(f"{API}/hazards/within-radius?lon={lon}&lat={lat}&radius_m=2000"))
    assert [h["id"] for h in mine["items"]] == [spots[n]["id"] for n in ("here", "next", "near")]
    features = admin.get(f"{API}/hazards/within-radius?lon={lon}&lat={lat}&radius_m=150&format=geojson")
    assert features.mimetype == "application/geo+json"
    body = features.get_json()
    assert [ft["id"] for ft in body["features"]] == [spots["here"]["id"], spots["next"]["id"]]
    assert "distance_m" in body["features"][1]["properties"]
    assert_problem(admin.get(f"{API}/hazards/within-radius?lon={lon}&lat={lat}&radius_m=60000"), 422,
                   "radius-out-of-range")  # fmt: skip


def test_hazards_in_a_map_box_paged_and_in_scope(world):
    admin = world.admin
    inside = [report(admin, x, 500) for x in (200, 400, 700)]
    report(admin, 4500, 500)
    west, south = f.at(100, 100)
    east, north = f.at(1000, 1000)
    bbox = f"{west},{south},{east},{north}"
    page = f.ok(admin.get(f"{API}/hazards/in-box?bbox={bbox}&page_size=2"))
    rest = f.ok(admin.get(page["next"]))
    assert [h["id"] for h in page["items"] + rest["items"]] == [h["id"] for h in inside]
    assert f.ok(world.as_("leader_b").get(f"{API}/hazards/in-box?bbox={bbox}"))["items"] == []
    geo = admin.get(f"{API}/hazards/in-box?bbox={bbox}", headers={"Accept": "application/geo+json"})
    assert len(geo.get_json()["features"]) == 3
    assert_problem(admin.get(f"{API}/hazards/in-box?bbox={east},{south},{west},{north}"), 422, "bbox-inverted")


def test_the_box_goes_through_the_spatial_index(world, session, backend):
    report(world.admin, 500, 500)
    listing = hazard_box_listing(caller=SYSTEM, dialect=backend, bounds=(113.0, 28.0, 113.01, 28.01))
    plan = query_plan(session, HAZARD_SELECT.with_only_columns(Hazard.id).where(*listing.where))
    if backend == "sqlite":
        assert "idx_hazards_location" in plan, plan
    else:
        assert "idx_hazards_location" in plan and "Seq Scan on hazards" not in plan, plan
    session.rollback()
