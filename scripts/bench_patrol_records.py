"""The patrol records that scripts/bench_patrols.py uploads, drawn (untimed) before the server starts: each a grid
patrol of one cell by its current team, 300 fixes ~15 s apart along road-like legs inside the cell
(`models.demo_patrol_ways`) with 3 to 15 m of GPS noise, 0 to 3 check-ins at the cell's enterprises (now and then a
hazard found), started on one of the 29 days before today; cut into request bodies of up to 100.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock
from typing import Any

import numpy as np
import orjson

from geo.measure import metres_per_degree
from models import demo_hazard_texts as texts
from models.base import county_today, county_zone
from models.demo_enterprises import point_inside
from models.demo_patrol_ways import Outing, Stop, gate, near, walk
from models.demo_patrols import Patrolled
from models.patrols.model import PatrolKind, TravelMode

FIXES, FIX_EVERY_S = 300, 15  # each record's track: 300 fixes ~15 s apart (75 minutes)
BATCH = 100  # records per request (the API's most)
DAYS = 30  # the month: the coverage period, today and the 29 days before
SHUT = ("suspended", "seasonal_stop")


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _record(county: Patrolled, cell: int, rng: random.Random, draw: np.random.Generator, today: datetime) -> dict:
    """One grid patrol of the cell, as the app uploads it (JSON-ready): walked (ridden when its way is too long)."""
    area = county.shapes[cell]
    pool = county.in_cell.get(cell, [])
    visits = rng.sample(pool, min(len(pool), rng.choices((0, 1, 2, 3), (20, 35, 30, 15))[0]))
    caller = county.accounts["admin"]
    for attempt in range(10):  # a way about 75 minutes long (else the closest of these, slowed or sped to fit)
        stops = [Stop(e, gate(e, area, rng), 60 * rng.uniform(4, 12)) for e in visits]
        outing = Outing(caller, PatrolKind.GRID_PATROL, TravelMode.WALKING, [cell], area, stops)
        start = point_inside(area, rng)
        walk(outing, rng, start, start if rng.random() < 0.6 else point_inside(area, rng), FIXES * FIX_EVERY_S / 60)
        scale = (FIXES - 1) * FIX_EVERY_S / outing.knots[-1][0]  # its times stretched (>1) or squeezed to 75 min
        if 0.75 <= scale <= 2.5 or attempt == 9:
            break
    mode = "walking" if scale >= 0.75 else "cycling"  # (a way too long to walk in 75 minutes: ridden)
    knot_t, knot_lon, knot_lat = (np.array(k) for k in zip(*outing.knots, strict=True))
    knot_t = knot_t * scale
    times = np.linspace(0, knot_t[-1], FIXES)
    times[1:-1] += draw.uniform(-3, 3, FIXES - 2)  # ~15 s apart, never the same second
    times = np.rint(times)
    kx, ky = metres_per_degree(round(float(knot_lat[0]), 2))
    accuracy = np.round(3 + 12 * draw.random(FIXES) ** 2, 1)
    off, angle = np.minimum(draw.rayleigh(accuracy / 2), accuracy - 0.1), draw.uniform(0, 2 * np.pi, FIXES)
    lons = np.interp(times, knot_t, knot_lon) + off * np.cos(angle) / kx
    lats = np.interp(times, knot_t, knot_lat) + off * np.sin(angle) / ky
    day = today - timedelta(days=rng.randint(1, DAYS - 1))
    hour = (8.0 if rng.random() < 0.55 else 14.0) + rng.uniform(0, 2.5)
    started = datetime.combine(day.date(), clock(int(hour), int(hour % 1 * 60), rng.randint(0, 59)), county_zone())
    points = [
        {"at": _iso(started + timedelta(seconds=t)), "lon": round(x, 7), "lat": round(y, 7), "accuracy_m": a}
        for t, x, y, a in zip(times.tolist(), lons.tolist(), lats.tolist(), accuracy.tolist(), strict=True)
    ]
    record: dict[str, Any] = {
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "kind": "grid_patrol",
        "cell_ids": [cell],
        "started_at": _iso(started),
        "ended_at": _iso(started + timedelta(seconds=float(times[-1]) + rng.randint(5, 60))),
        "coord_system": "wgs84",
        "travel_mode": mode,
        "points": points,
        "check_ins": [_check_in(stop, started, scale, area, rng) for stop in outing.stops],
    }
    if team := county.teams.get(cell):  # its owner, now and then with a teammate
        partners = team[1:]
        record["officer_ids"] = [team[0], rng.choice(partners)] if partners and rng.random() < 0.25 else [team[0]]
    if notes := rng.choice((None, None, "例行巡查", "日常巡查", "重点检查消防通道和用电安全")):
        record["notes"] = notes
    return record


def _check_in(stop: Stop, started: datetime, scale: float, area: Any, rng: random.Random) -> dict[str, Any]:
    """Within 10 m of where the patrol stands at the enterprise's gate: most find nothing, one in twelve a hazard,
    a shut enterprise is found shut."""
    e = stop.enterprise
    lon, lat = near(stop.where, area, 0, 10, rng) or stop.where
    findings = []
    draw = rng.random()
    if e.status in SHUT:
        result = "closed_down"
    elif draw < 0.02:
        result = "entry_refused"
    elif draw < 0.10:
        result = "hazards_found"
        description, kind = rng.choice([*texts.GENERAL.get(e.sector, texts.GENERAL["other"]), *texts.ANYWHERE])
        findings.append({"description": description, "kind": kind.value, "severity": "general",
                         "comment": rng.choice(texts.REPORT_COMMENTS["patrol"])})  # fmt: skip
    else:
        result = "normal"
    return {"enterprise_id": e.id, "at": _iso(started + timedelta(seconds=round(stop.at * scale))),
            "lon": round(lon, 7), "lat": round(lat, 7), "result": result, "findings": findings}  # fmt: skip


@dataclass
class Planned:
    batches: list[bytes]  # each request's body
    records: int
    points: int
    check_ins: int
    findings: int
    uploaded_in: Counter  # township id: records
    seconds: float


def plan_uploads(county: Patrolled, *, count: int, seed: int, batch: int = BATCH) -> Planned:
    """`count` records, every cell in turn (each cell patrolled as often as the others, within one), in a shuffled
    order, cut into request bodies of `batch`."""
    started = time.perf_counter()
    rng = random.Random(f"bench-patrols-{seed}")
    draw = np.random.default_rng(rng.getrandbits(64))
    today = datetime.combine(county_today(), clock(0), county_zone())
    cells = sorted(county.shapes)
    township_of = {c: t for t, cs in county.cells_in.items() for c in cs}
    order: list[int] = []
    while len(order) < count:
        rng.shuffle(cells)
        order += cells
    order = order[:count]
    rng.shuffle(order)
    records = [_record(county, cell, rng, draw, today) for cell in order]
    bodies = [orjson.dumps({"patrols": records[i : i + batch]}) for i in range(0, len(records), batch)]
    return Planned(
        batches=bodies,
        records=len(records),
        points=sum(len(r["points"]) for r in records),
        check_ins=sum(len(r["check_ins"]) for r in records),
        findings=sum(len(c["findings"]) for r in records for c in r["check_ins"]),
        uploaded_in=Counter(township_of[c] for c in order),
        seconds=time.perf_counter() - started,
    )
