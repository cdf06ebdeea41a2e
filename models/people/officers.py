"""Writing officers: register, change, deactivate. Each public function is one transaction.

An officer who leaves (deactivation) or moves township takes along what higher domains hang on them: the guards
`officer_leaving` and `officer_moving` (see `models.people.guards`) run inside the same write, under their locks.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import locks
from models.base import UNSET, check_version, commit_guarded, utcnow, write_transaction
from models.errors import Conflict, RuleViolation
from models.people.guards import officer_leaving, officer_moving
from models.people.model import GridAssignment, Officer
from models.people.queries import get_officer
from models.people.service import record_end
from models.roles import Caller
from models.scope import existing_id_if_visible, scope_clauses
from models.territory.model import Township


def _township_in_scope(session: Session, *, caller: Caller, township_id: int | None) -> Township:
    township = session.scalar(select(Township).where(Township.id == township_id, *scope_clauses(caller, Township)))
    if township is None:
        raise RuleViolation(
            f"there is no township with id {township_id}", code="township-not-found", pointer="/township_id"
        )
    if township.retired_at is not None:
        raise RuleViolation(f"township {township.code} is retired", code="township-retired", pointer="/township_id")
    return township


def _refuse_taken_mobile(session: Session, *, caller: Caller, mobile: str, officer_id: int | None) -> None:
    existing = session.scalar(
        select(Officer.id).where(
            Officer.mobile == mobile, Officer.deactivated_at.is_(None), Officer.id != (officer_id or 0)
        )
    )
    if existing is not None:
        raise Conflict(
            f"an active officer already has the mobile number {mobile}",
            code="mobile-taken",
            **existing_id_if_visible(session, caller=caller, model=Officer, record_id=existing),
        )


def create_officer(
    session: Session,
    *,
    caller: Caller,
    name: str,
    mobile: str,
    township_id: int | None = None,
    title: str | None = None,
) -> Officer:
    """Register an officer in a township (a township leader: in their own, which is the default)."""
    if township_id is None:
        township_id = caller.township_id
    if township_id is None:
        raise RuleViolation("give the officer's township_id", code="township-required", pointer="/township_id")
    write_transaction(session, locks.mobile(mobile))
    township = _township_in_scope(session, caller=caller, township_id=township_id)
    _refuse_taken_mobile(session, caller=caller, mobile=mobile, officer_id=None)
    now = utcnow()
    officer = Officer(name=name, mobile=mobile, township_id=township.id, title=title, created_at=now, updated_at=now)
    session.add(officer)
    try:
        session.commit()
    except IntegrityError:  # a write outside this code (the lock covers ours) took the number
        session.rollback()
        _refuse_taken_mobile(session, caller=caller, mobile=mobile, officer_id=None)
        raise
    return officer


def update_officer(
    session: Session,
    *,
    caller: Caller,
    officer_id: int,
    expected_version: int | None,
    name: str | None = None,
    mobile: str | None = None,
    title: str | None = UNSET,
    township_id: int | None = None,
) -> Officer:
    """Change an officer's details. Moving them to another township needs county scope and no current cells."""
    moving_locks = officer_moving.locks(officer_id) if township_id is not None else []
    write_transaction(session, *moving_locks, locks.officer(officer_id), *([locks.mobile(mobile)] if mobile else []))
    officer = get_officer(session, caller=caller, officer_id=officer_id)
    check_version(officer, expected_version)
    if not officer.active:
        raise Conflict(f"officer {officer.id} is deactivated and can no longer change", code="officer-inactive")
    if mobile is not None and mobile != officer.mobile:
        _refuse_taken_mobile(session, caller=caller, mobile=mobile, officer_id=officer.id)
        officer.mobile = mobile
    if township_id is not None and township_id != officer.township_id:
        _township_in_scope(session, caller=caller, township_id=township_id)
        if not caller.county_wide:
            raise RuleViolation(
                "only a county administrator moves an officer to another township",
                code="township-change-not-allowed",
                pointer="/township_id",
            )
        if _current_assignments_of(session, officer.id):
            raise Conflict(
                "the officer still has current cells in their township: end those assignments first",
                code="officer-has-cells",
            )
        officer.township_id = township_id
        officer_moving.run(session, caller=caller, officer_id=officer.id, township_id=township_id)
    if name is not None:
        officer.name = name
    if title is not UNSET:
        officer.title = title
    if session.is_modified(officer):
        officer.updated_at = utcnow()
    commit_guarded(session)
    return officer


def deactivate_officer(
    session: Session, *, caller: Caller, officer_id: int, expected_version: int | None, reason: str | None = None
) -> Officer:
    """The officer has left: their current assignments end now, their accounts are deactivated. Nothing is deleted.

    Takes the officer's lock, which every assignment of this officer also takes, so no assignment can slip in
    between reading their current cells and marking them inactive, and the locks of `officer_leaving` (the
    accounts lock, so that no account can be linked to them meanwhile). (No team locks: a concurrent change of one
    of those assignments is caught by its version.)
    """
    write_transaction(session, *officer_leaving.locks(officer_id), locks.officer(officer_id))
    officer = get_officer(session, caller=caller, officer_id=officer_id)
    if not officer.active:
        return officer  # deactivating twice is deactivating once
    check_version(officer, expected_version)
    now = utcnow()
    for assignment in _current_assignments_of(session, officer.id):
        record_end(assignment, caller=caller, at=now, reason=f"officer deactivated: {reason or 'no reason given'}")
    officer.deactivated_at = officer.updated_at = now
    officer_leaving.run(session, caller=caller, officer_id=officer.id)
    commit_guarded(session)
    return officer


def _current_assignments_of(session: Session, officer_id: int) -> list[GridAssignment]:
    return list(
        session.scalars(
            select(GridAssignment).where(
                GridAssignment.officer_id == officer_id,
                GridAssignment.valid_to.is_(None),
                GridAssignment.superseded_at.is_(None),
            )
        )
    )
