"""Plausibility of a patrol record: flags with their figures, never a refusal (a strange record is kept, and shown).

Each rule and its default (environment variables, read when a record is stored):
- `implausible-speed`: between two fixes, faster than the patrol's travel mode allows
  (PATROL_MAX_SPEED_KMH, default `walking=15,cycling=45,driving=130`). The distance counted is what the two fixes'
  accuracies do not explain (a fix 20 m off is not a 70 km/h jump), so GPS jitter never flags a patrol.
- `outside-cells`: less than PATROL_MIN_SHARE_INSIDE (default 0.8) of the track's length lies inside the patrol's
  cells (the share is always kept, `share_inside`).
- `check-in-far`: a check-in farther than PATROL_CHECK_IN_MAX_M (default 200 m) from its enterprise's location.
- `track-gap`: no fix for longer than PATROL_MAX_GAP_MIN (default 10 minutes) between the patrol's start and end
  (its start and end count as the ends of the first and last gap).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from models.patrols.model import TravelMode

_GEOD = Geod(ellps="WGS84")
DEFAULT_SPEEDS = {TravelMode.WALKING: 15.0, TravelMode.CYCLING: 45.0, TravelMode.DRIVING: 130.0}


@dataclass(frozen=True)
class Rules:
    max_speed_kmh: dict[str, float]
    min_share_inside: float
    check_in_max_m: float
    max_gap_s: float

    @classmethod
    def from_env(cls) -> Rules:
        speeds = {str(mode): kmh for mode, kmh in DEFAULT_SPEEDS.items()}
        for pair in filter(None, (os.environ.get("PATROL_MAX_SPEED_KMH") or "").split(",")):
            mode, _, kmh = pair.partition("=")
            if mode.strip() in speeds:
                speeds[mode.strip()] = float(kmh)
        return cls(
            max_speed_kmh=speeds,
            min_share_inside=float(os.environ.get("PATROL_MIN_SHARE_INSIDE") or 0.8),
            check_in_max_m=float(os.environ.get("PATROL_CHECK_IN_MAX_M") or 200),
            max_gap_s=60 * float(os.environ.get("PATROL_MAX_GAP_MIN") or 10),
        )


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return float(_GEOD.inv(lon1, lat1, lon2, lat2)[2])


def _flag(code: str, detail: str, **figures: Any) -> dict[str, Any]:
    return {"code": code, "detail": detail, "figures": figures}


def speed_flag(fixes: list[list[Any]], mode: str, rules: Rules) -> dict[str, Any] | None:
    """Fixes: [[datetime, lon, lat, accuracy m or None], ...] sorted by time, each time once."""
    limit = rules.max_speed_kmh[mode]
    if len(fixes) < 2:
        return None
    times = np.array([f[0].timestamp() for f in fixes])
    lon, lat = np.array([f[1] for f in fixes]), np.array([f[2] for f in fixes])
    accuracy = np.array([f[3] or 0.0 for f in fixes])
    metres = _GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])[2]  # (one call for the whole track)
    moved = np.maximum(0.0, metres - accuracy[:-1] - accuracy[1:])
    kmh = moved / np.diff(times) * 3.6
    count = int(np.count_nonzero(kmh > limit))
    fastest_at = int(np.argmax(kmh))  # (the first of the fastest)
    fastest, where = float(kmh[fastest_at]), fixes[fastest_at][0]
    if not count:
        return None
    return _flag("implausible-speed", f"{count} step(s) faster than {limit:g} km/h ({mode}); the fastest "
                 f"{fastest:.0f} km/h", max_speed_kmh=round(fastest, 1), limit_kmh=limit, steps=count,
                 at=where.isoformat())  # fmt: skip


def share_inside(line: LineString | None, cells: BaseGeometry | None) -> float | None:
    """The share of the line's geodesic length inside the cells (None without a line)."""
    if line is None:
        return None
    if cells is not None and cells.covers(line):
        return 1.0
    total = _GEOD.geometry_length(line)
    if cells is None or total == 0:
        return 0.0
    # segment by segment: the intersection of a whole line that doubles back would merge its overlapping parts
    segments = shapely.linestrings([[a, b] for a, b in itertools.pairwise(line.coords)])
    inside = sum(_GEOD.geometry_length(part) for part in shapely.intersection(segments, cells) if not part.is_empty)
    return round(min(1.0, inside / total), 4)


def outside_flag(share: float | None, rules: Rules) -> dict[str, Any] | None:
    if share is None or share >= rules.min_share_inside:
        return None
    detail = f"{share:.0%} of the track lies inside the patrol's cells (at least {rules.min_share_inside:.0%} expected)"
    return _flag("outside-cells", detail, share_inside=share, min_share=rules.min_share_inside)


def far_flag(far: list[dict[str, Any]], rules: Rules) -> dict[str, Any] | None:
    """far: [{"check_in": index, "enterprise_id", "distance_m"}] of the check-ins beyond the limit."""
    if not far:
        return None
    worst = max(far, key=lambda c: c["distance_m"])
    return _flag("check-in-far", f"{len(far)} check-in(s) farther than {rules.check_in_max_m:g} m from the "
                 f"enterprise; the farthest {worst['distance_m']:.0f} m", limit_m=rules.check_in_max_m,
                 check_ins=far)  # fmt: skip


def gap_flag(times: list[datetime], started: datetime, ended: datetime, rules: Rules) -> dict[str, Any] | None:
    """The gaps without a fix between the start and the end (fixes outside them do not count)."""
    inside = [t for t in times if started <= t <= ended]
    edges = [started, *inside, ended]
    gaps = [(a, b) for a, b in itertools.pairwise(edges) if (b - a).total_seconds() > rules.max_gap_s]
    if not gaps:
        return None
    longest = max(gaps, key=lambda g: g[1] - g[0])
    minutes = (longest[1] - longest[0]).total_seconds() / 60
    detail = (f"{len(gaps)} gap(s) without a position longer than {rules.max_gap_s / 60:g} minutes; the longest "
              f"{minutes:.0f} minutes")  # fmt: skip
    span = {"from": longest[0].isoformat(), "to": longest[1].isoformat()}
    return _flag("track-gap", detail, gaps=len(gaps), longest_min=round(minutes, 1), limit_min=rules.max_gap_s / 60,
                 **span)  # fmt: skip
