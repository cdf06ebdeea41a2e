"""The demo county's patrols (巡查): deterministic by seed, over the ninety days before the day of loading, each record
stored by `models.patrols.service.store_patrol` as the API stores an upload (one transaction each, its findings
reported to the ledger by its rules, its plausibility flags computed), in the order they started.

Nine in ten are grid patrols (网格巡查): one cell (now and then two touching ones) walked or ridden by an officer
assigned to it now, in the county's mornings or afternoons, 30 to 150 minutes, a fix every 10 to 30 s (accuracy
3 to 15 m, never off by more), along roads (legs axis-parallel or diagonal, inside the cells) between one to five of
the cell's enterprises, checked in at within 30 m of each. The others are inspections driven across a township by
the demo accounts: 四不两直 and special campaigns by the department account at the enterprises it supervises, led by
the leader in their township, joint enforcement by the administrator; their cells are those their track crosses.
Most check-ins find nothing; some find one or two hazards (general, rarely major), a few are refused or find the
enterprise shut. The demo officer's cells are patrolled most, by the demo officer's account.

About one patrol in forty carries one plausibility flag on purpose, and its notes say why (`FLAG_NOTES`): a GPS leap,
a walk through the next cell, a check-in from the crossroads, the phone off for half an hour. The others carry none.

Officers without an account (all but the demo officer) record as themselves: a caller with their officer id, as the
token of an account of theirs would give. Times are drawn back from the start of the day of loading (in the county).
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, time, timedelta
from typing import Any

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from shapely import unary_union
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import demo_hazard_texts as texts
from models.base import county_today, county_zone
from models.demo_enterprises import point_inside
from models.demo_hazards import demo_signers
from models.demo_patrol_ways import Outing, Stop, crossroads, fixes, gate, near, walk
from models.enterprises.model import Enterprise
from models.hazards.model import Kind, Severity
from models.patrols.model import CheckInResult, PatrolKind, TravelMode
from models.patrols.plausibility import share_inside
from models.patrols.service import store_patrol
from models.people.model import GridAssignment, Officer
from models.roles import SYSTEM, Caller, Role
from models.territory import GridCell, Township

OVER_DAYS = 90
INSPECTIONS = 0.1  # the share of inspections among the patrols
FLAGGED = 0.025  # the share of grid patrols flagged on purpose (at least one of each flag)
FLAG_NOTES = {
    "implausible-speed": "信号不好，定位偶有漂移",
    "outside-cells": "顺路巡查相邻网格",
    "check-in-far": "信号弱，在路口提前签到",
    "track-gap": "手机没电，关机约半小时",
}
_NOTES = {
    PatrolKind.GRID_PATROL: (None, None, "例行巡查", "日常巡查", "重点检查消防通道和用电安全", "节前安全检查"),
    PatrolKind.UNANNOUNCED: ("“四不两直”暗查暗访",),
    PatrolKind.SPECIAL_CAMPAIGN: ("危化品、烟花爆竹专项整治检查", "打非治违专项行动"),
    PatrolKind.LEADER_LED: ("领导带队督导检查",),
    PatrolKind.JOINT_ENFORCEMENT: ("县安委办牵头联合执法检查",),
}
_SHUT = ("suspended", "seasonal_stop")
_CHECK_IN_NOTES = {
    CheckInResult.NORMAL: (None, None, None, "未发现明显隐患", "消防设施完好", "安全通道畅通"),
    CheckInResult.HAZARDS_FOUND: (None, "已责令整改"),
    CheckInResult.ENTRY_REFUSED: ("负责人不在，门卫拒绝入内", "企业拒绝配合检查"),
    CheckInResult.CLOSED_DOWN: ("大门紧锁，现场无生产迹象", "已停产"),
    CheckInResult.SUSPENDED_BUT_PRODUCING: ("停产整顿期间发现生产迹象",),
}


class Patrolled:
    """What the patrols are drawn from: the demo accounts, the current teams, the cells and their enterprises."""

    def __init__(self, session: Session) -> None:
        self.accounts = {key: signer.caller for key, signer in demo_signers(session).items()}
        self.officers = {o.id: o for o in session.execute(select(Officer.id, Officer.name, Officer.township_id))}
        self.teams: dict[int, list[Any]] = {}  # cell: its current assignments, owners first
        self.cells_of: dict[int, list[int]] = {}  # officer: their current cells
        current = select(GridAssignment.cell_id, GridAssignment.officer_id).where(
            GridAssignment.valid_to.is_(None), GridAssignment.superseded_at.is_(None)
        )
        for a in session.execute(current.order_by(GridAssignment.role.desc(), GridAssignment.id)):
            self.teams.setdefault(a.cell_id, []).append(a.officer_id)
            self.cells_of.setdefault(a.officer_id, []).append(a.cell_id)
        cells = session.execute(
            select(GridCell.id, GridCell.township_id, GridCell.boundary).where(GridCell.retired_at.is_(None))
        ).all()
        self.shapes = {c.id: to_shape(c.boundary) for c in sorted(cells)}
        self.cells_in: dict[int, list[int]] = {}  # township: its cells
        for c in sorted(cells):
            self.cells_in.setdefault(c.township_id, []).append(c.id)
        townships = select(Township.id, Township.boundary).where(Township.retired_at.is_(None))
        self.townships = {t.id: to_shape(t.boundary) for t in session.execute(townships)}
        self.enterprises = session.execute(
            select(Enterprise.id, Enterprise.lon, Enterprise.lat, Enterprise.cell_id, Enterprise.township_id,
                   Enterprise.sector, Enterprise.status, Enterprise.department_ids)
            .where(Enterprise.closed_at.is_(None), Enterprise.cell_id.in_(list(self.shapes)))
            .order_by(Enterprise.id)
        ).all()  # fmt: skip
        self.in_cell: dict[int, list[Any]] = {}
        for e in self.enterprises:
            self.in_cell.setdefault(e.cell_id, []).append(e)
        dept, leader = self.accounts.get("dept"), self.accounts.get("leader")
        self.pools = {  # where each account inspects
            "dept": [e for e in self.enterprises if dept and dept.department_id in e.department_ids],
            "leader": [e for e in self.enterprises if leader and e.township_id == leader.township_id],
            "admin": self.enterprises,
        }
        for shape in [*self.shapes.values(), *self.townships.values()]:
            shapely.prepare(shape)
        session.rollback()

    def recorder(self, officer_id: int) -> Caller:
        """The officer as the caller of their upload: the demo officer's account, or the officer themselves."""
        account = self.accounts.get("officer")
        if account is not None and account.officer_id == officer_id:
            return account
        officer = self.officers[officer_id]
        return Caller(None, officer.name, Role.GRID_OFFICER, township_id=officer.township_id, officer_id=officer_id)


def load_demo_patrols(session: Session, *, seed: int, count: int) -> dict[str, int]:
    """`count` patrol records, stored one by one through `store_patrol` in the order they started (each hazard found
    reported to the ledger); none without the demo accounts, or without teams and enterprises in the cells. Answers
    the counts of what was stored."""
    rng = random.Random(seed)
    counts = {"patrols": 0, "check_ins": 0, "patrol_findings": 0, "flagged_patrols": 0}
    county = Patrolled(session)
    cells = [c for c in county.teams if county.in_cell.get(c)]
    if count <= 0 or not cells or not {"admin", "leader", "dept"} <= county.accounts.keys():
        return counts
    today = datetime.combine(county_today(), time(0), county_zone())
    grid = count - round(count * INSPECTIONS)
    flagged = round(grid * FLAGGED) if grid * FLAGGED >= len(FLAG_NOTES) else min(len(FLAG_NOTES), grid // 4)
    flags = [list(FLAG_NOTES)[i % len(FLAG_NOTES)] for i in range(flagged)] + [None] * (grid - flagged)
    rng.shuffle(flags)
    mine = set(county.cells_of.get(county.accounts["officer"].officer_id, [])) if "officer" in county.accounts else ()
    weights = [8 if c in mine else 1 for c in cells]  # the demo officer's cells are patrolled most
    planned = []  # (when it started, the outing, its fixes, the seed of its record's other draws)
    for flag in flags:
        for attempt in range(100):  # a cell too small for the flag, or a way too long: another (at last, no flag)
            outing = _grid_patrol(county, rng, rng.choices(cells, weights)[0], flag if attempt < 99 else None)
            if outing is not None and (drawn := fixes(outing, rng)) is not None:
                planned.append((_start(rng, today, outing.kind), outing, drawn, rng.getrandbits(64)))
                break
    for _ in range(count - grid):
        if (drawn := fixes(outing := _inspection(county, rng), rng)) is not None:
            planned.append((_start(rng, today, outing.kind), outing, drawn, rng.getrandbits(64)))
    planned.sort(key=lambda plan: plan[0])
    for started, outing, drawn, bits in planned:  # (each record made just before it is stored: they weigh)
        caller, record = outing.caller, _record(outing, drawn, started, random.Random(bits))
        session.info["actor"] = caller  # as the API's: the audit trail's "who" of the hazards found
        patrol, _outcome = store_patrol(session, caller=caller, record=record)
        counts["patrols"] += 1
        counts["check_ins"] += len(record["check_ins"])
        counts["patrol_findings"] += sum(len(c["findings"]) for c in record["check_ins"])
        counts["flagged_patrols"] += bool(patrol.flags)
    session.info["actor"] = SYSTEM
    return counts


# ---- grid patrols and inspections -------------------------------------------------------------------------------


def _grid_patrol(county: Patrolled, rng: random.Random, cell: int, flag: str | None) -> Outing | None:
    """A patrol of the cell by an officer of its team (its owner four times in five), now and then with a teammate
    or through a touching cell of theirs too, on foot or by e-bike; None when the cell cannot show the flag or the
    way took too long."""
    team = county.teams[cell]
    officer = team[0] if rng.random() < 0.8 else rng.choice(team)
    cells, hubs = [cell], []
    if flag is None and rng.random() < 0.15:  # and a touching cell of theirs, crossed on the border
        borders = [(c, county.shapes[cell].intersection(county.shapes[c])) for c in county.cells_of[officer]]
        if touching := [(c, border) for c, border in borders if c != cell and border.length]:
            other, border = rng.choice(touching)
            hub = border.representative_point()
            cells, hubs = [cell, other], [(hub.x, hub.y)]
    area = unary_union([county.shapes[c] for c in cells])
    shapely.prepare(area)
    pool = [e for c in cells for e in county.in_cell.get(c, [])]
    visits = rng.sample(pool, min(len(pool), rng.choices((1, 2, 3, 4, 5), (35, 25, 20, 12, 8))[0]))
    ridden = flag != "implausible-speed" and rng.random() < 0.25  # (a leap shows best at walking speed)
    outing = Outing(county.recorder(officer), PatrolKind.GRID_PATROL, TravelMode.CYCLING if ridden else
                    TravelMode.WALKING, sorted(cells), area, [Stop(e, gate(e, area, rng), 60 * rng.uniform(4, 15))
                    for e in visits], flag=flag, hubs=hubs)  # fmt: skip
    partners = [o for o in team if o != officer]
    if partners and rng.random() < 0.25:
        outing.officer_ids = [officer, rng.choice(partners)]
    if flag == "check-in-far" and not crossroads(outing, rng):
        return None
    detour = _neighbour(county, cells, rng) if flag == "outside-cells" else None
    if flag == "outside-cells" and detour is None:
        return None
    start = point_inside(area, rng)
    end = start if rng.random() < 0.6 else point_inside(area, rng)
    walk(outing, rng, start, end, rng.triangular(30, 150, 60) if flag != "track-gap" else 120, detour)
    if not 0 < outing.knots[-1][0] <= 150 * 60 or (flag == "track-gap" and outing.knots[-1][0] < 60 * 60):
        return None
    if detour is not None and (share_inside(LineString([k[1:] for k in outing.knots]), area) or 0) > 0.6:
        return None  # (not astray enough)
    return outing


def _inspection(county: Patrolled, rng: random.Random) -> Outing:
    """Two to four enterprises of a township, driven to from its seat and back: 四不两直 or a special campaign by
    the department account (where it supervises), led by the leader (in their township), or joint enforcement by the
    administrator (with the department). Its cells are those of the township that its track crosses."""
    who = rng.choices(("dept", "leader", "admin"), (5, 2.5, 2.5))[0]
    caller = county.accounts[who]
    pool = county.pools[who] or county.enterprises
    township = rng.choice(pool).township_id
    pool = [e for e in pool if e.township_id == township and e.status not in _SHUT] or pool[:1]
    kind = {
        "dept": rng.choice((PatrolKind.UNANNOUNCED, PatrolKind.UNANNOUNCED, PatrolKind.SPECIAL_CAMPAIGN)),
        "leader": rng.choice((PatrolKind.LEADER_LED, PatrolKind.JOINT_ENFORCEMENT)),
        "admin": PatrolKind.JOINT_ENFORCEMENT,
    }[who]
    area = county.townships[township]
    seat = area.representative_point()
    visits = rng.sample(pool, min(len(pool), rng.randint(2, 4)))
    while True:
        stops = [Stop(e, gate(e, area, rng), 60 * rng.uniform(15, 35)) for e in visits]
        outing = Outing(caller, kind, TravelMode.DRIVING, [], area, stops)
        walk(outing, rng, (seat.x, seat.y), (seat.x, seat.y), 0, None)
        line = LineString([k[1:] for k in outing.knots])
        outing.cells = [c for c in county.cells_in[township] if county.shapes[c].intersects(line)]
        if (outing.knots[-1][0] <= 150 * 60 and len(outing.cells) <= 50) or len(visits) == 1:
            break
        visits = visits[:-1]
    if who == "admin":  # with the department
        outing.user_ids = [u for u in (caller.user_id, county.accounts["dept"].user_id) if u is not None]
    if kind is not PatrolKind.UNANNOUNCED:  # the cells' owners come along (四不两直 is unannounced)
        owners = {county.teams[s.enterprise.cell_id][0] for s in outing.stops if s.enterprise.cell_id in county.teams}
        outing.officer_ids = sorted(owners)[:3]
    return outing


def _neighbour(county: Patrolled, cells: list[int], rng: random.Random) -> BaseGeometry | None:
    """A cell touching the patrol's first (where its walk strays), or None."""
    near_by = [c for c, s in county.shapes.items() if c not in cells and s.intersects(county.shapes[cells[0]])]
    return county.shapes[rng.choice(near_by)] if near_by else None


# ---- the record -------------------------------------------------------------------------------------------------


def _start(rng: random.Random, today: datetime, kind: PatrolKind) -> datetime:
    """A working morning or afternoon of the ninety days before today (weekends now and then)."""
    day = today - timedelta(days=rng.randint(1, OVER_DAYS))
    while day.weekday() >= 5 and rng.random() < 0.75:
        day = today - timedelta(days=rng.randint(1, OVER_DAYS))
    hour = (8.0 if rng.random() < 0.55 else 14.0) + rng.uniform(0, 2.5 if kind is PatrolKind.GRID_PATROL else 1.5)
    return datetime.combine(day.date(), time(int(hour), int(hour % 1 * 60), rng.randint(0, 59)), county_zone())


def _record(outing: Outing, drawn: np.ndarray, started: datetime, rng: random.Random) -> dict[str, Any]:
    """The record as the app uploads it (as the API's schema loads it), with the fixes drawn."""
    points = [{"at": started + timedelta(seconds=s), "lon": round(x, 7), "lat": round(y, 7), "accuracy_m": a}
              for s, x, y, a in drawn.tolist()]  # fmt: skip
    record: dict[str, Any] = {
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "kind": outing.kind,
        "cell_ids": outing.cells,
        "started_at": started,
        "ended_at": points[-1]["at"] + timedelta(seconds=rng.randint(1, 20)),
        "points": points,
        "check_ins": [_check_in(outing, stop, started, rng) for stop in outing.stops],
        "findings": [],
        "travel_mode": outing.mode,
    }
    if outing.officer_ids is not None:
        record["officer_ids"] = outing.officer_ids
    if outing.user_ids is not None:
        record["user_ids"] = outing.user_ids
    if (notes := FLAG_NOTES[outing.flag] if outing.flag else rng.choice(_NOTES[outing.kind])) is not None:
        record["notes"] = notes
    return record


def _check_in(outing: Outing, stop: Stop, started: datetime, rng: random.Random) -> dict[str, Any]:
    """The check-in at a stop, within 10 m of where the patrol stands: most find nothing, some one or two hazards
    (general, rarely major), a few are refused; a shut enterprise is found shut (or, now and then, producing)."""
    e, inspection = stop.enterprise, outing.kind is not PatrolKind.GRID_PATROL
    lon, lat = near(stop.where, outing.area, 0, 10, rng) or stop.where
    findings: list[dict[str, Any]] = []
    if e.status in _SHUT:
        result = CheckInResult.SUSPENDED_BUT_PRODUCING if rng.random() < 0.05 else CheckInResult.CLOSED_DOWN
    else:
        draw = rng.random()
        result = (CheckInResult.ENTRY_REFUSED if draw < 0.02 else CheckInResult.HAZARDS_FOUND
                  if draw < (0.25 if inspection else 0.08) else CheckInResult.NORMAL)  # fmt: skip
    if result is CheckInResult.SUSPENDED_BUT_PRODUCING:
        findings.append(
            {"description": "停产整顿期间擅自组织生产", "kind": Kind.MANAGEMENT, "severity": Severity.MAJOR}
        )
    elif result is CheckInResult.HAZARDS_FOUND:
        bank = [*texts.GENERAL.get(e.sector, texts.GENERAL["other"]), *texts.ANYWHERE]
        for description, kind in rng.sample(bank, 1 if rng.random() < 0.75 else 2):
            findings.append({"description": description, "kind": kind, "severity": Severity.GENERAL})
        if e.sector in texts.MAJOR and rng.random() < 0.04:
            findings[0] = {"description": texts.MAJOR[e.sector][0], "kind": Kind.CONDITION, "severity": Severity.MAJOR}
    for finding in findings:
        finding["comment"] = rng.choice(texts.REPORT_COMMENTS["government_inspection" if inspection else "patrol"])
    check_in = {"enterprise_id": e.id, "at": started + timedelta(seconds=round(stop.at)), "lon": round(lon, 7),
                "lat": round(lat, 7), "result": result, "findings": findings}  # fmt: skip
    if (notes := rng.choice(_CHECK_IN_NOTES[result])) is not None:
        check_in["notes"] = notes
    return check_in
