"""Enforcement documents (执法文书): what a department issues to an enterprise about its hazards, kept in the ledger,
and what each does to the enterprise. Townships find hazards; departments enforce ("管行业必须管安全").

| kind | effect |
|---|---|
| rectification_order 整改指令书 | none on the enterprise; a time limit |
| suspension_order 责令停产停业整顿 | the enterprise is suspended |
| resumption_acceptance 复工验收 | the enterprise operates again: only a suspended one, with no open major hazard |
| closure 关闭取缔 | the enterprise's record is closed |

Who: department staff, in their department's name, for the enterprises it supervises; the county administrator, in
the name of any active department. Each public function is one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from models import locks
from models.base import county_today, utcnow, write_transaction
from models.departments.model import Department
from models.enterprises.model import Enterprise
from models.enterprises.model import Status as EnterpriseStatus
from models.enterprises.queries import named_enterprise
from models.errors import Conflict, Forbidden, RuleViolation
from models.hazards.model import OPEN_STATUSES, DocumentHazard, DocumentKind, EnforcementDocument, Hazard, Severity
from models.listing import Listing
from models.roles import Caller, Role
from models.scope import (
    built_once,
    existing_id_if_visible,
    row_in_scope,
    scope_clauses,
    scope_values,
)

ISSUERS = frozenset({Role.COUNTY_ADMIN, Role.DEPARTMENT_STAFF})
DOCUMENT_SELECT = select(*EnforcementDocument.__table__.columns)


def _department(session: Session, caller: Caller, department_id: int | None) -> int:
    if caller.role is Role.DEPARTMENT_STAFF:
        if department_id not in (None, caller.department_id):
            raise RuleViolation(
                "department staff issue documents in their own department's name",
                code="department-not-allowed",
                pointer="/department_id",
            )
        return caller.department_id  # type: ignore[return-value]
    if department_id is None:
        raise RuleViolation("name the issuing department", code="department-required", pointer="/department_id")
    found = session.scalar(select(Department.id).where(Department.id == department_id, Department.retired_at.is_(None)))
    if found is None:
        raise RuleViolation(
            f"no active department with id {department_id}", code="department-not-found", pointer="/department_id"
        )
    return found


def _hazards(session: Session, caller: Caller, enterprise: Enterprise, ids: Sequence[int]) -> list[int]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    visible = set(
        session.scalars(
            select(Hazard.id).where(
                Hazard.id.in_(wanted), Hazard.enterprise_id == enterprise.id, *scope_clauses(caller, Hazard)
            ),
            scope_values(caller),
        )
    )
    missing = [i for i in wanted if i not in visible]
    if missing:
        raise RuleViolation(
            f"no hazard of enterprise {enterprise.id} with id {', '.join(map(str, missing))} in your scope",
            code="hazard-not-found",
            pointer="/hazard_ids",
        )
    return wanted


def open_major_hazards(session: Session, *, caller: Caller, enterprise_id: int) -> list[str]:
    """The numbers of the enterprise's major hazards not yet closed (nor voided)."""
    return list(
        session.scalars(
            select(Hazard.number)
            .where(
                Hazard.enterprise_id == enterprise_id,
                Hazard.severity == Severity.MAJOR.value,
                Hazard.status.in_([s.value for s in OPEN_STATUSES]),
            )
            .order_by(Hazard.number)
        )
    )


def _apply(session: Session, caller: Caller, kind: DocumentKind, enterprise: Enterprise, number: str) -> None:
    """What the document does to the enterprise; refused (409) when its state does not allow it."""
    if enterprise.closed_at is not None:
        raise Conflict(
            f"enterprise {enterprise.id} is closed: no document can be issued to it", code="enterprise-closed"
        )
    now = utcnow()
    if kind is DocumentKind.SUSPENSION_ORDER:
        enterprise.status = EnterpriseStatus.SUSPENDED.value
    elif kind is DocumentKind.RESUMPTION_ACCEPTANCE:
        if enterprise.status != EnterpriseStatus.SUSPENDED.value:
            raise Conflict(
                f"enterprise {enterprise.id} is {enterprise.status}, not suspended: there is nothing to resume",
                code="enterprise-not-suspended",
            )
        still_open = open_major_hazards(session, caller=caller, enterprise_id=enterprise.id)
        if still_open:
            raise Conflict(
                "an enterprise resumes only with no open major hazard; still open: " + ", ".join(still_open),
                code="open-major-hazards",
                hazard_numbers=still_open,
            )
        enterprise.status = EnterpriseStatus.OPERATING.value
    elif kind is DocumentKind.CLOSURE:
        enterprise.status = EnterpriseStatus.CLOSED.value
        enterprise.closed_at, enterprise.close_reason = now, f"关闭取缔 {number}"
    if session.is_modified(enterprise):
        enterprise.updated_at = now


def issue_document(
    session: Session,
    *,
    caller: Caller,
    kind: str,
    number: str,
    issued_on: date,
    enterprise_id: int,
    signer: str,
    department_id: int | None = None,
    hazard_ids: Sequence[int] = (),
    time_limit: date | None = None,
    content: str | None = None,
) -> EnforcementDocument:
    """Record a document issued to an enterprise (in the caller's scope) and apply its effect, in one transaction."""
    if caller.role not in ISSUERS:
        raise Forbidden("enforcement documents are issued by departments (and recorded by the county)")
    kind = DocumentKind(kind)
    if kind is DocumentKind.RECTIFICATION_ORDER and time_limit is None:
        raise RuleViolation(
            "a rectification order sets a time limit", code="time-limit-required", pointer="/time_limit"
        )
    if issued_on > county_today():
        raise RuleViolation("a document is issued today or earlier", code="date-in-future", pointer="/issued_on")
    write_transaction(session, locks.places())
    enterprise = named_enterprise(session, caller=caller, enterprise_id=enterprise_id)
    issuer = _department(session, caller, department_id)
    taken = session.scalar(select(EnforcementDocument.id).where(EnforcementDocument.number == number))
    if taken is not None:
        raise Conflict(
            f"a document numbered {number} is in the ledger already",
            code="document-number-taken",
            **existing_id_if_visible(session, caller=caller, model=EnforcementDocument, record_id=taken),
        )
    linked = _hazards(session, caller, enterprise, hazard_ids)
    _apply(session, caller, kind, enterprise, number)
    document = EnforcementDocument(
        kind=kind.value, number=number, issued_on=issued_on, department_id=issuer, enterprise_id=enterprise.id,
        cell_id=enterprise.cell_id, village_id=enterprise.village_id, township_id=enterprise.township_id,
        hazard_ids=linked, time_limit=time_limit, content=content, signer=signer,
        recorded_by_user_id=caller.user_id, created_at=utcnow(),
    )  # fmt: skip
    session.add(document)
    session.flush()
    if linked:
        session.execute(
            insert(DocumentHazard.__table__), [{"document_id": document.id, "hazard_id": h} for h in linked]
        )
    session.commit()
    return document


def document_row(session: Session, *, caller: Caller, document_id: int) -> dict[str, Any]:
    return row_in_scope(
        session, caller=caller, stmt=DOCUMENT_SELECT, model=EnforcementDocument, record_id=document_id,
        what="enforcement document",
    )  # fmt: skip


def document_listing(
    *,
    caller: Caller,
    kind: str | None = None,
    enterprise_id: int | None = None,
    department_id: int | None = None,
    township_id: int | None = None,
    hazard_id: int | None = None,
    issued_from: date | None = None,
    issued_before: date | None = None,
) -> Listing:
    """Documents in the caller's scope, newest recorded first."""
    listing = built_once(
        ("document-list",),
        caller,
        lambda: Listing(
            DOCUMENT_SELECT,
            tuple(scope_clauses(caller, EnforcementDocument)),
            (EnforcementDocument.id,),  # newest recorded first
            True,
        ),
    )
    clauses: list[Any] = []
    for column, value in (
        (EnforcementDocument.kind, kind),
        (EnforcementDocument.enterprise_id, enterprise_id),
        (EnforcementDocument.department_id, department_id),
        (EnforcementDocument.township_id, township_id),
    ):
        if value is not None:
            clauses.append(column == value)
    if hazard_id is not None:
        clauses.append(
            EnforcementDocument.id.in_(select(DocumentHazard.document_id).where(DocumentHazard.hazard_id == hazard_id))
        )
    if issued_from is not None:
        clauses.append(EnforcementDocument.issued_on >= issued_from)
    if issued_before is not None:
        clauses.append(EnforcementDocument.issued_on < issued_before)
    return replace(listing.filtered(*clauses), params=scope_values(caller))
