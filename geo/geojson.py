"""GeoJSON (RFC 7946) in and out: strict parsing with named rules, and geometry back to GeoJSON."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from geo.errors import GeometryError

AREAL_TYPES = ("Polygon", "MultiPolygon")
# A township boundary digitised at 1 m has a few thousand vertices; this bound keeps requests cheap.
MAX_VERTICES = 50_000
OUTPUT_DECIMALS = 7  # ~1 cm at the equator


def parse_areal(value: Any, *, max_vertices: int = MAX_VERTICES) -> Polygon | MultiPolygon:
    """Parse a GeoJSON Polygon or MultiPolygon into a valid shapely geometry, or raise `GeometryError`.

    Rules, in the order they are checked (each names its `code`):
    `geojson-malformed`, `geometry-type-not-allowed`, `coordinates-out-of-range`, `ring-too-few-positions`,
    `ring-not-closed`, `too-many-vertices`, `geometry-self-intersection`, `geometry-invalid`.
    """
    if not isinstance(value, dict):
        raise GeometryError("geojson-malformed", "a GeoJSON geometry object is expected")
    gtype = value.get("type")
    if not isinstance(gtype, str):
        raise GeometryError("geojson-malformed", "the geometry has no 'type' member")
    if gtype not in AREAL_TYPES:
        raise GeometryError(
            "geometry-type-not-allowed", f"geometry type {gtype!r} is not allowed here; use Polygon or MultiPolygon"
        )
    coordinates = value.get("coordinates")
    polygons = [coordinates] if gtype == "Polygon" else coordinates
    if not isinstance(polygons, list) or not polygons:
        raise GeometryError("geojson-malformed", f"a {gtype} needs a non-empty 'coordinates' array")

    parsed: list[Polygon] = []
    vertices = 0
    for p_index, rings in enumerate(polygons):
        where_polygon = f"polygon {p_index}, " if gtype == "MultiPolygon" else ""
        if not isinstance(rings, list) or not rings:
            raise GeometryError("geojson-malformed", f"{where_polygon}a polygon needs at least its exterior ring")
        clean_rings = []
        for r_index, ring in enumerate(rings):
            where = f"{where_polygon}ring {r_index}"
            clean_rings.append(_parse_ring(ring, where))
            vertices += len(ring)
            if vertices > max_vertices:
                raise GeometryError(
                    "too-many-vertices", f"the geometry has more than {max_vertices} vertices; simplify it"
                )
        parsed.append(Polygon(clean_rings[0], clean_rings[1:]))

    geometry: Polygon | MultiPolygon = parsed[0] if gtype == "Polygon" else MultiPolygon(parsed)
    check_valid(geometry)
    return geometry


REFERENCE_TYPES = ("Point", "LineString", "MultiLineString", *AREAL_TYPES)
# A geometry to measure from is of a county's or a province's size: its box spans at most this many degrees, and its
# lines (or rings) are at most this long in all, so that measuring along it stays cheap.
REFERENCE_MAX_SPAN_DEG = 10.0
REFERENCE_MAX_LENGTH_DEG = 50.0


def parse_reference(value: Any, *, max_vertices: int = MAX_VERTICES) -> BaseGeometry:
    """Parse a GeoJSON Point, LineString, MultiLineString, Polygon or MultiPolygon: a geometry to measure from (a
    river, a pipeline, a planned road, an area), or raise `GeometryError` (the codes of `parse_areal`)."""
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise GeometryError("geojson-malformed", "a GeoJSON geometry object with a 'type' is expected")
    gtype = value["type"]
    if gtype in AREAL_TYPES:
        return _of_reference_size(parse_areal(value, max_vertices=max_vertices))
    if gtype not in REFERENCE_TYPES:
        raise GeometryError(
            "geometry-type-not-allowed",
            f"geometry type {gtype!r} is not allowed here; use one of {', '.join(REFERENCE_TYPES)}",
        )
    coordinates = value.get("coordinates")
    if gtype == "Point":
        return Point(_parse_position(coordinates, "the point"))
    lines = [coordinates] if gtype == "LineString" else coordinates
    if not isinstance(lines, list) or not lines:
        raise GeometryError("geojson-malformed", f"a {gtype} needs a non-empty 'coordinates' array")
    parsed, vertices = [], 0
    for l_index, line in enumerate(lines):
        where = f"line {l_index}" if gtype == "MultiLineString" else "the line"
        if not isinstance(line, list) or len(line) < 2:
            raise GeometryError("geojson-malformed", f"{where} needs at least 2 positions")
        vertices += len(line)
        if vertices > max_vertices:
            raise GeometryError("too-many-vertices", f"the geometry has more than {max_vertices} vertices; simplify it")
        parsed.append(LineString([_parse_position(p, f"{where}, position {i}") for i, p in enumerate(line)]))
        if parsed[-1].length == 0:
            raise GeometryError("geometry-invalid", f"{where} has no length: give it two distinct positions")
    return _of_reference_size(parsed[0] if gtype == "LineString" else MultiLineString(parsed))


def _of_reference_size(geometry: BaseGeometry) -> BaseGeometry:
    minx, miny, maxx, maxy = geometry.bounds
    length = geometry.boundary.length if isinstance(geometry, Polygon | MultiPolygon) else geometry.length
    if max(maxx - minx, maxy - miny) > REFERENCE_MAX_SPAN_DEG or length > REFERENCE_MAX_LENGTH_DEG:
        raise GeometryError(
            "geometry-too-large",
            f"the geometry spans more than {REFERENCE_MAX_SPAN_DEG:g} degrees or its lines run longer than "
            f"{REFERENCE_MAX_LENGTH_DEG:g} degrees in all: ask about a county's or a province's worth at a time",
        )
    return geometry


def _parse_ring(ring: Any, where: str) -> list[tuple[float, float]]:
    if not isinstance(ring, list):
        raise GeometryError("geojson-malformed", f"{where} is not an array of positions")
    positions = [_parse_position(position, f"{where}, position {i}") for i, position in enumerate(ring)]
    if len(positions) < 4:
        raise GeometryError(
            "ring-too-few-positions", f"{where} has {len(positions)} positions; a closed ring needs at least 4"
        )
    # RFC 7946 3.1.6: the first and last positions hold identical values, altitude included.
    first, last = [float(c) for c in ring[0]], [float(c) for c in ring[-1]]
    if first != last:
        raise GeometryError(
            "ring-not-closed",
            f"{where} is not closed: its first position {ring[0]} differs from its last {ring[-1]}",
        )
    return positions


def _parse_position(position: Any, where: str) -> tuple[float, float]:
    if (
        not isinstance(position, list)
        or len(position) not in (2, 3)
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in position)
    ):
        raise GeometryError("geojson-malformed", f"{where} is not a [longitude, latitude] pair of numbers")
    try:
        lon, lat = float(position[0]), float(position[1])
        if len(position) == 3:
            float(position[2])
    except OverflowError:  # an integer literal too long for a double
        lon = lat = math.inf
    if not (math.isfinite(lon) and math.isfinite(lat)) or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise GeometryError(
            "coordinates-out-of-range",
            f"{where} is [{position[0]}, {position[1]}]: longitude must lie in [-180, 180] and latitude in [-90, 90] "
            "(GeoJSON is [longitude, latitude] order)",
        )
    return lon, lat


def check_valid(geometry: BaseGeometry) -> None:
    """Raise `GeometryError` unless the geometry is valid in the OGC sense."""
    if geometry.is_valid:
        return
    reason = explain_validity(geometry)
    if "self-intersection" in reason.lower():
        raise GeometryError("geometry-self-intersection", f"the boundary crosses itself: {reason}")
    raise GeometryError("geometry-invalid", f"the geometry is not valid: {reason}")


def to_geojson(geometry: BaseGeometry | None) -> dict[str, Any] | None:
    """A shapely geometry as a GeoJSON dict, coordinates rounded like the database's own output."""
    if geometry is None or geometry.is_empty:
        return None
    rounded = shapely.set_precision(geometry, 10**-OUTPUT_DECIMALS, mode="pointwise")
    return mapping(rounded)


def polygon_parts(geometry: BaseGeometry) -> Iterable[Polygon]:
    """The polygons inside any geometry (collections from overlays included)."""
    if isinstance(geometry, Polygon):
        if not geometry.is_empty:
            yield geometry
    elif hasattr(geometry, "geoms"):
        for part in geometry.geoms:
            yield from polygon_parts(part)


def areal(geometry: BaseGeometry) -> Polygon | MultiPolygon | None:
    """Keep only the areal part of an overlay result: a Polygon, a MultiPolygon, or None when there is none."""
    parts = list(polygon_parts(geometry))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)
