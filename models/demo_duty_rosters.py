"""The demo county's duty rosters: one per unit for each demo period, written, submitted and decided through
`models.duty.rosters` as the units and the county office would, so every rule of the API holds for them.

- The people: a township's leader on duty is one of its leaders' accounts (the demo `leader` in the first township,
  and a leader's account made for each other one), with a mobile given on the shift; its duty officers are its grid
  officers, two a day by turns. A department's roster names its staff's accounts (the demo `dept` in the 应急管理局,
  and staff accounts made for each department up to four): two lead by turns, two stand duty by turns. The accounts
  made here get a random password: people on rosters, not logins.
- **2026年国庆节** (over: its history is dated back): every unit submitted, most before the deadline and a few
  late (`LATE`), all approved by the county office; one returned with a reason and submitted again (two
  revisions).
- **2027年春节** (the round under way): most units submitted, some still drafts, some not started, so the period's
  check has a reminder list; one township left a night uncovered (a gap) and one named an officer on two
  overlapping shifts (a double-booking). Its times are real: submitted now, late only if the demo is loaded after
  its deadline.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.accounts.model import User
from models.accounts.service import create_user
from models.base import county_zone
from models.departments.model import Department
from models.duty.model import DutyPeriod, DutyPeriodUnit, DutyRoster, DutyRosterRevision
from models.duty.rosters import create_roster, decide_roster, submit_roster, update_roster
from models.people.model import Officer
from models.roles import SYSTEM, Caller, Role
from models.territory.model import Township

LATE = 3  # units of the National Day period that submitted after the deadline
RETURN_REASON = "请补充值宿人员联系电话"
EVE = "除夕加强值班"
COMPLETED = "值宿人员电话见各班次值班电话"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "建国志强国华海军卫东永明振华立新文辉德胜光荣春生秋实"


@dataclass
class _Unit:
    """A unit writing rosters: who writes them (caller), its leaders on duty and duty officers (refs), its line."""

    key: tuple[str, int]  # ("township_id", 3) or ("department_id", 2)
    caller: Caller
    leaders: list[dict]
    officers: list[dict]
    line: str


def _account(session: Session, rng: random.Random, username: str, role: Role, **unit: int) -> int:
    name = rng.choice(SURNAMES) + rng.choice(GIVEN[::2]) + rng.choice(GIVEN[1::2])
    user = create_user(session, caller=SYSTEM, username=username, display_name=name, role=role,
                       password=secrets.token_urlsafe(24), **unit)  # fmt: skip
    return user.id


def _mobile(rng: random.Random) -> str:
    return f"13{rng.randint(500_000_000, 999_999_999)}"


def _accounts(
    session: Session, rng: random.Random, role: Role, count: int, prefix: str, **unit: int
) -> list[tuple[int, str]]:
    """The unit's active accounts of `role` (id, username), made up to `count` where it has fewer."""
    kind, unit_id = next(iter(unit.items()))
    mine = (User.role == role.value, getattr(User, kind) == unit_id, User.deactivated_at.is_(None))
    users = [(u.id, u.username) for u in session.execute(select(User.id, User.username).where(*mine).order_by(User.id))]
    for n in range(len(users), count):
        username = f"{prefix}{n + 1}"
        users.append((_account(session, rng, username, role, **unit), username))
    return users


def _units(session: Session, rng: random.Random) -> list[_Unit]:
    """Every active township and department, with its people (accounts made where it has too few)."""
    units = []
    for township_id in session.scalars(select(Township.id).where(Township.retired_at.is_(None)).order_by(Township.id)):
        leaders = _accounts(session, rng, Role.TOWNSHIP_LEADER, 2, f"t{township_id}.leader", township_id=township_id)
        active = (Officer.township_id == township_id, Officer.deactivated_at.is_(None))
        officers = list(session.scalars(select(Officer.id).where(*active).order_by(Officer.id).limit(6)))
        caller = Caller(user_id=leaders[0][0], username=leaders[0][1], role=Role.TOWNSHIP_LEADER,
                        township_id=township_id)  # fmt: skip
        units.append(_Unit(("township_id", township_id), caller,
                           [{"user_id": u, "phone": _mobile(rng)} for u, _ in leaders],
                           [{"officer_id": o} for o in officers], f"0731-5555{township_id:04d}"))  # fmt: skip
    for department_id in session.scalars(
        select(Department.id).where(Department.retired_at.is_(None)).order_by(Department.id)
    ):
        staff = _accounts(session, rng, Role.DEPARTMENT_STAFF, 4, f"d{department_id}.staff",
                          department_id=department_id)  # fmt: skip
        caller = Caller(user_id=staff[0][0], username=staff[0][1], role=Role.DEPARTMENT_STAFF,
                        department_id=department_id)  # fmt: skip
        people = [{"user_id": u, "phone": _mobile(rng)} for u, _ in staff]
        units.append(_Unit(("department_id", department_id), caller, people[:2], people[2:],
                           f"0731-5556{department_id:04d}"))  # fmt: skip
    return units


def _shifts(period: DutyPeriod, unit: _Unit, offset: int) -> list[dict[str, Any]]:
    """24-hour shifts from the period's shift start, a leader and one or two officers each, by turns (nobody on
    two days running)."""
    zone, (hour, minute) = county_zone(), map(int, period.shift_start.split(":"))
    day, shifts = period.starts_at.astimezone(zone).date(), []
    while True:
        starts = datetime.combine(day, time(hour, minute), zone)
        ends = datetime.combine(day + timedelta(days=1), time(hour, minute), zone)
        if ends > period.ends_at:
            return shifts
        n, people = offset + len(shifts), unit.officers
        pair = [people[2 * n % len(people)], people[(2 * n + 1) % len(people)]] if len(people) >= 4 else []
        officers = pair or [people[n % len(people)]]
        shifts.append({"starts_at": starts, "ends_at": ends, "leader": unit.leaders[n % len(unit.leaders)],
                       "officers": officers, "phone": unit.line, "notes": None})  # fmt: skip
        day += timedelta(days=1)


def _backdate(session: Session, roster_id: int, deadline: datetime, times: list[tuple[datetime, datetime]]) -> None:
    """The demo's history: the roster's revisions submitted and decided at these times (in order), not at loading."""
    first, (last, decided) = times[0][0], times[-1]
    session.execute(update(DutyRoster).where(DutyRoster.id == roster_id).values(
        created_at=first - timedelta(hours=2), first_submitted_at=first, submitted_at=last, late=first > deadline,
        decided_at=decided, updated_at=decided))  # fmt: skip
    for number, (submitted, decided) in enumerate(times, start=1):
        session.execute(update(DutyRosterRevision).where(
            DutyRosterRevision.roster_id == roster_id, DutyRosterRevision.number == number
        ).values(submitted_at=submitted, late=submitted > deadline, decided_at=decided))  # fmt: skip
    session.commit()


def _decide(session: Session, admin: Caller, roster: DutyRoster, reason: str | None = None) -> DutyRoster:
    session.info["actor"] = admin
    return decide_roster(session, caller=admin, roster_id=roster.id, expected_version=roster.version,
                         approve=reason is None, reason=reason)  # fmt: skip


def _write(session: Session, unit: _Unit, period: DutyPeriod, shifts: list[dict]) -> DutyRoster:
    session.info["actor"] = unit.caller
    return create_roster(session, caller=unit.caller, period_id=period.id, shifts=shifts, **dict([unit.key]))


def load_demo_rosters(session: Session, *, caller: Caller, seed: int = 11) -> dict[str, int]:
    """The rosters of the demo periods (by name), as described above. Answers the count of rosters."""
    rng = random.Random(seed)
    periods = {p.name: p for p in session.scalars(select(DutyPeriod).where(DutyPeriod.cancelled_at.is_(None)))}
    national_day, spring = periods.get("2026年国庆节"), periods.get("2027年春节")
    units = _units(session, rng)
    count = 0
    if national_day is not None:
        named = _named(session, national_day)
        writing = [u for u in units if u.key in named]
        late = set(rng.sample(range(len(writing)), min(LATE, len(writing))))
        for i, unit in enumerate(writing):
            roster = _write(session, unit, national_day, _shifts(national_day, unit, i))
            before = timedelta(days=rng.randint(1, 5), hours=rng.randint(0, 6))
            submitted = national_day.deadline + (timedelta(hours=rng.randint(14, 60)) if i in late else -before)
            times = [(submitted, submitted + timedelta(hours=20))]
            roster = submit_roster(session, caller=unit.caller, roster_id=roster.id, expected_version=roster.version)
            if i == 1:  # returned once: completed, submitted again, approved (two revisions)
                roster = _decide(session, caller, roster, reason=RETURN_REASON)
                session.info["actor"] = unit.caller
                roster = update_roster(session, caller=unit.caller, roster_id=roster.id,
                                       expected_version=roster.version, notes=COMPLETED)  # fmt: skip
                times.append((times[0][1] + timedelta(hours=3), times[0][1] + timedelta(hours=5)))
            _decide(session, caller, roster)
            _backdate(session, roster.id, national_day.deadline, times)
            count += 1
    if spring is not None:
        named = _named(session, spring)
        writing = [u for u in units if u.key in named]
        for i, unit in enumerate(writing):
            if i % 7 == 5:
                continue  # not started: on the period's list of units not submitted
            shifts = _shifts(spring, unit, i)
            if i == 2:  # a gap: the third day's shift ends at 20:00, and nobody holds the night
                shifts[2]["ends_at"] = shifts[2]["starts_at"] + timedelta(hours=11, minutes=30)
            if i == 3:  # a double-booking: New Year's Eve's reinforcement (18:00 to 23:00) names the day's officer
                eve, extra = shifts[0], shifts[0]["starts_at"] + timedelta(hours=9, minutes=30)
                leader = next(p for p in unit.leaders if p is not eve["leader"])
                shifts.append({"starts_at": extra, "ends_at": extra + timedelta(hours=5), "leader": leader,
                               "officers": eve["officers"][:1], "phone": unit.line, "notes": EVE})  # fmt: skip
            roster = _write(session, unit, spring, shifts)
            count += 1
            if i % 4 != 1:  # one in four stays a draft
                submit_roster(session, caller=unit.caller, roster_id=roster.id, expected_version=roster.version)
    session.info["actor"] = caller
    return {"duty_rosters": count}


def _named(session: Session, period: DutyPeriod) -> set[tuple[str, int]]:
    rows = session.execute(
        select(DutyPeriodUnit.township_id, DutyPeriodUnit.department_id).where(DutyPeriodUnit.period_id == period.id)
    )
    return {("township_id", t) if t is not None else ("department_id", d) for t, d in rows}
