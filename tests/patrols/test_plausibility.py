"""Plausibility: generated tracks that break one rule each get exactly that flag, with its figures; a clean track,
or GPS jitter within the fixes' accuracy, gets none; a flag never refuses a record. Both backends (conftest.py)."""

from __future__ import annotations

import uuid as uuids
from datetime import timedelta

import pytest
from pyproj import Geod
from shapely.geometry import LineString, box

from tests import factories as f
from tests.factories import API


def fix(start, seconds: float, x: float, y: float = 300, accuracy: float = 5) -> dict:
    lon, lat = f.at(x, y)
    return {"at": (start + timedelta(seconds=seconds)).isoformat(), "lon": lon, "lat": lat, "accuracy_m": accuracy}


def patrol(world, points, *, minutes: int = 30, check_ins=(), **extra) -> dict:
    start = f.ago(hours=1)
    body = {"uuid": str(uuids.uuid4()), "kind": "grid_patrol", "cell_ids": [world["cA1"]],
            "started_at": start.isoformat(), "ended_at": (start + timedelta(minutes=minutes)).isoformat(),
            "points": [fix(start, *p) for p in points], "check_ins": list(check_ins)} | extra  # fmt: skip
    return f.ok(world.as_("officer_a").post(f"{API}/patrols", json=body), 201)


def codes(answer) -> list[str]:
    return [flag["code"] for flag in answer["flags"]]


WALK = [(60 * m, 100 + 20 * m) for m in range(31)]  # 20 m a minute along cA1's southern part, start to end


def test_a_clean_track_and_gps_jitter_raise_no_flag(world):
    clean = patrol(world, WALK)
    assert (codes(clean), clean["share_inside"], clean["travel_mode"]) == ([], 1.0, "walking")
    # a fix every 5 s, each 20 m off to either side of a slow walk: 8 m/s jumps the 25 m accuracies explain
    jitter = [(5 * i, 100 + 2 * i, 300 + (20 if i % 2 else -20), 25) for i in range(360)]
    assert codes(patrol(world, jitter)) == []


def test_an_implausible_speed_is_flagged_for_its_travel_mode(world):
    leap = sorted([*WALK, (630, 900)])  # 30 s after minute 10 (x 300), 600 m east: 72 km/h
    walked = patrol(world, leap)
    assert codes(walked) == ["implausible-speed"]
    figures = walked["flags"][0]["figures"]
    assert figures["steps"] == 2 and figures["limit_kmh"] == 15 and 60 < figures["max_speed_kmh"] < 80
    assert codes(patrol(world, leap, travel_mode="driving")) == []


def test_a_track_that_strays_from_its_cells_is_kept_and_flagged_with_its_share(world):
    straying = [(60 * m, 100 + 60 * m) for m in range(31)]  # east from cA1 into cA2 (the line at x = 1000 m)
    answer = patrol(world, straying)
    assert codes(answer) == ["outside-cells"]
    geod, line = Geod(ellps="WGS84"), LineString([f.at(100 + 60 * m, 300) for m in range(31)])
    cell = box(*f.at(0, 0), *f.at(1000, 1000))
    expected = geod.geometry_length(line.intersection(cell)) / geod.geometry_length(line)
    assert answer["share_inside"] == pytest.approx(expected, abs=1e-3)
    assert answer["flags"][0]["figures"]["share_inside"] == answer["share_inside"]


def test_a_check_in_far_from_its_enterprise_is_flagged_with_the_distance(world):
    near_plant, far_plant = f.enterprise(world.admin, 500, 500, 1), f.enterprise(world.admin, 500, 900, 2)
    at = f.ago(minutes=45).isoformat()
    lon, lat = f.at(500, 400)  # 100 m south of plant 1, 500 m south of plant 2
    stops = [{"enterprise_id": p["id"], "at": at, "lon": lon, "lat": lat, "result": "normal"}
             for p in (near_plant, far_plant)]  # fmt: skip
    answer = patrol(world, WALK, check_ins=stops)
    assert codes(answer) == ["check-in-far"]
    assert [round(c["distance_m"]) for c in answer["check_ins"]] == [100, 500]
    far = answer["flags"][0]["figures"]["check_ins"]
    assert [(c["check_in"], c["enterprise_id"], round(c["distance_m"])) for c in far] == [(1, far_plant["id"], 500)]


def test_a_long_gap_without_a_position_is_flagged(world):
    gappy = [p for p in WALK if not 5 * 60 < p[0] < 20 * 60]  # nothing from minute 5 to minute 20
    answer = patrol(world, gappy)
    assert codes(answer) == ["track-gap"]
    assert answer["flags"][0]["figures"]["longest_min"] == 15 and answer["flags"][0]["figures"]["gaps"] == 1
    late = patrol(world, [p for p in WALK if p[0] <= 15 * 60])  # the phone stopped at minute 15 of 30
    assert codes(late) == ["track-gap"] and late["flags"][0]["figures"]["longest_min"] == 15


def test_the_rules_are_configured_and_the_list_filters_by_flag(world, monkeypatch):
    monkeypatch.setenv("PATROL_MAX_SPEED_KMH", "walking=100")
    monkeypatch.setenv("PATROL_MAX_GAP_MIN", "20")
    leap, gappy = sorted([*WALK, (630, 900)]), [p for p in WALK if not 5 * 60 < p[0] < 20 * 60]
    assert codes(patrol(world, leap)) == [] and codes(patrol(world, gappy)) == []
    monkeypatch.delenv("PATROL_MAX_SPEED_KMH")
    flagged = patrol(world, leap)
    admin = world.as_("admin")
    listed = lambda q: [p["id"] for p in f.ok(admin.get(f"{API}/patrols?{q}"))["items"]]  # noqa: E731
    assert listed("flag=implausible-speed") == [flagged["id"]] and listed("flagged=true") == [flagged["id"]]
    assert flagged["id"] not in listed("flagged=false") and len(listed("flagged=false")) == 2
    assert listed("flag=track-gap") == []
