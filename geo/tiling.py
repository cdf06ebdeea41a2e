"""Split a polygon into pieces that tile it without overlap: a relaxed Voronoi partition (for demo data)."""

from __future__ import annotations

import math
import random

import shapely
from shapely.geometry import MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep

from geo.geojson import areal

GRID = 1e-7  # coordinates snapped to ~1 cm; neighbours share identical vertices


def blob(centre: tuple[float, float], radius_m: float, rng: random.Random, vertices: int = 96) -> Polygon:
    """An irregular, county-like outline around `centre` (lon, lat)."""
    lon0, lat0 = centre
    phases = [rng.uniform(0, 2 * math.pi) for _ in range(4)]
    ring = []
    for i in range(vertices):
        angle = 2 * math.pi * i / vertices
        wobble = 1 + sum(0.12 / (k + 1) * math.sin((k + 2) * angle + phases[k]) for k in range(4))
        r = radius_m * wobble
        ring.append(
            (
                lon0 + r * math.cos(angle) / (111_320 * math.cos(math.radians(lat0))),
                lat0 + r * math.sin(angle) / 110_540,
            )
        )
    return shapely.set_precision(Polygon(ring), GRID)


def random_points(polygon: BaseGeometry, n: int, rng: random.Random) -> list[Point]:
    minx, miny, maxx, maxy = polygon.bounds
    points: list[Point] = []
    prepared = prep(polygon)
    while len(points) < n:
        point = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if prepared.contains(point):
            points.append(point)
    return points


def voronoi_split(polygon: BaseGeometry, n: int, rng: random.Random, relax: int = 2) -> list[BaseGeometry]:
    """`n` pieces (fewer if some seed's cell misses the polygon) that tile `polygon`, ordered north-west first."""
    if n <= 1:
        return [polygon]
    seeds = random_points(polygon, n, rng)
    for _ in range(relax):  # Lloyd relaxation: rounder, more even pieces
        seeds = [
            piece.centroid if polygon.contains(piece.centroid) else piece.representative_point()
            for piece in _pieces(polygon, seeds)
        ]
    pieces = _pieces(polygon, seeds)
    return sorted(pieces, key=lambda p: (-round(p.centroid.y, 3), p.centroid.x))


def _pieces(polygon: BaseGeometry, seeds: list[Point]) -> list[BaseGeometry]:
    regions = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=polygon.envelope.buffer(0.1))
    out = []
    for region in regions.geoms:
        piece = areal(shapely.set_precision(region.intersection(polygon), GRID))
        if piece is not None and piece.is_valid and piece.area > 0:
            out.append(piece)
    return out
