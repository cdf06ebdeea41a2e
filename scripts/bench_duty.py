"""The holiday duty target of issue 11, over HTTP under gunicorn (the server of scripts/bench_http.py):
`GET /api/v1/duty/periods/{id}/check` of one 7-day period across 500 units answers in under 0.5 s.

Set up before anything is timed, on the county database:

1. **Units**: the demo county has 20 townships and 5 departments; departments are added (bulk SQL) until 500 units
   exist, each with its staff accounts (`department_staff`), and each township gets three leaders' accounts
   (`township_leader`). All of them log in with the demo password.
2. **The period**, announced through `models.duty.periods.create_period` like a holiday's: 7 days from 08:30 to
   08:30, a leader on duty required, day duty until 17:30 where a unit splits the day, naming the 500 units. It
   starts three days from today, and its deadline (7 days before the start) has passed.
3. **A submitted roster per unit**, written as `models.duty.rosters` writes one (the roster submitted, revision 1,
   the revision kept whole, its shifts and the people on them), in bulk SQL rather than 500 requests: each day a
   24-hour shift with a leader on duty (the unit's accounts, by turns) and one or two duty officers (a township's
   officers, a department's staff, by turns, so that nobody works two days running); one unit in five splits the
   day: the leader on a 24-hour shift beside a day officer until 17:30 and an overnight officer. Planted: a few gaps
   (a shift ending 30 minutes early, or a night without its officer), a few double-bookings (a day's leader also
   named on an extra afternoon shift), a few rosters submitted after the deadline, a few leaders without a phone.

Timed: the period's check as the demo `admin` (every unit in scope), single requests one after the other (median and
max), after warm-up requests that reach both workers. The answer is checked against what was planted: 500 units, all
submitted, the planted gaps, double-bookings, late rosters and people without a phone found, and nothing else. Then
`check_period` is timed in process (the same answer without HTTP and JSON), and profiled when the target is missed.
"""

from __future__ import annotations

import cProfile
import gc
import io
import pstats
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

import bench_http
import orjson
from sqlalchemy import Connection, func, insert, select, text

from api.db import db
from models.accounts.model import User
from models.base import county_today, county_zone, utcnow
from models.demo import DEMO_PASSWORD
from models.departments.model import Department
from models.duty.model import (
    DutyPeriod,
    DutyRoster,
    DutyRosterRevision,
    DutyShift,
    DutyShiftPerson,
    RosterStatus,
    ShiftRole,
)
from models.duty.periods import create_period
from models.duty.roster_checks import check_period
from models.people.model import Officer
from models.roles import Caller, Role
from models.territory import Township

TARGET_S = 0.5  # the check of the period, under
UNITS, DAYS = 500, 7
SHIFT_START, SPLIT_AT = clock(8, 30), clock(17, 30)
LEADERS, OFFICERS = 3, 4  # a department's staff accounts: leaders on duty, then duty officers (by turns)
TOWNSHIP_OFFICERS = 6  # a township's officers on its roster (by turns)
SPLIT_SHARE = 0.2  # units splitting the day into day and overnight duty
PLANTED = {"gaps": 12, "double_bookings": 10, "late": 9, "people_without_phone": 5}
_BUREAUS = ("发展和改革局", "教育局", "工业和信息化局", "公安局", "民政局", "财政局", "自然资源局", "生态环境局",
            "住房和城乡建设局", "交通运输局", "水利局", "农业农村局", "商务局", "文化和旅游局", "卫生健康局",
            "市场监督管理局", "林业局", "城市管理局", "消防救援大队", "供电公司", "燃气公司", "水务集团",
            "公路管理段", "气象局", "粮食和物资储备局")  # fmt: skip
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚华"


@dataclass
class DutyResult:
    """The figures of the duty check: the data set up, the timings, and the answer's sanity check."""

    period_id: int = 0
    units: int = 0  # named by the period
    departments_added: int = 0
    accounts_added: int = 0
    rosters: int = 0
    shifts: int = 0
    people: int = 0  # rows of people on shifts
    split_units: int = 0
    planted: dict[str, int] = field(default_factory=dict)
    setup_s: float = 0.0
    repeat: int = 0
    seconds: list[float] = field(default_factory=list)  # HTTP, single requests
    in_process_s: list[float] = field(default_factory=list)  # check_period alone
    in_process_gc_s: list[float] = field(default_factory=list)  # of which the garbage collector's passes
    answer_bytes: int = 0
    answered_units: int = 0
    submitted_units: int = 0
    late_units: int = 0
    problems_answered: int = 0
    summary: dict[str, Any] = field(default_factory=dict)  # the answer's
    mismatches: list[str] = field(default_factory=list)  # the answer against what was planted
    failure: str = ""
    profile: str = ""  # cProfile of check_period in process, when the target is missed
    problems: list[str] = field(default_factory=list)

    @property
    def median_s(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None

    @property
    def max_s(self) -> float | None:
        return max(self.seconds) if self.seconds else None

    @property
    def in_process_median_s(self) -> float | None:
        return statistics.median(self.in_process_s) if self.in_process_s else None

    @property
    def met(self) -> bool:
        return not self.failure and self.median_s is not None and self.median_s < TARGET_S


# ---- units and their people ---------------------------------------------------------------------------------------


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))


def add_units(connection: Connection, rng: random.Random, *, units: int, now: datetime) -> tuple[int, int]:
    """Departments until `units` townships and departments exist, LEADERS + OFFICERS staff accounts for each
    department and three leaders' accounts for each township (the demo password): (departments, accounts) added."""
    townships = list(connection.scalars(select(Township.id).where(Township.retired_at.is_(None))))
    existing = connection.scalar(select(func.count()).select_from(Department).where(Department.retired_at.is_(None)))
    wanted = max(0, units - len(townships) - existing)
    rows = [{"code": f"BD{n:03d}", "name": f"县{_BUREAUS[n % len(_BUREAUS)]}第{n // len(_BUREAUS) + 1}值班组",
             "duty_phone": f"0871-6{n:06d}", "sectors": [], "created_at": now, "updated_at": now, "version": 1}
            for n in range(wanted)]  # fmt: skip
    if rows:
        connection.execute(insert(Department), rows)
    departments = list(connection.scalars(select(Department.id).where(Department.retired_at.is_(None))))
    password_hash = connection.scalar(select(User.password_hash).where(User.username == "admin"))
    accounts = [(Role.TOWNSHIP_LEADER, t, None, k) for t in townships for k in range(LEADERS)]
    accounts += [(Role.DEPARTMENT_STAFF, None, d, k) for d in departments for k in range(LEADERS + OFFICERS)]
    connection.execute(insert(User), [
        {"username": f"bench-duty-{'t' if t else 'd'}{t or d}-{k}", "display_name": _name(rng),
         "password_hash": password_hash, "role": role.value, "township_id": t, "department_id": d,
         "created_at": now, "updated_at": now, "password_changed_at": now, "version": 1}
        for role, t, d, k in accounts])  # fmt: skip
    return wanted, len(accounts)


@dataclass(frozen=True)
class Person:
    officer_id: int | None
    user_id: int | None
    name: str
    phone: str | None  # as answered: the phone given on the shift, else the officer's mobile
    given_phone: str | None

    def answer(self) -> dict[str, Any]:
        return {"officer_id": self.officer_id, "user_id": self.user_id, "name": self.name, "phone": self.phone}


def unit_people(connection: Connection, rng: random.Random) -> dict[tuple[str, int], tuple[list, list]]:
    """Each unit's leaders on duty and duty officers, by turns: a township's leaders' accounts and officers, a
    department's staff accounts. Accounts get a phone given on the shift (they have none of their own)."""
    found: dict[tuple[str, int], tuple[list, list]] = {}
    accounts: dict[tuple[str, int], list[Person]] = {}
    for u in connection.execute(
        select(User.id, User.display_name, User.township_id, User.department_id)
        .where(User.username.like("bench-duty-%"))
        .order_by(User.id)
    ):
        unit = ("township", u.township_id) if u.township_id is not None else ("department", u.department_id)
        phone = f"138{rng.randrange(10**8):08d}"
        accounts.setdefault(unit, []).append(Person(None, u.id, u.display_name, phone, phone))
    officers: dict[int, list[Person]] = {}
    for o in connection.execute(
        select(Officer.id, Officer.name, Officer.mobile, Officer.township_id)
        .where(Officer.deactivated_at.is_(None))
        .order_by(Officer.id)
    ):
        officers.setdefault(o.township_id, []).append(Person(o.id, None, o.name, o.mobile, None))
    for unit, staff in accounts.items():
        if unit[0] == "township":
            found[unit] = (staff[:LEADERS], officers[unit[1]][:TOWNSHIP_OFFICERS])
        else:
            found[unit] = (staff[:LEADERS], staff[LEADERS:])
    return found


# ---- the rosters --------------------------------------------------------------------------------------------------


def _shift(starts: datetime, ends: datetime, leader: Person | None, officers: list[Person], phone: str) -> dict:
    return {"starts_at": starts, "ends_at": ends, "phone": phone, "notes": None, "leader": leader,
            "officers": officers}  # fmt: skip


def plan_roster(period: DutyPeriod, people: tuple[list, list], rng: random.Random, k: int, roles: dict) -> list:
    """One unit's shifts for the 7 days (see the module's docstring); `roles`: what is planted in it."""
    leaders, officers = people
    zone, first = county_zone(), period.starts_at.astimezone(county_zone()).date()
    line = f"0871-{6000000 + k}"
    if k in roles["people_without_phone"]:
        leaders = [Person(None, leaders[0].user_id, leaders[0].name, None, None), *leaders[1:]]
    shifts = []
    for d in range(DAYS):
        day, leader = first + timedelta(days=d), leaders[d % len(leaders)]
        starts = datetime.combine(day, SHIFT_START, zone)
        ends = datetime.combine(day + timedelta(days=1), SHIFT_START, zone)
        pair = [officers[(2 * d) % len(officers)], officers[(2 * d + 1) % len(officers)]]
        if k in roles["split"]:
            split = datetime.combine(day, SPLIT_AT, zone)
            shifts.append(_shift(starts, ends, leader, [], line))
            shifts.append(_shift(starts, split, None, pair[:1], line))
            if not (k in roles["gaps"] and d == 4):  # planted: a night without its officer
                shifts.append(_shift(split, ends, None, pair[1:], line))
        else:
            early = timedelta(minutes=30) if k in roles["gaps"] and d == 2 else timedelta(0)  # planted: ends early
            shifts.append(_shift(starts, ends - early, leader, pair[: rng.choice((1, 2))], line))
        if k in roles["double_bookings"] and d == 3:  # planted: the day's leader also on an afternoon shift
            shifts.append(_shift(starts + timedelta(hours=4, minutes=30), starts + timedelta(hours=8, minutes=30),
                                 None, [leader], line))  # fmt: skip
    return sorted(shifts, key=lambda s: (s["starts_at"], s["ends_at"]))


def _snapshot(shift: dict) -> dict:
    """A shift as a revision keeps it (`models.duty.rosters._snapshot`)."""
    return {**shift, "starts_at": shift["starts_at"].isoformat(), "ends_at": shift["ends_at"].isoformat(),
            "leader": shift["leader"].answer() if shift["leader"] else None,
            "officers": [p.answer() for p in shift["officers"]]}  # fmt: skip


def insert_rosters(connection: Connection, period: DutyPeriod, plans: dict, submitted: dict, late: set) -> tuple:
    """The rosters as submitted (revision 1), their revisions, shifts and people, in bulk: (shifts, people)."""
    units = list(plans)
    unit_of = [{"township_id": u[1] if u[0] == "township" else None,
                "department_id": u[1] if u[0] == "department" else None} for u in units]  # fmt: skip
    roster_ids = connection.execute(insert(DutyRoster).returning(DutyRoster.id, sort_by_parameter_order=True), [
        {"period_id": period.id, **unit, "status": RosterStatus.SUBMITTED.value, "revision": 1,
         "first_submitted_at": submitted[u], "submitted_at": submitted[u], "late": u in late,
         "created_by_user_id": plans[u][1], "created_at": submitted[u] - timedelta(days=1),
         "updated_at": submitted[u], "version": 2}
        for u, unit in zip(units, unit_of, strict=True)]).scalars().all()  # fmt: skip
    connection.execute(insert(DutyRosterRevision), [
        {"roster_id": r, "number": 1, **unit, "submitted_at": submitted[u], "submitted_by_user_id": plans[u][1],
         "late": u in late, "shifts": [_snapshot(s) for s in plans[u][0]]}
        for u, unit, r in zip(units, unit_of, roster_ids, strict=True)])  # fmt: skip
    rows, on = [], []
    for u, unit, r in zip(units, unit_of, roster_ids, strict=True):
        for position, s in enumerate(plans[u][0]):
            rows.append({"roster_id": r, "period_id": period.id, **unit, "position": position,
                         "starts_at": s["starts_at"], "ends_at": s["ends_at"], "phone": s["phone"]})  # fmt: skip
            on.append((r, s))
    shift_ids = connection.execute(
        insert(DutyShift).returning(DutyShift.id, sort_by_parameter_order=True), rows
    ).scalars().all()  # fmt: skip
    people = [
        {"shift_id": i, "roster_id": r, "period_id": period.id, "role": role.value, "position": n,
         "officer_id": p.officer_id, "user_id": p.user_id, "phone": p.given_phone}
        for i, (r, s) in zip(shift_ids, on, strict=True)
        for n, (role, p) in enumerate(([(ShiftRole.LEADER, s["leader"])] if s["leader"] else [])
                                      + [(ShiftRole.OFFICER, p) for p in s["officers"]])
    ]  # fmt: skip
    connection.execute(insert(DutyShiftPerson), people)
    return len(rows), len(people)


def set_up(app: Any, result: DutyResult, *, seed: int, log: Callable[[str], None]) -> Caller:
    """Units, accounts, the period and its rosters (untimed); answers the demo admin as a caller."""
    started, rng, engine, now = time.perf_counter(), random.Random(seed), db.engine(app), utcnow()
    with engine.begin() as connection:
        result.departments_added, result.accounts_added = add_units(connection, rng, units=UNITS, now=now)
    with db.new_session(app) as session:
        admin = session.scalar(select(User).where(User.username == "admin"))
        caller = Caller(user_id=admin.id, username=admin.username, role=Role.COUNTY_ADMIN)
        session.info["actor"] = caller
        zone, first = county_zone(), county_today() + timedelta(days=3)  # every active unit named, by default
        period = create_period(
            session, caller=caller, name=f"{first:%Y年%m月%d日}起7日24小时值班（基准测试）",
            starts_at=datetime.combine(first, SHIFT_START, zone),
            ends_at=datetime.combine(first + timedelta(days=DAYS), SHIFT_START, zone),
            deadline=datetime.combine(first - timedelta(days=7), clock(17, 30), zone), shift_start="08:30",
            split_at="17:30", leader_required=True, holiday=None,
        )  # fmt: skip
        session.refresh(period)
        session.expunge(period)
    result.period_id = period.id
    with engine.begin() as connection:
        people = unit_people(connection, rng)
        units = sorted(people)
        result.units = len(units)
        picks = rng.sample(range(len(units)), sum(PLANTED.values()))  # each unit planted with one thing at most
        roles: dict[str, set[int]] = {}
        for kind, n in PLANTED.items():
            roles[kind], picks = set(picks[:n]), picks[n:]
        roles["split"] = {k for k in range(len(units)) if rng.random() < SPLIT_SHARE}
        result.split_units, result.planted = len(roles["split"]), dict(PLANTED)
        plans = {u: (plan_roster(period, people[u], rng, k, roles), people[u][0][0].user_id)
                 for k, u in enumerate(units)}  # fmt: skip
        deadline = period.deadline
        late = {units[k] for k in roles["late"]}
        submitted = {u: deadline + timedelta(minutes=rng.randrange(10, int((now - deadline).total_seconds() // 60)))
                     if u in late else deadline - timedelta(minutes=rng.randrange(10, 3 * 24 * 60))
                     for u in units}  # fmt: skip
        result.shifts, result.people = insert_rosters(connection, period, plans, submitted, late)
        result.rosters = len(plans)
        for table in ("departments", "users", "duty_rosters", "duty_roster_revisions", "duty_shifts",
                      "duty_shift_people", "duty_period_units"):  # fmt: skip
            connection.execute(text(f"ANALYZE {table}"))
    result.setup_s = time.perf_counter() - started
    log(f"  set up in {result.setup_s:.1f} s: {result.departments_added} departments and {result.accounts_added:,} "
        f"accounts added; period {period.id} naming {result.units} units, {result.rosters} rosters submitted "
        f"({result.split_units} split day/night), {result.shifts:,} shifts, {result.people:,} people on them; "
        f"planted {PLANTED}")  # fmt: skip
    return caller


# ---- timing and checking the answer -------------------------------------------------------------------------------


def verify(result: DutyResult, answer: dict[str, Any]) -> None:
    """The answer against what was planted."""
    units, summary = answer["units"], answer["summary"]
    result.answered_units, result.summary = len(units), summary
    result.submitted_units = sum(1 for u in units if u["status"] == RosterStatus.SUBMITTED.value)
    result.late_units, result.problems_answered = sum(1 for u in units if u["late"]), len(answer["problems"])
    expected = {"units": (len(units), UNITS), "submitted": (result.submitted_units, UNITS),
                "not submitted": (len(answer["not_submitted"]), 0), "late": (result.late_units, PLANTED["late"]),
                "short rests": (summary["short_rests"], 0), "long duties": (summary["long_duties"], 0),
                "inactive people": (summary["inactive_people"], 0)}  # fmt: skip
    expected |= {kind: (summary[kind], PLANTED[kind]) for kind in ("gaps", "double_bookings", "people_without_phone")}
    result.mismatches = [f"{k}: {got} answered, {want} expected" for k, (got, want) in expected.items() if got != want]
    result.problems += [f"duty check: {m}" for m in result.mismatches]


def warm_up(url: str, token: str) -> None:
    """Both workers answer the check once, untimed (imports, connection pools, caches)."""
    time.sleep(3)
    for _ in range(2):
        threads = [threading.Thread(target=bench_http.http_get, args=(url, token), kwargs={"timeout": 120})
                   for _ in range(bench_http.WORKERS)]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def time_in_process(app: Any, caller: Caller, result: DutyResult, runs: int) -> None:
    """`check_period` alone, and how much of each run the garbage collector took (a full pass over every object of
    the process lands on whichever request allocates past its threshold)."""
    began, spent = [0.0], [0.0]

    def clock_gc(phase: str, _: dict) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - began[0]

    gc.callbacks.append(clock_gc)
    try:
        for _ in range(runs):
            with db.new_session(app) as session:
                spent[0], started = 0.0, time.perf_counter()
                check_period(session, caller=caller, period_id=result.period_id)
                result.in_process_s.append(time.perf_counter() - started)
                result.in_process_gc_s.append(spent[0])
    finally:
        gc.callbacks.remove(clock_gc)


def profile(app: Any, caller: Caller, period_id: int, top: int = 25) -> str:
    """cProfile of one `check_period` in process: the functions by their own time, the heaviest first."""
    with db.new_session(app) as session:
        profiler = cProfile.Profile()
        profiler.runcall(check_period, session, caller=caller, period_id=period_id)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def run(
    app: Any, url: str, workdir: Path, *, seed: int, repeat: int = 10, settle: Callable[[], None] = lambda: None,
    log: Callable[[str], None] = print,
) -> DutyResult:  # fmt: skip
    """Set the period up, serve the database with gunicorn, time the period's check, verify its answer, then time
    `check_period` in process (and profile it when the target is missed)."""
    result = DutyResult(repeat=repeat)
    caller = set_up(app, result, seed=seed, log=log)
    with bench_http.gunicorn(url, workdir) as base:
        token = bench_http.log_in(base, "admin", DEMO_PASSWORD)
        check = f"{base}/api/v1/duty/periods/{result.period_id}/check"
        warm_up(check, token)
        settle()
        for _ in range(repeat):
            started = time.perf_counter()
            status, body = bench_http.http_get(check, token, timeout=300)
            took = time.perf_counter() - started
            if status != 200:
                result.failure = f"{status} {body[:300].decode(errors='replace')}"
                result.problems.append(f"duty check: {result.failure}")
                return result
            result.seconds.append(took)
    result.answer_bytes = len(body)
    verify(result, orjson.loads(body))
    time_in_process(app, caller, result, min(repeat, 5))
    log(f"  the period's check: median {result.median_s:.3f} s, max {result.max_s:.3f} s over {repeat} requests "
        f"({result.answer_bytes / 1e6:.1f} MB); in process {[round(t, 3) for t in result.in_process_s]} s, of "
        f"which gc {[round(t, 3) for t in result.in_process_gc_s]}; "
        f"{result.answered_units} units, {result.problems_answered} problems, summary {result.summary}; "
        f"{'; '.join(result.mismatches) or 'as planted'}")  # fmt: skip
    if not result.met:
        result.profile = profile(app, caller, result.period_id)
        log(result.profile)
    return result
