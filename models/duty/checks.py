"""The checks of duty rosters, on plain data (no database): gaps in a unit's cover, a person on two shifts at once,
too little rest between a person's stretches of duty, a stretch too long, people inactive or without a phone.

Times are instants (aware datetimes): a shift crossing midnight or a clock change is no special case. A unit is
**covered** at an instant when some shift of its roster holds it with a leader on duty (where the period requires
one) and some shift holds it with a duty officer: a 24-hour leader beside day and overnight officers covers the day.
A **gap** is a longest run of instants of the period not covered, with what is missing there (`leader`,
`officer`); where what is missing changes, a new gap begins. A person's shifts that overlap or touch make one
**stretch** of duty; the **rest** between two stretches is the time between them.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class OnShift:
    """A person on a shift, as the checks see them."""

    key: str  # one person however named: "officer:12", "user:40"
    officer_id: int | None
    user_id: int | None
    name: str
    phone: str | None
    active: bool

    def answer(self) -> dict[str, Any]:
        return {"officer_id": self.officer_id, "user_id": self.user_id, "name": self.name, "phone": self.phone}


@dataclass(frozen=True)
class Shift:
    roster_id: int
    unit: tuple[str, int]  # ("township", 3) / ("department", 1)
    starts_at: datetime
    ends_at: datetime
    leader: OnShift | None
    officers: tuple[OnShift, ...] = field(default=())

    @property
    def people(self) -> tuple[OnShift, ...]:
        return ((self.leader,) if self.leader else ()) + self.officers

    def answer(self) -> dict[str, Any]:
        return {"roster_id": self.roster_id, "unit": {"kind": self.unit[0], "id": self.unit[1]},
                "starts_at": self.starts_at, "ends_at": self.ends_at}  # fmt: skip


def _minutes(span: timedelta) -> float:
    return round(span.total_seconds() / 60, 2)


def gaps(shifts: list[Shift], starts_at: datetime, ends_at: datetime, *, leader_required: bool) -> list[dict]:
    """The gaps in one unit's cover over [starts_at, ends_at): each {from, to, minutes, missing}."""
    events: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])  # instant: [leaders, officers] starting there
    for s in shifts:
        lo, hi = max(s.starts_at, starts_at), min(s.ends_at, ends_at)
        if lo >= hi:
            continue
        if s.leader is not None:
            events[lo][0] += 1
            events[hi][0] -= 1
        if s.officers:
            events[lo][1] += 1
            events[hi][1] -= 1
    found: list[dict] = []
    leaders = officers = 0
    instants = sorted({starts_at, ends_at, *events})
    for here, following in itertools.pairwise(instants):
        if here in events:
            leaders, officers = leaders + events[here][0], officers + events[here][1]
        if here >= ends_at:
            break
        missing = (["leader"] if leader_required and leaders == 0 else []) + (["officer"] if officers == 0 else [])
        if not missing:
            continue
        if found and found[-1]["to"] == here and found[-1]["missing"] == missing:
            found[-1]["to"] = following
        else:
            found.append({"from": here, "to": following, "missing": missing})
    for gap in found:
        gap["minutes"] = _minutes(gap["to"] - gap["from"])
    return found


def _by_person(shifts: list[Shift]) -> dict[str, list[tuple[Shift, OnShift]]]:
    held: dict[str, list[tuple[Shift, OnShift]]] = defaultdict(list)
    for s in shifts:
        for p in s.people:
            held[p.key].append((s, p))
    for duties in held.values():
        duties.sort(key=lambda d: (d[0].starts_at, d[0].ends_at))
    return held


def double_bookings(shifts: list[Shift]) -> list[dict]:
    """Each pair of overlapping shifts one person is on: {person, from, to, minutes, shifts: [a, b]}."""
    found = []
    for duties in _by_person(shifts).values():
        open_: list[tuple[Shift, OnShift]] = []
        for shift, person in duties:
            open_ = [d for d in open_ if d[0].ends_at > shift.starts_at]
            for other, _ in open_:
                lo, hi = shift.starts_at, min(other.ends_at, shift.ends_at)
                found.append({"person": person.answer(), "from": lo, "to": hi, "minutes": _minutes(hi - lo),
                              "shifts": [other.answer(), shift.answer()]})  # fmt: skip
            open_.append((shift, person))
    return sorted(found, key=lambda f: (f["from"], f["person"]["name"]))


def stretches(shifts: list[Shift]) -> dict[str, tuple[OnShift, list[tuple[datetime, datetime]]]]:
    """Each person's stretches of duty (their shifts that overlap or touch, merged), in time order."""
    merged: dict[str, tuple[OnShift, list[tuple[datetime, datetime]]]] = {}
    for key, duties in _by_person(shifts).items():
        runs: list[tuple[datetime, datetime]] = []
        for shift, _ in duties:
            if runs and shift.starts_at <= runs[-1][1]:
                runs[-1] = (runs[-1][0], max(runs[-1][1], shift.ends_at))
            else:
                runs.append((shift.starts_at, shift.ends_at))
        merged[key] = (duties[0][1], runs)
    return merged


def rest_and_length(shifts: list[Shift], *, min_rest: timedelta, max_duty: timedelta) -> list[dict]:
    """Too little rest between two of a person's stretches (`short-rest`), and a stretch longer than `max_duty`
    (`long-duty`)."""
    found = []
    for person, runs in stretches(shifts).values():
        for lo, hi in runs:
            if hi - lo > max_duty:
                found.append({"kind": "long-duty", "person": person.answer(), "from": lo, "to": hi,
                              "hours": round((hi - lo).total_seconds() / 3600, 2)})  # fmt: skip
        for (_, end), (start, _) in itertools.pairwise(runs):
            if start - end < min_rest:
                found.append({"kind": "short-rest", "person": person.answer(), "from": end, "to": start,
                              "hours": round((start - end).total_seconds() / 3600, 2)})  # fmt: skip
    return sorted(found, key=lambda f: (f["from"], f["person"]["name"], f["kind"]))


def people_problems(shifts: list[Shift]) -> list[dict]:
    """A person deactivated since they were rostered (`person-inactive`), or without a phone to be called on
    on a shift (`no-phone`: no phone given for it, and no officer's mobile): once per person, from the first such
    shift, with how many."""
    found = []
    for duties in _by_person(shifts).values():
        first, person = duties[0]
        if not person.active:
            found.append({"kind": "person-inactive", "person": person.answer(), "from": first.starts_at,
                          "shift_count": len(duties)})  # fmt: skip
        if unreachable := [s for s, p in duties if not p.phone]:
            found.append({"kind": "no-phone", "person": person.answer(), "from": unreachable[0].starts_at,
                          "shift_count": len(unreachable)})  # fmt: skip
    return sorted(found, key=lambda f: (f["from"], f["person"]["name"], f["kind"]))
