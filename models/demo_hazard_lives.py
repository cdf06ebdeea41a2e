"""The lives of the demo hazards: each a walk of `TRANSITIONS` taken step by step as `models.hazards.service` takes
them, checked by `models.hazards.rules` as it goes, and signed in working hours by the demo accounts in whose scope
the hazard lies. No step is taken after `now` (the start of the day of loading): where a life reaches it, the
hazard stays open."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

from models import demo_hazard_texts as texts
from models.base import county_zone
from models.enterprises.places import Place
from models.hazards.model import TRANSITIONS, Action, Hazard, Severity, Source, Status
from models.hazards.rules import check_signer, missing_implementations, next_actions
from models.roles import Caller, Role

_NO_COLUMNS = {column.key: None for column in Hazard.__table__.columns}  # a hazard row before anything is set
WORKING_HOURS = (8, 19)  # in the county: a step signed outside them is signed the next working morning instead
PARTIAL = ("responsible_person", "responsible_unit", "measures")  # a plan without funds, deadline, contingency plan


def day(at: datetime) -> date:
    """The county's day at an instant."""
    return at.astimezone(county_zone()).date()


def hours(low: float, high: float, rng: random.Random) -> timedelta:
    return timedelta(seconds=round(rng.uniform(low, high) * 3600))


def working(at: datetime) -> datetime:
    """`at`, or if it falls outside working hours in the county, a time of the next working day (spread over it)."""
    local = at.astimezone(county_zone())
    start, end = WORKING_HOURS
    if start <= local.hour < end:
        return at
    next_day = local.date() + timedelta(days=1 if local.hour >= end else 0)
    clock = time(start + (local.hour + local.minute) % (end - start), local.minute, local.second)
    return datetime.combine(next_day, clock, county_zone()).astimezone(at.tzinfo)


@dataclass(frozen=True)
class Signer:
    caller: Caller
    name: str  # the display name, as signed

    def stamp(self) -> dict[str, Any]:
        return {"signer_user_id": self.caller.user_id, "signer": self.name, "signer_role": self.caller.role.value}


def pick(rng: random.Random, signers: dict[str, Signer], weights: dict[str, float]) -> Signer:
    """One of `signers` (by account: admin, leader, officer, dept), as often as `weights` say."""
    keys = [k for k in weights if k in signers]
    return signers[rng.choices(keys, [weights[k] for k in keys])[0]]


class Life:
    """A hazard's signed steps as the service takes them, in time order, and the row they leave; none after `now`."""

    def __init__(
        self, now: datetime, severity: str, reporter: Signer, at: datetime, found_at: datetime, comment: str
    ) -> None:
        self.now, self.severity, self.at = now, severity, at
        self.status = Status.REPORTED
        self.row: dict[str, Any] = {
            "deadline": None,
            "responsible_person": None,
            "five_implementations": {},
            "rectified_by_user_id": None,
            "rectified_at": None,
            "closed_at": None,
            "closed_on_time": None,
            "voided_at": None,
            "created_at": at,
            "updated_at": at,
        }
        self.version = 1
        self.over = False  # a step fell after now: the life stops there
        self.steps: list[dict[str, Any]] = []
        self._keep(Action.REPORT, None, reporter, comment, {"severity": severity, "found_at": found_at.isoformat()})

    def take(self, action: Action, signer: Signer, after: timedelta, comment: str | None, **details: Any) -> bool:
        """Take the step `after` the last one (in working hours), as the rules allow; False (and no later step) once
        it would lie after now."""
        at = working(self.at + after)
        if self.over or at > self.now:
            self.over = True
            return False
        hazard = {**_NO_COLUMNS, **self.row, "status": self.status.value, "severity": self.severity}
        assert action.value in next_actions(hazard), action
        check_signer(signer.caller, SimpleNamespace(**hazard), action)  # type: ignore[arg-type]
        before, self.at, row = self.status, at, self.row
        if action is Action.PLAN:
            stored = {k: v for k, v in details.items() if v not in (None, "")}
            if stored != row["five_implementations"]:
                row["five_implementations"], row["updated_at"] = stored, at
                self.version += 1
            details = {**stored, "missing": missing_implementations(stored)}
        else:
            if action is Action.START_RECTIFICATION:
                assert self.severity == Severity.GENERAL or not missing_implementations(row["five_implementations"])
                row["responsible_person"] = details["responsible_person"]
            if action in (Action.START_RECTIFICATION, Action.REJECT):
                assert details["deadline"] >= day(at), "a deadline is today or later"
                row["deadline"] = details["deadline"]
            if action in (Action.RECTIFY_ON_THE_SPOT, Action.RECTIFIED):
                row["rectified_by_user_id"], row["rectified_at"] = signer.caller.user_id, at
            elif action is Action.ACCEPT:
                row["closed_at"] = at
                row["closed_on_time"] = row["deadline"] is None or day(at) <= row["deadline"]
            elif action is Action.VOID:
                row["voided_at"] = at
            self.status = TRANSITIONS[before][action]
            row["updated_at"] = at
            self.version += 1
        self._keep(action, before, signer, comment, details)
        return True

    def _keep(self, action: Action, before: Status | None, signer: Signer, comment: str | None, details: dict) -> None:
        self.steps.append(
            {
                "action": action.value,
                "from_status": before.value if before else None,
                "to_status": self.status.value,
                "signed_at": self.at,
                "comment": comment,
                "details": {
                    k: (v.isoformat() if isinstance(v, date) else v) for k, v in details.items() if v is not None
                },
                **signer.stamp(),
            }
        )


@dataclass
class Draft:
    """A hazard before it is written: where, what, and its life."""

    lon: float
    lat: float
    found_at: datetime
    enterprise: Any | None = None  # a row of the enterprises it is drawn from
    sector: str | None = None
    place_description: str | None = None
    description: str = ""
    kind: str = ""
    severity: str = Severity.GENERAL.value
    source: str = ""
    place: Place = field(default_factory=Place)
    department_ids: list[int] = field(default_factory=list)
    life: Life | None = None


def person(rng: random.Random, title: str) -> str:
    return rng.choice(texts.SURNAMES) + rng.choice(texts.GIVEN) + title


def five_implementations(draft: Draft, rng: random.Random, deadline: date) -> dict[str, Any]:
    """The complete plan of a major hazard at an enterprise."""
    enterprise = draft.enterprise
    return {
        "responsible_person": f"{enterprise.legal_representative or person(rng, '')}（主要负责人）",
        "responsible_unit": enterprise.name,
        "measures": texts.MAJOR[draft.sector or "other"][1],
        "funds_yuan": float(rng.randrange(200, 8000) * 100),
        "deadline": deadline.isoformat(),
        "contingency_plan": rng.choice(texts.CONTINGENCY_PLANS),
    }


def live(who: dict[str, Signer], draft: Draft, rng: random.Random, now: datetime, *, on_the_spot: bool) -> None:
    """The hazard's steps up to now, signed by `who` (the accounts in whose scope it lies): reported by whoever the
    source says, then started (a major hazard after its five implementations), rectified (now and then late, a few
    never, many general ones on the spot unless `on_the_spot` is false), accepted (sometimes after a re-check) or
    voided; the acceptor never the rectifier, a major hazard accepted by the county or the department."""
    reporter, draft.source = _reporter(who, draft, rng)
    delay = hours(0.1, 0.5, rng) if reporter.caller.role is Role.GRID_OFFICER else hours(0.5, 8, rng)
    comment = rng.choice(texts.REPORT_COMMENTS[draft.source])
    life = draft.life = Life(now, draft.severity, reporter, working(draft.found_at + delay), draft.found_at, comment)
    if len(who) < 2:  # nobody but the administrator, who may not accept what they rectify: left as reported
        return
    major = draft.severity == Severity.MAJOR
    decider = pick(rng, who, {"leader": 5, "dept": 5, "admin": 1})
    voider = who.get("leader", who["admin"])
    acceptor = pick(rng, who, {"dept": 4, "admin": 1} if major else {"leader": 6, "dept": 5, "admin": 1, "officer": 1})
    others = {k: s for k, s in who.items() if s != acceptor}
    rectifier = reporter if reporter != acceptor and rng.random() < 0.5 else pick(rng, others, _RECTIFIERS)
    worker = person(rng, rng.choice(texts.WORKERS))
    fate = rng.random()
    if fate < 0.02:  # recorded in error
        life.take(Action.VOID, voider, hours(2, 72, rng), rng.choice(texts.VOID_COMMENTS))
        return
    if not major and fate < 0.3 and on_the_spot:  # put right at once (立即整改)
        comment = rng.choice(texts.ON_THE_SPOT_COMMENTS)
        life.take(Action.RECTIFY_ON_THE_SPOT, rectifier, hours(0.05, 0.6, rng), comment, rectifier=worker)
    else:
        wait = hours(2, 40, rng) if rng.random() < 0.8 else hours(3 * 24, 30 * 24, rng)
        responsible = (draft.enterprise.legal_representative if draft.enterprise else None) or person(rng, "村主任")
        if major:
            days = rng.choice((30, 45, 60, 90))
            plan = five_implementations(draft, rng, day(working(life.at + wait)) + timedelta(days=days))
            if rng.random() < 0.3:  # first incomplete, completed days later
                partial = {k: plan[k] for k in PARTIAL}
                life.take(Action.PLAN, decider, wait, "方案待补充资金、时限和应急预案", **partial)
                wait = hours(2 * 24, 10 * 24, rng)
            life.take(Action.PLAN, decider, wait, rng.choice(texts.PLAN_COMMENTS), **plan)
            wait, deadline = hours(2, 48, rng), date.fromisoformat(plan["deadline"])
            responsible = plan["responsible_person"]
        else:
            deadline = day(working(life.at + wait)) + timedelta(days=rng.choice((3, 7, 7, 10, 15, 15, 30)))
        comment = rng.choice(texts.START_COMMENTS)
        life.take(Action.START_RECTIFICATION, decider, wait, comment, deadline=deadline, responsible_person=responsible)
        if fate < 0.027:  # found to be recorded in error while being rectified
            life.take(Action.VOID, voider, hours(24, 10 * 24, rng), rng.choice(texts.VOID_COMMENTS))
            return
        span = (deadline - day(life.at)).days * 24 + 8  # hours to the deadline's working day
        late = rng.random()
        share = rng.uniform(0.2, 0.95) if late < 0.83 else rng.uniform(1.1, 2.5) if late < 0.98 else 12  # 12: stalled
        comment = rng.choice(texts.RECTIFIED_COMMENTS)
        life.take(Action.RECTIFIED, rectifier, hours(span * share * 0.9, span * share, rng), comment, rectifier=worker)
    if rng.random() < (0.15 if major else 0.07):  # not accepted: a re-check (复查) with a new deadline
        wait = hours(12, 5 * 24, rng)
        recheck = day(working(life.at + wait)) + timedelta(days=rng.choice((5, 7, 10)))
        life.take(Action.REJECT, acceptor, wait, rng.choice(texts.REJECT_COMMENTS), deadline=recheck)
        comment = rng.choice(texts.RECTIFIED_COMMENTS)
        life.take(Action.RECTIFIED, rectifier, hours(24, 6 * 24, rng), comment, rectifier=worker)
    life.take(Action.ACCEPT, acceptor, hours(6, 8 * 24, rng), rng.choice(texts.ACCEPT_COMMENTS))


_RECTIFIERS = {"officer": 5, "leader": 3, "dept": 3, "admin": 1}
_SOURCES = {  # how each account's hazards are found, and how often
    "officer": ((Source.PATROL, 9), (Source.TIP_OFF, 1)),
    "leader": ((Source.PATROL, 4), (Source.SELF_CHECK, 3), (Source.TIP_OFF, 2), (Source.GOVERNMENT_INSPECTION, 1)),
    "dept": ((Source.GOVERNMENT_INSPECTION, 6), (Source.THIRD_PARTY, 2), (Source.SELF_CHECK, 2)),
    "admin": ((Source.GOVERNMENT_INSPECTION, 8), (Source.TIP_OFF, 2)),
}


def _reporter(who: dict[str, Signer], draft: Draft, rng: random.Random) -> tuple[Signer, str]:
    """Who reported it, and how it was found: officers on patrol, the department inspecting, the county's checks, a
    leader's patrols, tip-offs and the enterprises' own checks."""
    key = rng.choices(list(who), [{"admin": 1, "leader": 2, "officer": 4, "dept": 3}[k] for k in who])[0]
    source = rng.choices([s for s, _ in _SOURCES[key]], [w for _, w in _SOURCES[key]])[0]
    if source is Source.SELF_CHECK and draft.enterprise is None:
        source = Source.TIP_OFF  # nobody checks themselves by a roadside
    return who[key], source.value
