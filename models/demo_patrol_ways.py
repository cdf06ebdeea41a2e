"""The ways of the demo patrols (`models.demo_patrols`): where a patrol goes, along roads inside its area, and the
fixes its phone takes on the way, with the trouble a flagged one puts in (a leap, a gap).

A way is a list of knots, (seconds since the start, lon, lat): the patrol moves straight and at a steady speed
between two of them, and stays where two follow each other at one place. Its roads are legs axis-parallel or
diagonal, inside the area; distances are planar in metres (`metres`), close enough to the geodesic ones the
plausibility rules measure at this scale. The fixes come every 10 to 30 s, each off by less than its accuracy
(3 to 15 m), so that a clean track never moves faster than its patrol did.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import shapely
from shapely import unary_union
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from geo.measure import metres_per_degree
from models.demo_enterprises import point_inside
from models.patrols.model import PatrolKind, TravelMode
from models.roles import Caller

Point = tuple[float, float]
KMH = {TravelMode.WALKING: (3.0, 6.0), TravelMode.CYCLING: (10.0, 16.0), TravelMode.DRIVING: (25.0, 50.0)}


@dataclass
class Stop:
    """A check-in as planned: the enterprise, where the patrol stands (by its gate), how long it stays."""

    enterprise: Any
    where: Point
    seconds: float
    at: float = 0.0  # seconds after the start, once walked


@dataclass
class Outing:
    """A patrol as planned, before its fixes are drawn."""

    caller: Caller
    kind: PatrolKind
    mode: TravelMode
    cells: list[int]
    area: BaseGeometry  # where its roads stay
    stops: list[Stop]
    knots: list[tuple[float, float, float]] = field(default_factory=list)  # (seconds, lon, lat): the way it went
    officer_ids: list[int] | None = None
    user_ids: list[int] | None = None
    flag: str | None = None
    hubs: list[Point] = field(default_factory=list)  # where its roads may pass from one of its cells to another


@cache
def _scale(lat: float) -> tuple[float, float]:
    return metres_per_degree(lat)


def metres(a: Point, b: Point) -> float:
    kx, ky = _scale(round(a[1], 2))
    return math.hypot((b[0] - a[0]) * kx, (b[1] - a[1]) * ky)


def near(p: Point, area: BaseGeometry, low: float, high: float, rng: random.Random) -> Point | None:
    """A point inside the area `low` to `high` metres from p, or None."""
    kx, ky = _scale(round(p[1], 2))
    for _ in range(50):
        r, a = rng.uniform(low, high), rng.uniform(0, 2 * math.pi)
        found = (p[0] + r * math.cos(a) / kx, p[1] + r * math.sin(a) / ky)
        if area.contains(shapely.Point(found)):
            return found
    return None


def gate(enterprise: Any, area: BaseGeometry, rng: random.Random) -> Point:
    """Where a patrol stands at an enterprise: by its gate, within 20 m."""
    return near((enterprise.lon, enterprise.lat), area, 0, 20, rng) or (enterprise.lon, enterprise.lat)


def crossroads(outing: Outing, rng: random.Random) -> bool:
    """One stop moved to a crossroads 340 to 760 m from its enterprise; False when the area has none."""
    stop = rng.choice(outing.stops)
    far = near((stop.enterprise.lon, stop.enterprise.lat), outing.area, 340, 760, rng)
    stop.where = far or stop.where
    return far is not None


def road(a: Point, b: Point, area: BaseGeometry, rng: random.Random, hubs: list[Point]) -> list[Point]:
    """The corner and the end of a way from a to b along roads: axis-parallel, or diagonal and straight (either
    first); else straight, or by a hub or another point in between: inside the area."""
    kx, ky = _scale(round(a[1], 2))
    if rng.random() < 0.5:
        corners = [(b[0], a[1]), (a[0], b[1])]
    else:
        d = min(abs(b[0] - a[0]) * kx, abs(b[1] - a[1]) * ky)
        dx, dy = math.copysign(d / kx, b[0] - a[0]), math.copysign(d / ky, b[1] - a[1])
        corners = [(a[0] + dx, a[1] + dy), (b[0] - dx, b[1] - dy)]
    rng.shuffle(corners)
    around = ([point_inside(area, rng), b] for _ in range(20))  # (cells that are not convex: round their corner)
    for way in itertools.chain(([corner, b] for corner in corners), [[b]], ([hub, b] for hub in hubs), around):
        if area.covers(LineString([a, *way])):
            return way
    return [b]


def walk(outing: Outing, rng: random.Random, start: Point, end: Point, minutes: float, detour: Any = None) -> None:
    """The way the patrol goes (its knots) and when it checks in: from the start to each stop and to the end at the
    speed of its mode, wandering the area's streets on the way while there is time (about `minutes` in all, its
    stays included); when it strays, first through the `detour` cell, without wandering."""
    speed = rng.uniform(*KMH[outing.mode]) / 3.6
    stays = sum(s.seconds for s in outing.stops)
    for s in outing.stops if minutes and stays > 30 * minutes else ():
        s.seconds *= 30 * minutes / stays  # (the stays, half the time at most)
    budget = 0 if detour is not None else max(0.0, 60 * minutes - sum(s.seconds for s in outing.stops)) * speed
    area = outing.area if detour is None else unary_union([outing.area, detour])
    shapely.prepare(area)
    strays = [(point_inside(detour, rng), None) for _ in range(3 if detour is not None else 0)]
    targets = [*strays, *((s.where, s) for s in outing.stops), (end, None)]
    t, here, walked = 0.0, start, 0.0
    outing.knots = [(t, *start)]
    while targets:
        there, stop = targets[0]
        ahead = metres(here, there) + sum(metres(a[0], b[0]) for a, b in itertools.pairwise(targets))
        slack, wandering = budget - walked - 1.2 * ahead, False
        for _ in range(5 if slack > 100 else 0):  # time to spare: a street on the way
            wander = point_inside(outing.area, rng)
            if metres(here, wander) + metres(wander, there) <= metres(here, there) + slack:
                there, wandering = wander, True
                break
        leg_speed = speed * rng.uniform(0.85, 1.15)
        for corner in road(here, there, area, rng, outing.hubs):
            walked += metres(here, corner)
            t, here = t + metres(here, corner) / leg_speed, corner
            outing.knots.append((t, *here))
        if not wandering:
            targets.pop(0)
            if stop is not None:
                stop.at = t + rng.uniform(0.2, 0.6) * stop.seconds
                t += stop.seconds
                outing.knots.append((t, *here))
    if t < 30 * 60:  # a short way: a longer stay at its end (a word with the village committee)
        outing.knots.append((30 * 60 + rng.uniform(0, 600), *here))


def fixes(outing: Outing, rng: random.Random) -> np.ndarray | None:
    """The fixes along the way, a row each: whole seconds since the start, lon, lat, accuracy; with a flagged
    outing's trouble (the phone off for 15 to 40 minutes, or one fix leaping 400 to 900 m and back); None when the
    area has no room for its leap."""
    draw = np.random.default_rng(rng.getrandbits(64))
    knot_t, knot_lon, knot_lat = (np.array(k) for k in zip(*outing.knots, strict=True))
    steps = draw.uniform(10, 30, int(knot_t[-1] / 10) + 2)
    times = np.cumsum(steps) - steps[0] + draw.uniform(0, 5)
    times = times[times <= knot_t[-1]]
    kx, ky = _scale(round(float(knot_lat[0]), 2))
    accuracy = np.round(3 + 12 * draw.random(len(times)) ** 2, 1)
    off, angle = np.minimum(draw.rayleigh(accuracy / 2), accuracy - 0.1), draw.uniform(0, 2 * np.pi, len(times))
    lons = np.interp(times, knot_t, knot_lon) + off * np.cos(angle) / kx
    lats = np.interp(times, knot_t, knot_lat) + off * np.sin(angle) / ky
    keep = np.ones(len(times), dtype=bool)
    if outing.flag == "track-gap":
        gap = rng.uniform(15, 40) * 60
        since = rng.uniform(0.1 * knot_t[-1], 0.9 * knot_t[-1] - gap)
        keep = (times < since) | (times > since + gap)
    elif outing.flag == "implausible-speed" and not _leap(outing, rng, lons, lats):
        return None
    return np.column_stack((np.rint(times), lons, lats, accuracy))[keep]


def _leap(outing: Outing, rng: random.Random, lons: Any, lats: Any) -> bool:
    """One fix, mid-walk, 400 to 900 m from where the patrol is, the way there and back inside its area."""
    for _ in range(10):
        i = rng.randint(len(lons) // 5, len(lons) * 4 // 5)
        leap = near((lons[i], lats[i]), outing.area, 400, 900, rng)
        if leap and outing.area.covers(LineString([(lons[i - 1], lats[i - 1]), leap, (lons[i + 1], lats[i + 1])])):
            lons[i], lats[i] = leap
            return True
    return False
