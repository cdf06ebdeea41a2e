"""The steps beside a hazard's states: referral to a department (移交), interim safety measures (临时性保障措施),
deadline extensions (延期), listed supervision (挂牌督办) and its on-site visits (现场督办). Each is a signed step, kept
with the others; each public function is one transaction (see `models.hazards.rules` for who and when).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from models.base import commit_guarded, county_today, utcnow
from models.departments.model import Department
from models.departments.queries import departments_of_sector
from models.enterprises.model import Enterprise
from models.errors import Forbidden, RuleViolation
from models.hazards.model import Action, Hazard, HazardDepartment, HazardStep, ListingLevel, ReferralStatus
from models.hazards.queries import is_overdue
from models.hazards.service import begin_step, check_deadline, sign_step
from models.roles import Caller, Role


def _finish(session: Session, hazard: Hazard, caller: Caller, action: Action, comment: str | None,
            details: dict[str, Any]) -> Hazard:  # fmt: skip
    now = utcnow()
    hazard.updated_at = now
    sign_step(session, caller=caller, hazard=hazard, action=action, from_status=hazard.status, at=now,
              comment=comment, details=details)  # fmt: skip
    commit_guarded(session)
    return hazard


def _default_department(session: Session, caller: Caller, hazard: Hazard) -> int | None:
    """The department a hazard goes to by default: the first supervising its enterprise, or its sector."""
    if hazard.enterprise_id is not None:
        ids = session.scalar(select(Enterprise.department_ids).where(Enterprise.id == hazard.enterprise_id)) or []
        if ids:
            return min(ids)
    ids = departments_of_sector(session, caller=caller, sector=hazard.sector)
    return ids[0] if ids else None


def refer(
    session: Session,
    *,
    caller: Caller,
    hazard_id: int,
    expected_version: int | None,
    comment: str,
    department_id: int | None = None,
) -> Hazard:
    """A township hands the hazard to a department that can enforce (by default, the one supervising its
    enterprise's sector): its staff see it at once, and accept it or send it back."""
    hazard = begin_step(session, caller=caller, hazard_id=hazard_id, expected_version=expected_version,
                        action=Action.REFER)  # fmt: skip
    chosen = department_id or _default_department(session, caller, hazard)
    active = chosen is not None and session.scalar(
        select(Department.id).where(Department.id == chosen, Department.retired_at.is_(None))
    )
    if not active:
        raise RuleViolation(
            "name the department to refer it to (no active department supervises its sector)"
            if chosen is None
            else f"no active department with id {chosen}",
            code="department-not-found",
            pointer="/department_id",
        )
    if not session.scalar(
        select(HazardDepartment.hazard_id).where(
            HazardDepartment.hazard_id == hazard.id, HazardDepartment.department_id == chosen
        )
    ):
        session.execute(insert(HazardDepartment.__table__), [{"hazard_id": hazard.id, "department_id": chosen}])
    hazard.referred_department_id, hazard.referral_status = chosen, ReferralStatus.PENDING.value
    return _finish(session, hazard, caller, Action.REFER, comment, {"department_id": chosen})


def answer_referral(
    session: Session, *, caller: Caller, hazard_id: int, expected_version: int | None, accept: bool, comment: str
) -> Hazard:
    """The department referred to takes the hazard on, or sends it back (its staff then no longer see it, unless
    their department supervises it anyway)."""
    action = Action.ACCEPT_REFERRAL if accept else Action.RETURN_REFERRAL
    hazard = begin_step(session, caller=caller, hazard_id=hazard_id, expected_version=expected_version, action=action)
    if caller.role is Role.DEPARTMENT_STAFF and caller.department_id != hazard.referred_department_id:
        raise Forbidden("only the department it was referred to answers a referral", code="not-referred-to-you")
    department = hazard.referred_department_id
    hazard.referral_status = (ReferralStatus.ACCEPTED if accept else ReferralStatus.RETURNED).value
    if not accept and department not in (hazard.department_ids or []):
        session.execute(
            delete(HazardDepartment.__table__).where(
                HazardDepartment.hazard_id == hazard.id, HazardDepartment.department_id == department
            )
        )
    return _finish(session, hazard, caller, action, comment, {"department_id": department})


def record_interim_measures(
    session: Session, *, caller: Caller, hazard_id: int, expected_version: int | None, measures: str
) -> Hazard:
    """The interim safety measures in force while the hazard is open (the latest replaces the one before; every one
    stays in the steps)."""
    hazard = begin_step(session, caller=caller, hazard_id=hazard_id, expected_version=expected_version,
                        action=Action.RECORD_INTERIM_MEASURES)  # fmt: skip
    hazard.interim_measures = measures
    return _finish(session, hazard, caller, Action.RECORD_INTERIM_MEASURES, measures, {})


def request_extension(
    session: Session, *, caller: Caller, hazard_id: int, expected_version: int | None, deadline: date, comment: str
) -> Hazard:
    """Ask for a later deadline, with the reason. An overdue hazard first records its interim safety measures."""
    hazard = begin_step(session, caller=caller, hazard_id=hazard_id, expected_version=expected_version,
                        action=Action.REQUEST_EXTENSION)  # fmt: skip
    check_deadline(deadline, "/deadline")
    if hazard.deadline is not None and deadline <= hazard.deadline:
        raise RuleViolation("an extension asks for a later deadline than the present one", code="deadline-not-later",
                            pointer="/deadline")  # fmt: skip
    overdue = is_overdue({"status": hazard.status, "deadline": hazard.deadline}, county_today())
    if overdue and not hazard.interim_measures:
        raise RuleViolation(
            "an overdue hazard records its interim safety measures (临时性保障措施) before it may be extended",
            code="interim-measures-required",
        )
    hazard.extension_deadline = deadline
    requested = {"deadline": deadline, "previous_deadline": hazard.deadline, "overdue": overdue}
    return _finish(session, hazard, caller, Action.REQUEST_EXTENSION, comment, requested)


def answer_extension(
    session: Session, *, caller: Caller, hazard_id: int, expected_version: int | None, approve: bool, comment: str
) -> Hazard:
    """A leader or the department approves the pending request (the deadline becomes the one asked for) or refuses
    it; never the user who asked."""
    action = Action.APPROVE_EXTENSION if approve else Action.REFUSE_EXTENSION
    hazard = begin_step(session, caller=caller, hazard_id=hazard_id, expected_version=expected_version, action=action)
    requester = session.scalar(
        select(HazardStep.signer_user_id)
        .where(HazardStep.hazard_id == hazard.id, HazardStep.action == Action.REQUEST_EXTENSION.value)
        .order_by(HazardStep.id.desc())
        .limit(1)
    )
    if caller.user_id is not None and caller.user_id == requester:
        raise Forbidden("an extension is decided by someone other than who asked for it", code="own-request")
    asked = hazard.extension_deadline
    if approve:
        hazard.deadline = asked
    hazard.extension_deadline = None
    return _finish(session, hazard, caller, action, comment, {"deadline": asked})


def list_for_supervision(
    session: Session,
    *,
    caller: Caller,
    hazard_id: int,
    expected_version: int | None,
    level: str,
    body: str,
    document_number: str,
    listed_on: date,
    comment: str | None = None,
) -> Hazard:
    """Put a major hazard under listed supervision (挂牌督办) by the county, city or province; it is lifted when the
    hazard closes."""
    hazard = begin_step(session, caller=caller, hazard_id=hazard_id, expected_version=expected_version,
                        action=Action.LIST)  # fmt: skip
    if listed_on > county_today():
        raise RuleViolation("a listing is dated today or earlier", code="date-in-future", pointer="/listed_on")
    hazard.listed_level, hazard.listed_by = ListingLevel(level).value, body
    hazard.listed_document, hazard.listed_on = document_number, listed_on
    details = {"level": hazard.listed_level, "body": body, "document_number": document_number, "listed_on": listed_on}
    return _finish(session, hazard, caller, Action.LIST, comment, details)


def record_supervision_visit(
    session: Session,
    *,
    caller: Caller,
    hazard_id: int,
    expected_version: int | None,
    visited_on: date,
    visited_by: str,
    findings: str,
) -> Hazard:
    """An on-site supervision visit (现场督办) to a listed hazard: when, by whom, what was found."""
    hazard = begin_step(session, caller=caller, hazard_id=hazard_id, expected_version=expected_version,
                        action=Action.SUPERVISION_VISIT)  # fmt: skip
    if visited_on > county_today():
        raise RuleViolation("a visit is dated today or earlier", code="date-in-future", pointer="/visited_on")
    details = {"visited_on": visited_on, "visited_by": visited_by}
    return _finish(session, hazard, caller, Action.SUPERVISION_VISIT, findings, details)
