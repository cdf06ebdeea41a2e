"""Measures on the WGS-84 ellipsoid and tolerance-aware comparisons of polygons.

Digitising tolerance: two boundaries drawn by hand never match to the centimetre. A discrepancy (the part of a
child outside its parent, the overlap of two siblings, a gap between cells) is ignored when it is nowhere wider
than `TOLERANCE_M`. Comparisons run in a local metric frame (see `LocalFrame`); areas are geodesic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geo.geojson import areal

TOLERANCE_M = 1.0
_GEOD = Geod(ellps="WGS84")
SEMI_MAJOR_M = 6378137.0  # WGS-84 semi-major axis
ECCENTRICITY2 = 6.69437999014e-3  # WGS-84 first eccentricity squared


def metres_per_degree(lat: float) -> tuple[float, float]:
    """Metres per degree of longitude and of latitude at this latitude, on the WGS-84 ellipsoid."""
    phi = math.radians(lat)
    w = math.sqrt(1 - ECCENTRICITY2 * math.sin(phi) ** 2)
    arc = math.radians(1) * SEMI_MAJOR_M
    return arc * math.cos(phi) / w, arc * (1 - ECCENTRICITY2) / w**3


def geodesic_distances_m(lons: Any, lats: Any, lon: float, lat: float) -> np.ndarray:
    """The geodesic distance in metres on the WGS-84 ellipsoid from each (lons[i], lats[i]) to (lon, lat), all at once
    (GeographicLib, as PostGIS's geography and SpatiaLite's ellipsoidal distances: the same numbers)."""
    lons, lats = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
    _, _, d = _GEOD.inv(lons, lats, np.full(len(lons), lon), np.full(len(lons), lat))
    return np.asarray(d)


def geodesic_area_m2(geometry: BaseGeometry) -> float:
    """Area on the WGS-84 ellipsoid in square metres (holes subtracted, ring orientation irrelevant)."""
    total = 0.0
    for polygon in getattr(geometry, "geoms", [geometry]):
        if polygon.is_empty:
            continue
        area, _perimeter = _GEOD.geometry_area_perimeter(shapely.geometry.polygon.orient(polygon))
        total += abs(area)
    return total


class LocalFrame:
    """A local metric frame: longitude and latitude scaled to metres at the centre of a geometry.

    The map is affine, so straight edges stay straight and a vertex lying on a neighbour's edge stays on it: shared
    boundaries keep matching exactly (a curved projection would open metre-wide slivers along long edges). Its
    scale drifts by under 0.1 % across 10 km, a millimetre on a one-metre tolerance.
    """

    def __init__(self, near: BaseGeometry) -> None:
        centre = near.envelope.centroid
        self.lon0, self.lat0 = centre.x, centre.y
        self.kx, self.ky = metres_per_degree(self.lat0)

    def to_metres(self, geometry: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geometry, lambda xy: (xy - (self.lon0, self.lat0)) * (self.kx, self.ky))

    def to_degrees(self, geometry: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geometry, lambda xy: xy / (self.kx, self.ky) + (self.lon0, self.lat0))


@dataclass(frozen=True)
class Discrepancy:
    """A region where two boundaries disagree by more than the tolerance."""

    geometry: BaseGeometry  # WGS-84
    area_m2: float
    location: Point  # a point inside the region, for the message a person reads

    def describe(self) -> str:
        return f"{self.area_m2:,.1f} m² around [{self.location.x:.6f}, {self.location.y:.6f}]"


def beyond_tolerance(region_m: BaseGeometry, frame: LocalFrame, tolerance_m: float) -> Discrepancy | None:
    """The parts of a metric region wider than the tolerance somewhere, as a `Discrepancy`, or None."""
    region = areal(region_m)
    if region is None:
        return None
    kept = [part for part in getattr(region, "geoms", [region]) if not part.buffer(-tolerance_m / 2).is_empty]
    if not kept:
        return None
    significant = shapely.union_all(kept)
    in_degrees = frame.to_degrees(significant)
    return Discrepancy(
        geometry=in_degrees,
        area_m2=geodesic_area_m2(in_degrees),
        location=in_degrees.representative_point(),
    )


def outside_of(child: BaseGeometry, parent: BaseGeometry, tolerance_m: float = TOLERANCE_M) -> Discrepancy | None:
    """The part of `child` lying outside `parent` beyond the tolerance, or None when the child lies within."""
    frame = LocalFrame(child)
    return beyond_tolerance(frame.to_metres(child).difference(frame.to_metres(parent)), frame, tolerance_m)


def overlap_of(a: BaseGeometry, b: BaseGeometry, tolerance_m: float = TOLERANCE_M) -> Discrepancy | None:
    """The overlap of `a` and `b` beyond the tolerance, or None when they only touch or overlap by a sliver."""
    if not a.intersects(b):
        return None
    frame = LocalFrame(a)
    return beyond_tolerance(frame.to_metres(a).intersection(frame.to_metres(b)), frame, tolerance_m)


def uncovered_part(
    whole: BaseGeometry, parts: list[BaseGeometry], tolerance_m: float = TOLERANCE_M
) -> Discrepancy | None:
    """The part of `whole` that no geometry of `parts` covers, slivers within the tolerance dropped."""
    frame = LocalFrame(whole)
    covered = shapely.union_all([frame.to_metres(p) for p in parts]) if parts else None
    whole_m = frame.to_metres(whole)
    gap = whole_m if covered is None else whole_m.difference(covered)
    return beyond_tolerance(gap, frame, tolerance_m)


def expand_bounds(bounds: tuple[float, float, float, float], metres: float) -> tuple[float, float, float, float]:
    """Widen a lon/lat box by at least `metres` on each side (for index candidate searches)."""
    minx, miny, maxx, maxy = bounds
    # 1e-5 degree is at least 1.1 m in latitude and, below 60° of latitude, at least 0.55 m in longitude.
    pad = metres * 2e-5
    return minx - pad, miny - pad, maxx + pad, maxy + pad
