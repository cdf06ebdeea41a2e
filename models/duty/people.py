"""The people on a roster's shifts: who they are, whether they belong to the unit, the phone they answer.

A person is an officer (`officer_id`; an account linked to an officer is that officer) or an account without one
(`user_id`: a township's leaders, a department's staff). A township's roster names its officers and the accounts of
that township; a department's roster the accounts of that department. Their phone during a shift is the one given
for them on the shift, else the officer's mobile; an account without an officer has no phone of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.accounts.model import User
from models.errors import RuleViolation
from models.people.model import Officer
from models.roles import Caller


@dataclass(frozen=True)
class Person:
    officer_id: int | None
    user_id: int | None
    name: str
    own_phone: str | None  # an officer's mobile
    active: bool
    township_id: int | None
    department_id: int | None

    @property
    def key(self) -> str:
        """One person, whichever way they were named: "officer:12" or "user:40"."""
        return f"officer:{self.officer_id}" if self.officer_id is not None else f"user:{self.user_id}"


def load_people(session: Session, *, caller: Caller, refs: list[dict[str, Any]]) -> dict[tuple[str, int], Person]:
    """The people these references name ({"officer_id": 12} or {"user_id": 40}), by ("officer", 12) / ("user", 40);
    the ones that do not exist are left out. Read whatever the caller's scope: `member` then keeps the unit's."""
    officer_ids = {r["officer_id"] for r in refs if r.get("officer_id") is not None}
    user_ids = {r["user_id"] for r in refs if r.get("user_id") is not None}
    users = session.execute(
        select(User.id, User.display_name, User.officer_id, User.township_id, User.department_id, User.deactivated_at)
        .where(User.id.in_(user_ids))
    ).all() if user_ids else []  # fmt: skip
    officer_ids |= {u.officer_id for u in users if u.officer_id is not None}
    officers = {
        o.id: Person(o.id, None, o.name, o.mobile, o.deactivated_at is None, o.township_id, None)
        for o in session.execute(
            select(Officer.id, Officer.name, Officer.mobile, Officer.township_id, Officer.deactivated_at)
            .where(Officer.id.in_(officer_ids))
        ).all()
    } if officer_ids else {}  # fmt: skip
    found: dict[tuple[str, int], Person] = {("officer", i): p for i, p in officers.items()}
    for u in users:
        linked = officers.get(u.officer_id) if u.officer_id is not None else None
        found[("user", u.id)] = linked or Person(
            None, u.id, u.display_name, None, u.deactivated_at is None, u.township_id, u.department_id
        )
    return found


def ref_key(ref: dict[str, Any]) -> tuple[str, int]:
    return ("officer", ref["officer_id"]) if ref.get("officer_id") is not None else ("user", ref["user_id"])


def member(
    people: dict[tuple[str, int], Person], ref: dict[str, Any], *, township_id: int | None,
    department_id: int | None, pointer: str,
) -> Person:  # fmt: skip
    """The person a reference names, checked to be an active member of the unit (422 otherwise; a person of another
    unit is answered like one who does not exist)."""
    kind, ident = ref_key(ref)
    person = people.get((kind, ident))
    unit = "township" if township_id is not None else "department"
    in_unit = person is not None and (
        person.township_id == township_id if township_id is not None else person.department_id == department_id
    )
    if person is None or not in_unit:
        raise RuleViolation(f"there is no {kind} with id {ident} in this {unit}", code="person-not-in-unit",
                            pointer=pointer)  # fmt: skip
    if not person.active:
        raise RuleViolation(f"{person.name} ({kind} {ident}) is deactivated", code="person-inactive", pointer=pointer)
    return person


def person_answer(person: Person, phone: str | None) -> dict[str, Any]:
    return {"officer_id": person.officer_id, "user_id": person.user_id, "name": person.name,
            "phone": phone or person.own_phone}  # fmt: skip
