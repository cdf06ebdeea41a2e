"""Duty as iCalendar (RFC 5545), so that a duty sits in a phone's calendar: a roster's shifts, or one person's.

Each shift is one event with a stable UID: its roster, its start and end (UTC) and, for shifts of the same times,
its rank among them; a person's event is keyed by its roster, its start and the person. A shift changed (its people,
phones, notes; in a person's calendar its end too) keeps its UID and the event's SEQUENCE rises (the roster's
revision), so a calendar importing the file again updates it; a shift moved to other times is a new event; a shift
that an earlier revision held and the roster no longer does is still in the file, with STATUS:CANCELLED, so the
calendar removes it; a cancelled period cancels all of its events. Times are UTC (phones show them in their own
zone). A roster never submitted answers its draft as TENTATIVE events.

A person's calendar holds the shifts of the rosters submitted at least once of the periods that ended less than
HORIZON ago or end later: the caller's own shifts (whatever the roster's scope), or another person's in the rosters
the caller reads. Never commits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.accounts.model import User
from models.base import utcnow
from models.duty.model import DutyPeriod, DutyRoster, DutyRosterRevision
from models.duty.roster_reads import ROSTER_SELECT, public_shift, roster_row, shifts_of
from models.roles import Caller
from models.scope import scope_clauses

PRODID = "-//Grid patrol//24-hour duty 24小时值班//ZH"
HORIZON = timedelta(days=60)  # a person's calendar: the periods ended less than this ago, and those to come
ROLE = {"leader": "带班领导", "officer": "值班员"}
Person = tuple[str, int]  # ("officer", 12) or ("user", 40)


def _utc(moment: datetime | str) -> datetime:
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value.astimezone(UTC)


def _stamp(moment: datetime | str) -> str:
    return _utc(moment).strftime("%Y%m%dT%H%M%SZ")


def _keyed(shifts: list[dict[str, Any]], *, with_end: bool) -> dict[str, dict[str, Any]]:
    """The shifts by a key that lasts across revisions: their start (UTC) and, `with_end`, their end; "-n" for the
    n-th other shift of the same key (in the roster's order)."""
    keyed, seen = {}, Counter[str]()
    for shift in sorted(shifts, key=lambda s: (_utc(s["starts_at"]), _utc(s["ends_at"]))):
        key = _stamp(shift["starts_at"]) + (f"-{_stamp(shift['ends_at'])}" if with_end else "")
        keyed[key if not seen[key] else f"{key}-{seen[key]}"] = shift
        seen[key] += 1
    return keyed


def _people(shift: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    on = [("leader", shift["leader"])] if shift.get("leader") else []
    return on + [("officer", p) for p in shift.get("officers") or []]


def _is(person: Person, who: dict[str, Any]) -> bool:
    return who.get(f"{person[0]}_id") == person[1]


def _on(person: Person, shift: dict[str, Any]) -> bool:
    return any(_is(person, who) for _, who in _people(shift))


def _line(who: dict[str, Any]) -> str:
    return f"{who['name']} {who['phone']}" if who.get("phone") else who["name"]


def _event(uid: str, shift: dict[str, Any], *, summary: str, unit: str, period: DutyPeriod, status: str,
           sequence: int, stamp: datetime) -> Event:  # fmt: skip
    lines = [f"{ROLE[role]}：{_line(who)}" for role, who in _people(shift)]
    if shift.get("phone"):
        lines.append(f"值班电话：{shift['phone']}")
    lines.append(f"值班时段：{period.name}")
    if period.desk_phone:
        lines.append(f"县安委会办公室值班电话：{period.desk_phone}")
    if shift.get("notes"):
        lines.append(f"备注：{shift['notes']}")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", _utc(stamp))
    event.add("last-modified", _utc(stamp))
    event.add("dtstart", _utc(shift["starts_at"]))
    event.add("dtend", _utc(shift["ends_at"]))
    event.add("summary", summary if status != "CANCELLED" else f"已取消：{summary}")
    event.add("location", unit)
    event.add("description", "\n".join(lines))
    event.add("categories", ["值班"])
    event.add("status", status)
    event.add("sequence", sequence)
    event.add("transp", "OPAQUE")
    return event


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    return calendar


def _revision_shifts(session: Session, roster_ids: list[int]) -> dict[int, list[list[dict[str, Any]]]]:
    """Every revision's shifts of these rosters, the oldest first."""
    found: dict[int, list[list[dict[str, Any]]]] = defaultdict(list)
    if roster_ids:
        for roster_id, shifts in session.execute(
            select(DutyRosterRevision.roster_id, DutyRosterRevision.shifts)
            .where(DutyRosterRevision.roster_id.in_(roster_ids))
            .order_by(DutyRosterRevision.roster_id, DutyRosterRevision.number)
        ):  # fmt: skip
            found[roster_id].append(shifts)
    return found


def _state(period: DutyPeriod, revision: int, updated_at: datetime) -> tuple[str, int, datetime]:
    """The status of the roster's standing events, their SEQUENCE and DTSTAMP."""
    if period.cancelled_at is not None:
        return "CANCELLED", revision + 1, max(_utc(updated_at), _utc(period.cancelled_at))
    return ("CONFIRMED" if revision > 0 else "TENTATIVE"), revision, updated_at


def roster_calendar(session: Session, *, caller: Caller, roster_id: int) -> tuple[bytes, str]:
    """The roster's shifts as iCalendar (404 out of scope), and a name for the file."""
    roster = roster_row(session, caller=caller, roster_id=roster_id)
    period = session.get(DutyPeriod, roster["period_id"])
    assert period is not None
    unit = roster["unit"]["name"]
    status, sequence, stamp = _state(period, roster["revision"], roster["updated_at"])
    calendar = _calendar(f"{unit} {period.name} 值班表")
    current = _keyed(roster["shifts"], with_end=True)
    gone: dict[str, dict[str, Any]] = {}
    for shifts in _revision_shifts(session, [roster_id])[roster_id]:
        gone |= {k: s for k, s in _keyed(shifts, with_end=True).items() if k not in current}
    for key, shift in sorted(current.items()) + sorted(gone.items()):
        calendar.add_component(_event(
            f"duty-roster{roster_id}-{key}@gridpatrol", shift, summary=f"{unit} 值班", unit=unit, period=period,
            status=status if key in current else "CANCELLED", sequence=sequence, stamp=stamp))  # fmt: skip
    return calendar.to_ical(), f"duty-roster-{roster_id}.ics"


def _person_of(session: Session, caller: Caller, officer_id: int | None, user_id: int | None) -> Person:
    """The person asked for (the caller by default); an account linked to an officer is that officer."""
    if officer_id is not None:
        return ("officer", officer_id)
    if user_id is None:
        return ("officer", caller.officer_id) if caller.officer_id is not None else ("user", caller.user_id or 0)
    linked = session.scalar(select(User.officer_id).where(User.id == user_id))
    return ("officer", linked) if linked is not None else ("user", user_id)


def person_calendar(
    session: Session, *, caller: Caller, officer_id: int | None = None, user_id: int | None = None,
    now: datetime | None = None,
) -> tuple[bytes, str]:  # fmt: skip
    """One person's shifts as iCalendar: the caller's own by default (see the module), and a name for the file."""
    person = _person_of(session, caller, officer_id, user_id)
    own = person == _person_of(session, caller, None, None)
    clauses = [DutyRoster.revision > 0, DutyPeriod.ends_at > (now or utcnow()) - HORIZON]
    if not own:
        clauses += scope_clauses(caller, DutyRoster)
    rosters = {r.id: r for r in session.execute(
        ROSTER_SELECT.add_columns(DutyPeriod.name.label("period_name"))
        .join(DutyPeriod, DutyPeriod.id == DutyRoster.period_id).where(*clauses)
    )}  # fmt: skip
    periods = {p.id: p for p in session.scalars(
        select(DutyPeriod).where(DutyPeriod.id.in_({r.period_id for r in rosters.values()})))}  # fmt: skip
    current = shifts_of(session, caller=caller, roster_ids=list(rosters))
    past = _revision_shifts(session, list(rosters))
    events, name = [], None
    for roster_id, roster in sorted(rosters.items()):
        period = periods[roster.period_id]
        status, sequence, stamp = _state(period, roster.revision, roster.updated_at)
        held = _keyed([public_shift(s) for s in current.get(roster_id, []) if _on(person, s)], with_end=False)
        gone: dict[str, dict[str, Any]] = {}
        for shifts in past.get(roster_id, []):
            gone |= {k: s for k, s in _keyed([s for s in shifts if _on(person, s)], with_end=False).items()
                     if k not in held}  # fmt: skip
        for key, shift in sorted(held.items()) + sorted(gone.items()):
            role, who = next((r, w) for r, w in _people(shift) if _is(person, w))
            name = name or who["name"]
            uid = f"duty-roster{roster_id}-{key}-{person[0]}{person[1]}@gridpatrol"
            events.append(_event(uid, shift, summary=f"值班（{ROLE[role]}）· {roster.unit_name}", unit=roster.unit_name,
                                 period=period, status=status if key in held else "CANCELLED", sequence=sequence,
                                 stamp=stamp))  # fmt: skip
    calendar = _calendar(f"{name or '我'}的值班")
    for event in sorted(events, key=lambda e: (e.decoded("dtstart"), str(e["uid"]))):
        calendar.add_component(event)
    return calendar.to_ical(), f"duty-{person[0]}-{person[1]}.ics"
