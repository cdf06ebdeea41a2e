"""The signed steps of a hazard's life (`models.hazards.rules` says who and when): the five implementations, the
steps between states, and the signing every step shares. Each public function is one transaction; every step is kept
as a `HazardStep`, and the hazard's own changes go to the audit trail as any register's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import locks
from models.accounts.model import User
from models.base import check_version, commit_guarded, county_today, county_zone, utcnow, write_transaction
from models.errors import RuleViolation
from models.hazards.model import (
    FIVE_IMPLEMENTATIONS,
    IN_PLACE,
    TRANSITIONS,
    Action,
    Hazard,
    HazardStep,
    Severity,
    Status,
)
from models.hazards.photos import attach_photos
from models.hazards.queries import get_hazard
from models.hazards.rules import check_allowed, check_signer, missing_implementations
from models.roles import Caller


def signer_of(session: Session, *, caller: Caller) -> dict[str, Any]:
    """Who signs: the user, by name as it reads at this moment, and their role."""
    name = caller.username
    if caller.user_id is not None:
        name = session.scalar(select(User.display_name).where(User.id == caller.user_id)) or name
    return {"signer_user_id": caller.user_id, "signer": name, "signer_role": caller.role.value}


def sign_step(
    session: Session,
    *,
    caller: Caller,
    hazard: Hazard,
    action: Action,
    from_status: str | None,
    at: datetime,
    comment: str | None,
    details: dict[str, Any],
    photo_ids: list[int] | None = None,
    signer: dict[str, Any] | None = None,
) -> HazardStep:
    """Keep a signed step of the hazard (its state as it now is), resting on these of its photos; `signer`: the
    caller's `signer_of`, when the write has read it already."""
    step = HazardStep(
        hazard_id=hazard.id,
        action=action.value,
        from_status=from_status,
        to_status=hazard.status,
        signed_at=at,
        comment=comment,
        details={k: (v.isoformat() if isinstance(v, date) else v) for k, v in details.items() if v is not None}
        | ({"photo_ids": sorted(set(photo_ids))} if photo_ids else {}),
        **(signer or signer_of(session, caller=caller)),
    )
    session.add(step)
    if photo_ids:
        session.flush()
        attach_photos(session, caller=caller, hazard_id=hazard.id, step_id=step.id, photo_ids=photo_ids)
    return step


def check_deadline(value: date, pointer: str) -> None:
    """A deadline lies today or later, in the county (422 otherwise)."""
    if value < county_today():
        raise RuleViolation("a deadline lies ahead, not in the past", code="deadline-in-past", pointer=pointer)


def begin_step(
    session: Session, *, caller: Caller, hazard_id: int, expected_version: int | None, action: Action
) -> Hazard:
    """Start the transaction of a step: the hazard's lock, the hazard in the caller's scope, its version, whether its
    state allows the step and whether the caller may sign it."""
    write_transaction(session, locks.hazard(hazard_id))
    hazard = get_hazard(session, caller=caller, hazard_id=hazard_id)
    check_version(hazard, expected_version)
    check_allowed(hazard, action)
    check_signer(caller, hazard, action)
    return hazard


def plan_hazard(
    session: Session,
    *,
    caller: Caller,
    hazard_id: int,
    expected_version: int | None,
    plan: dict[str, Any],
    comment: str | None = None,
) -> Hazard:
    """Set the five implementations (五落实) of a hazard, all at once: the parts not given are cleared."""
    hazard = begin_step(
        session, caller=caller, hazard_id=hazard_id, expected_version=expected_version, action=Action.PLAN
    )
    if plan.get("deadline") is not None:
        check_deadline(plan["deadline"], "/deadline")
    stored = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in plan.items() if k in FIVE_IMPLEMENTATIONS}
    stored = {k: v for k, v in stored.items() if v not in (None, "")}
    now = utcnow()
    if stored != hazard.five_implementations:
        hazard.five_implementations = stored
        hazard.updated_at = now
    details = {**stored, "missing": missing_implementations(stored)}
    sign_step(session, caller=caller, hazard=hazard, action=Action.PLAN, from_status=hazard.status, at=now,
              comment=comment, details=details)  # fmt: skip
    commit_guarded(session)
    return hazard


def take_step(
    session: Session,
    *,
    caller: Caller,
    hazard_id: int,
    action: Action,
    expected_version: int | None,
    comment: str | None = None,
    deadline: date | None = None,
    responsible_person: str | None = None,
    rectifier: str | None = None,
    photo_ids: list[int] | None = None,
) -> Hazard:
    """Take one step of the hazard's life (see `models.hazards.rules`), signed by the caller:

    - start_rectification: `deadline` and `responsible_person`; a major hazard only with its five implementations;
    - rectify_on_the_spot, rectified: `rectifier` (the person who did the work) and `comment`; on the spot, with at
      least one photo (`photo_ids`: photos of the hazard uploaded before, that no other step rests on);
    - accept: `comment`; reject: `comment` (the reason) and `deadline` (the re-check deadline, 复查);
    - void: `comment` (the reason).
    """
    if action in IN_PLACE or action is Action.REPORT:
        raise ValueError(f"{action} is not a step between states")
    hazard = begin_step(session, caller=caller, hazard_id=hazard_id, expected_version=expected_version, action=action)
    if action is Action.RECTIFY_ON_THE_SPOT and not photo_ids:
        raise RuleViolation(
            "a rectification on the spot is signed with a photo: upload it (POST .../photos), name it in photo_ids",
            code="photo-required",
            pointer="/photo_ids",
        )
    details: dict[str, Any] = {}
    if action is Action.START_RECTIFICATION:
        if hazard.severity == Severity.MAJOR:
            missing = missing_implementations(hazard.five_implementations)
            if missing:
                raise RuleViolation(
                    "a major hazard starts rectification only with its five implementations complete (PUT its "
                    f"five-implementations); missing: {', '.join(missing)}",
                    code="five-implementations-incomplete",
                    missing=missing,
                )
        check_deadline(deadline, "/deadline")  # type: ignore[arg-type]
        hazard.deadline, hazard.responsible_person = deadline, responsible_person
        details = {"deadline": deadline, "responsible_person": responsible_person}
    elif action is Action.REJECT:
        check_deadline(deadline, "/deadline")  # type: ignore[arg-type]
        hazard.deadline, hazard.extension_deadline = deadline, None
        details = {"deadline": deadline}
    now = utcnow()
    if action in (Action.RECTIFY_ON_THE_SPOT, Action.RECTIFIED):
        hazard.rectified_by_user_id, hazard.rectified_at = caller.user_id, now
        hazard.extension_deadline = None  # a pending extension request is moot
        details = {"rectifier": rectifier}
    elif action is Action.ACCEPT:
        hazard.closed_at = now
        if hazard.listed_level is not None and hazard.listing_lifted_at is None:
            hazard.listing_lifted_at = now  # listed supervision is lifted with the close-out
        hazard.closed_on_time = hazard.deadline is None or now.astimezone(county_zone()).date() <= hazard.deadline
    elif action is Action.VOID:
        hazard.voided_at = now
        hazard.extension_deadline = None
    before = hazard.status
    hazard.status = TRANSITIONS[Status(before)][action].value
    hazard.updated_at = now
    sign_step(session, caller=caller, hazard=hazard, action=action, from_status=before, at=now, comment=comment,
              details=details, photo_ids=photo_ids)  # fmt: skip
    commit_guarded(session)
    return hazard
