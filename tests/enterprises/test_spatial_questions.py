"""The spatial questions against brute force: for random points, radii, counts, boxes and lines over a county of
scattered enterprises, the API answers what pyproj (geodesic metres on WGS-84) and shapely compute, on SpatiaLite
and on PostGIS; distances within 0.5 %. And the places: each cell's, village's and township's enterprises are those
its geometry holds, by the lower-code rule on shared edges."""

from __future__ import annotations

import random

import numpy as np
import pytest
from shapely.geometry import LineString, Point, shape

from tests import factories as f
from tests.factories import API
from tests.geo import reference

SECTORS = ("hazardous_chemicals", "gas", "fireworks")


@pytest.fixture
def county(world):
    """The world with 120 enterprises scattered over it and around it (some outside every township)."""
    rng = random.Random(20261125)
    placed = []
    for n in range(1, 121):
        x, y = rng.uniform(-500, 8500), rng.uniform(-500, 4500)
        if n % 10 == 0:  # a few exactly on a cell's edge
            x, y = 1000.0, rng.uniform(0, 1000)
        record = f.enterprise(world.admin, x, y, n, sector=SECTORS[n % 3])
        placed.append(record)
    lonlats = np.array([e["location"]["coordinates"] for e in placed])
    return world, placed, lonlats, rng


def _ids(items):
    return [item["id"] for item in items]


def test_within_a_radius_nearest_first_with_distances(county):
    world, placed, lonlats, rng = county
    for _ in range(12):
        lon, lat = f.at(rng.uniform(-1000, 9000), rng.uniform(-1000, 5000))
        radius = rng.choice([30, 300, 900, 2500])
        body = f.ok(world.admin.get(f"{API}/enterprises/within-radius?lon={lon}&lat={lat}&radius_m={radius}&limit=500"))
        truth = reference.distances_m(lonlats, lon, lat)
        expected = {placed[i]["id"] for i in np.flatnonzero(truth <= radius) if abs(truth[i] - radius) > 0.01}
        got = {item["id"] for item in body["items"]}
        assert expected <= got and got <= {placed[i]["id"] for i in np.flatnonzero(truth <= radius + 0.01)}
        by_id = {e["id"]: d for e, d in zip(placed, truth, strict=True)}
        for item in body["items"]:
            assert item["distance_m"] == pytest.approx(by_id[item["id"]], rel=0.005, abs=0.1)
        assert [i["distance_m"] for i in body["items"]] == sorted(i["distance_m"] for i in body["items"])
        assert body["truncated"] is False


def test_the_nearest_n_and_a_filter_beside_them(county):
    world, placed, lonlats, rng = county
    for _ in range(10):
        lon, lat = f.at(rng.uniform(0, 8000), rng.uniform(0, 4000))
        n = rng.randint(1, 15)
        sector = rng.choice(SECTORS)
        body = f.ok(world.admin.get(f"{API}/enterprises/nearest?lon={lon}&lat={lat}&n={n}&sector={sector}"))
        truth = reference.distances_m(lonlats, lon, lat)
        mine = [i for i, e in enumerate(placed) if e["sector"] == sector]
        order = sorted(mine, key=lambda i: (truth[i], placed[i]["id"]))[:n]
        assert _ids(body["items"]) == [placed[i]["id"] for i in order]


def test_inside_a_box_page_after_page(county):
    world, placed, lonlats, rng = county
    for _ in range(6):
        x0, y0 = rng.uniform(-500, 6000), rng.uniform(-500, 3000)
        (west, south), (east, north) = f.at(x0, y0), f.at(x0 + rng.uniform(300, 3000), y0 + rng.uniform(300, 2000))
        url = f"{API}/enterprises/in-box?bbox={west},{south},{east},{north}&page_size=7"
        got = []
        while url:
            page = f.ok(world.admin.get(url))
            got += _ids(page["items"])
            url = page["next"]
        expected = [placed[i]["id"] for i in np.flatnonzero(reference.in_box(lonlats, (west, south, east, north)))]
        assert got == sorted(expected)


def test_within_a_distance_of_a_line(county):
    world, placed, lonlats, rng = county
    for _ in range(8):
        line = LineString([f.at(rng.uniform(-500, 8500), rng.uniform(-500, 4500)) for _ in range(3)])
        distance = rng.choice([100, 500, 1200])
        body = {
            "geometry": {"type": "LineString", "coordinates": [list(c) for c in line.coords]},
            "distance_m": distance,
        }
        answer = world.admin.post(f"{API}/enterprises/near-geometry?page_size=500", json=body)
        got = set(_ids(f.ok(answer)["items"]))
        truth = reference.distances_to_m(lonlats, line)
        sure_in = {placed[i]["id"] for i in np.flatnonzero(truth <= distance * 0.999)}
        may_be_in = {placed[i]["id"] for i in np.flatnonzero(truth <= distance * 1.001)}
        assert sure_in <= got <= may_be_in


def test_each_unit_holds_the_enterprises_its_geometry_holds(county):
    world, placed, lonlats, _rng = county
    for path, column in (
        ("grid-cells", "cell_id"),
        ("villages", "village_id"),
        ("townships", "township_id"),
    ):
        units = sorted(f.ok(world.admin.get(f"{API}/{path}?page_size=100"))["items"], key=lambda u: u["code"])
        claimed: set[int] = set()
        for unit in units:
            area = shape(unit["boundary"])
            expected = {
                e["id"] for e, (lon, lat) in zip(placed, lonlats, strict=True)
                if area.intersects(Point(lon, lat)) and e["id"] not in claimed
            }  # fmt: skip
            claimed |= expected
            listed = f.ok(world.admin.get(f"{API}/enterprises?{column}={unit['id']}&page_size=500"))["items"]
            assert set(_ids(listed)) == expected, (path, unit["code"])
