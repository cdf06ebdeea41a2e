"""Coverage of a unit over a period: the figures equal a shapely computation over the generated tracks, and the
enterprises, idle cells and officers are counted as documented. Both backends (see conftest.py)."""

from __future__ import annotations

import uuid as uuids
from datetime import timedelta

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, box, shape
from sqlalchemy import func, select, update

from api.db import db
from models.patrols.model import Patrol
from tests import factories as f
from tests.factories import API, assert_problem


def line(x0: float, y0: float, x1: float, y1: float, steps: int = 40) -> list[list[float]]:
    return [f.at(x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps) for i in range(steps + 1)]


def upload(client, cell: int, days_ago: float, track: list[list[float]], **extra) -> dict:
    start = f.ago(days=days_ago)
    points = [{"at": (start + timedelta(seconds=30 * i)).isoformat(), "lon": lon, "lat": lat, "accuracy_m": 5}
              for i, (lon, lat) in enumerate(track)]  # fmt: skip
    body = {"uuid": str(uuids.uuid4()), "kind": "grid_patrol", "cell_ids": [cell], "started_at": start.isoformat(),
            "ended_at": (start + timedelta(seconds=30 * len(track))).isoformat(), "points": points} | extra  # fmt: skip
    return f.ok(client.post(f"{API}/patrols", json=body), 201)


def expected_share(tracks: list[list[list[float]]], unit: dict, within_m: float = 50) -> tuple[float, float]:
    """The area of the unit and the part of it within `within_m` of the tracks, straight from shapely."""
    area = shape(unit)
    centre = area.centroid
    laea = f"+proj=laea +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m"
    to_m = Transformer.from_crs("EPSG:4326", laea, always_xy=True)
    project = lambda g: shapely.transform(g, lambda xy: np.column_stack(to_m.transform(xy[:, 0], xy[:, 1])))  # noqa: E731
    near = shapely.union_all([project(LineString(t)).buffer(within_m) for t in tracks])
    return project(area).area, project(area).intersection(near).area


def test_coverage_of_a_village_over_a_month(world):
    officer, leader = world.as_("officer_a"), world.as_("leader_a")
    red = f.enterprise(world.admin, 500, 500, 1, risk_level="red")
    yellow = f.enterprise(world.admin, 800, 800, 2, risk_level="yellow")
    blue = f.enterprise(world.admin, 1500, 800, 3, risk_level="blue")
    walk, cross, east = line(100, 300, 700, 300), line(500, 100, 500, 900), line(1100, 500, 1900, 500)
    upload(officer, world["cA1"], 2, walk)
    seen = f.ago(days=3) + timedelta(minutes=5)
    upload(officer, world["cA1"], 3, cross, check_ins=[{
        "enterprise_id": red["id"], "at": seen.isoformat(), "result": "hazards_found",
        "findings": [{"description": "安全出口堵塞", "kind": "unsafe_condition", "severity": "general"}]}])  # fmt: skip
    upload(leader, world["cA2"], 20, east, officer_ids=[world["oA2"]])  # with the leader: two person-visits
    old = upload(officer, world["cA1"], 40, line(800, 700, 800, 900), check_ins=[{
        "enterprise_id": yellow["id"], "at": (f.ago(days=40) + timedelta(minutes=5)).isoformat(),
        "result": "normal"}])  # fmt: skip
    answer = f.ok(leader.get(f"{API}/patrols/coverage/village/{world['vA1']}?idle_days=7"))
    assert (answer["patrols"], answer["person_visits"], answer["check_ins"], answer["hazards_found"]) == (3, 4, 1, 1)
    area, covered = expected_share([walk, cross, east], world.record("vA1")["boundary"])
    assert answer["area_m2"] == pytest.approx(area, rel=1e-4)
    assert answer["covered_m2"] == pytest.approx(covered, rel=2e-3)
    assert answer["covered_share"] == pytest.approx(covered / area, rel=2e-3)
    enterprises = answer["enterprises"]
    assert (enterprises["total"], enterprises["visited"], enterprises["not_visited_ids"]) == (
        3, 1, [yellow["id"], blue["id"]])  # fmt: skip
    overdue = {e["id"]: e for e in enterprises["overdue_for_visit"]}
    assert set(overdue) == {yellow["id"], blue["id"]} and overdue[blue["id"]]["due_since"] is None
    assert overdue[yellow["id"]]["last_visit_at"].startswith((f.ago(days=40) + timedelta(minutes=5)).isoformat()[:16])
    assert [c["id"] for c in answer["idle_cells"]] == [world["cA2"]]
    officers = {o["officer_id"]: o for o in answer["officers"]}
    assert (officers[world["oA1"]]["patrols"], officers[world["oA1"]]["check_ins"],
            officers[world["oA1"]]["hazards_found"]) == (2, 1, 1)  # fmt: skip
    assert officers[world["oA2"]]["patrols"] == 1
    # the period moves: 45 days back, the old patrol counts and the yellow plant was visited
    today = f.ago(days=0).date()
    longer = f.ok(leader.get(f"{API}/patrols/coverage/village/{world['vA1']}?from={today - timedelta(days=44)}"))
    assert longer["patrols"] == 4 and longer["enterprises"]["visited"] == 2 and old["distance_m"] > 150
    cell = f.ok(officer.get(f"{API}/patrols/coverage/cell/{world['cA1']}"))
    area, covered = expected_share([walk, cross], world.record("cA1")["boundary"])
    assert cell["covered_m2"] == pytest.approx(covered, rel=2e-3) and cell["patrols"] == 2


def test_coverage_as_map_layers_and_its_limits(world):
    officer = world.as_("officer_a")
    f.enterprise(world.admin, 500, 500, 1, risk_level="orange")
    upload(officer, world["cA1"], 1, line(100, 300, 700, 300))
    answer = officer.get(f"{API}/patrols/coverage/cell/{world['cA1']}?format=geojson")
    assert answer.mimetype == "application/geo+json"
    body = answer.get_json()
    layers = [feature["properties"]["layer"] for feature in body["features"]]
    assert layers == ["unit", "covered", "uncovered", "enterprise"]
    covered, uncovered = shape(body["features"][1]["geometry"]), shape(body["features"][2]["geometry"])
    cell = shape(world.record("cA1")["boundary"])
    assert covered.union(uncovered).symmetric_difference(cell).area < 1e-5 * cell.area  # (as answered, rounded)
    assert covered.within(box(*cell.bounds)) and body["figures"]["patrols"] == 1
    assert body["features"][3]["properties"]["visited"] is False
    leader_b = world.as_("leader_b")
    assert_problem(leader_b.get(f"{API}/patrols/coverage/village/{world['vA1']}"), 404, "not-found")
    assert_problem(officer.get(f"{API}/patrols/coverage/cell/{world['cA1']}?from=2025-01-01&to=2026-06-01"), 422,
                   "period-too-long")  # fmt: skip
    assert_problem(officer.get(f"{API}/patrols/coverage/cell/{world['cA1']}?from=2026-06-01&to=2026-05-01"), 422,
                   "period-inverted")  # fmt: skip


def test_the_stored_reaches_a_distance_computed_on_the_spot_and_old_records_agree_with_shapely(app, world):
    rng = np.random.default_rng(7)
    jitter = lambda track: (np.array(track) + rng.normal(0, 6e-5, (len(track), 2))).tolist()  # noqa: E731 (±6 m)
    noisy = [jitter(line(100, 200 + 150 * k, 900, 250 + 120 * k, steps=120)) for k in range(5)]
    noisy.append(jitter(line(300, 100, 320, 950, steps=200)))  # across the others, dense
    for track in noisy:
        upload(world.admin, world["cA1"], 1, track, officer_ids=[world["oA1"]])
    unit = world.record("cA1")["boundary"]
    url = f"{API}/patrols/coverage/cell/{world['cA1']}"
    for within_m in (50, 30):  # stored at 50 m, computed at 30
        _area, covered = expected_share(noisy, unit, within_m)
        assert f.ok(world.admin.get(f"{url}?within_m={within_m}"))["covered_m2"] == pytest.approx(covered, rel=2e-3)
    stored = f.ok(world.admin.get(url))["covered_m2"]
    with db.new_session(app) as session:  # as records stored before the reach was (migration 0011)
        assert session.scalar(select(func.count()).where(Patrol.reach.is_not(None))) == len(noisy)
        session.execute(update(Patrol).values(reach=None))
        session.commit()
    assert f.ok(world.admin.get(url))["covered_m2"] == pytest.approx(stored, rel=1e-9)


def test_the_tiles_add_up_to_one_union_and_a_failed_fast_clip_falls_back(monkeypatch):
    from models.patrols import coverage as module

    unit = shape(f.rect(0, 0, 3000, 2500))  # (three by three tiles)
    tracks = [LineString(line(100, 100 + 300 * k, 2900, 2400 - 200 * k, steps=60)) for k in range(6)]
    reaches = [module.reach(t) for t in tracks]
    _area, covered, shown, uncovered = module.covered_area(unit, reaches, shapes=True)
    whole = shapely.intersection(unit, shapely.union_all(reaches))
    forward, _ = module._projections(unit.centroid)
    # (a tile's edge adds vertices on a lon/lat-straight edge, which projects a hair off the straight line: 1e-5)
    assert covered == pytest.approx(module._project(whole, forward).area, rel=1e-4)
    assert shown.symmetric_difference(whole).area < 1e-9 * whole.area and uncovered.union(shown).equals(unit)

    def refuse(*_args, **_kwargs):
        raise shapely.errors.GEOSException("TopologyException: as a degenerate clip would")

    monkeypatch.setattr(module.shapely, "clip_by_rect", refuse)
    assert module.covered_area(unit, reaches)[1] == pytest.approx(covered, rel=1e-9)


def test_a_track_with_a_fix_on_the_other_side_of_the_earth_is_stored_flagged_and_counted(world):
    track = [*line(100, 300, 700, 300, steps=10), [-67.0, -28.0], *line(700, 350, 100, 350, steps=10)]
    stored = upload(world.admin, world["cA1"], 1, track, officer_ids=[world["oA1"]])
    assert {flag["code"] for flag in stored["flags"]} >= {"implausible-speed", "outside-cells"}
    answer = f.ok(world.admin.get(f"{API}/patrols/coverage/cell/{world['cA1']}"))
    _area, covered = expected_share([track[:11], track[12:]], world.record("cA1")["boundary"])
    assert answer["patrols"] == 1 and answer["covered_m2"] == pytest.approx(covered, rel=2e-3)
