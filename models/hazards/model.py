"""Hazards (隐患) and the signed steps of their lives: the ledger a township keeps, one row per hazard, never deleted.

A hazard stands at a place (a point; its cell, village and township derived as for enterprises, see
`models.enterprises.places`), usually at an enterprise. Its life is the transition table `TRANSITIONS`: each step
is signed by the user who takes it (谁检查谁签名，谁整改谁签名，谁验收谁签名) and kept as a `HazardStep`, with its
comment and what it set; the hazard row holds the present state. A major hazard (重大隐患) needs its five
implementations (五落实) complete before rectification starts.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from geo import SRID
from models.audit import Audited
from models.base import Base, UTCDateTime, sql_values


class Kind(StrEnum):
    CONDITION = "unsafe_condition"  # 物的不安全状态
    BEHAVIOUR = "unsafe_behaviour"  # 人的不安全行为
    MANAGEMENT = "management_defect"  # 管理缺陷


class Severity(StrEnum):
    GENERAL = "general"  # 一般隐患
    MAJOR = "major"  # 重大隐患


class Source(StrEnum):
    GOVERNMENT_INSPECTION = "government_inspection"  # 政府检查
    SELF_CHECK = "self_check"  # 企业自查
    THIRD_PARTY = "third_party"  # 第三方专家
    TIP_OFF = "tip_off"  # 举报投诉
    PATROL = "patrol"  # 网格巡查


class Status(StrEnum):
    REPORTED = "reported"  # 已上报, not yet being rectified
    RECTIFYING = "rectifying"  # 整改中
    PENDING_ACCEPTANCE = "pending_acceptance"  # 待验收
    CLOSED = "closed"  # 已销号
    VOIDED = "voided"  # 已作废 (recorded in error)


OPEN_STATUSES = (Status.REPORTED, Status.RECTIFYING, Status.PENDING_ACCEPTANCE)


class Action(StrEnum):
    """What a signed step does. `REPORT` and `PLAN` change no state (the first is the hazard's birth)."""

    REPORT = "report"  # 上报
    PLAN = "plan"  # 五落实: the plan of a major hazard, set or changed
    START_RECTIFICATION = "start_rectification"  # 下达整改: deadline and responsible person
    RECTIFY_ON_THE_SPOT = "rectify_on_the_spot"  # 立即整改 (general hazards only)
    RECTIFIED = "rectified"  # 整改完成, signed by the rectifier
    ACCEPT = "accept"  # 验收销号
    REJECT = "reject"  # 验收不通过: back to rectifying, with a re-check deadline (复查)
    VOID = "void"  # 作废
    # steps beside the life's states (see `models.hazards.followup`)
    REFER = "refer"  # 移交: a township hands it to the department that can enforce
    ACCEPT_REFERRAL = "accept_referral"  # the department takes it on
    RETURN_REFERRAL = "return_referral"  # the department sends it back, with the reason
    RECORD_INTERIM_MEASURES = "record_interim_measures"  # 临时性保障措施
    REQUEST_EXTENSION = "request_extension"  # 延期申请: reason and a new deadline
    APPROVE_EXTENSION = "approve_extension"
    REFUSE_EXTENSION = "refuse_extension"
    LIST = "list"  # 挂牌督办: listed supervision of a major hazard
    SUPERVISION_VISIT = "supervision_visit"  # 现场督办


class ReferralStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    RETURNED = "returned"


class ListingLevel(StrEnum):
    COUNTY = "county"
    CITY = "city"
    PROVINCE = "province"


# The life of a hazard: from a state, which actions lead where. Nothing leaves closed or voided.
TRANSITIONS: dict[Status, dict[Action, Status]] = {
    Status.REPORTED: {
        Action.START_RECTIFICATION: Status.RECTIFYING,
        Action.RECTIFY_ON_THE_SPOT: Status.PENDING_ACCEPTANCE,
        Action.VOID: Status.VOIDED,
    },
    Status.RECTIFYING: {Action.RECTIFIED: Status.PENDING_ACCEPTANCE, Action.VOID: Status.VOIDED},
    Status.PENDING_ACCEPTANCE: {
        Action.ACCEPT: Status.CLOSED,
        Action.REJECT: Status.RECTIFYING,
        Action.VOID: Status.VOIDED,
    },
    Status.CLOSED: {},
    Status.VOIDED: {},
}
# Steps that change no state, and the states they are taken in.
_OPEN = (Status.REPORTED, Status.RECTIFYING, Status.PENDING_ACCEPTANCE)
IN_PLACE: dict[Action, tuple[Status, ...]] = {
    Action.PLAN: (Status.REPORTED, Status.RECTIFYING),
    Action.REFER: _OPEN,
    Action.ACCEPT_REFERRAL: _OPEN,
    Action.RETURN_REFERRAL: _OPEN,
    Action.RECORD_INTERIM_MEASURES: _OPEN,
    Action.REQUEST_EXTENSION: (Status.RECTIFYING,),
    Action.APPROVE_EXTENSION: (Status.RECTIFYING,),
    Action.REFUSE_EXTENSION: (Status.RECTIFYING,),
    Action.LIST: _OPEN,
    Action.SUPERVISION_VISIT: _OPEN,
}

# The five implementations (五落实) of a major hazard, as the plan's keys: all present makes the plan complete.
FIVE_IMPLEMENTATIONS = (
    "responsible_person",  # 责任落实: the person
    "responsible_unit",  # and the unit
    "measures",  # 措施落实
    "funds_yuan",  # 资金落实
    "deadline",  # 时限落实
    "contingency_plan",  # 预案落实
)


class Hazard(Audited, Base):
    __tablename__ = "hazards"
    __table_args__ = (
        # the list's order (newest found first), alone and under each filter a township or a cell uses
        Index("ix_hazards_found_at_id", "found_at", "id"),
        Index("ix_hazards_township_id_found_at_id", "township_id", "found_at", "id"),
        Index("ix_hazards_cell_id_found_at_id", "cell_id", "found_at", "id"),
        Index("ix_hazards_enterprise_id_found_at_id", "enterprise_id", "found_at", "id"),
        Index("ix_hazards_status_deadline", "status", "deadline"),
        CheckConstraint(f"kind IN ({sql_values(Kind)})", name="kind"),
        CheckConstraint(f"severity IN ({sql_values(Severity)})", name="severity"),
        CheckConstraint(f"source IN ({sql_values(Source)})", name="source"),
        CheckConstraint(f"status IN ({sql_values(Status)})", name="status"),
        CheckConstraint("enterprise_id IS NOT NULL OR place_description IS NOT NULL", name="where"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the SQLite rowid, which the R*Tree refers to
    # 隐患编号: per township and year (the county's found_at year), for the paper ledger, e.g. 430199101-2026-0007
    number: Mapped[str] = mapped_column(String(30), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), nullable=True)
    place_description: Mapped[str | None] = mapped_column(String(200), nullable=True)
    description: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    sector: Mapped[str] = mapped_column(ForeignKey("sectors.code"), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(30))
    found_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    found_by: Mapped[str] = mapped_column(String(100))  # the finder's name as signed
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)
    lon: Mapped[float] = mapped_column(Float)  # WGS-84, as stored in `location`
    lat: Mapped[float] = mapped_column(Float)
    # The place, derived from the location (as an enterprise's, and kept fresh the same way).
    cell_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id"), nullable=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"), nullable=True)
    township_id: Mapped[int | None] = mapped_column(ForeignKey("townships.id"), nullable=True)
    # The supervising departments when it was reported (the enterprise's, else the sector's), sorted.
    department_ids: Mapped[list[int]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    deadline: Mapped[date | None] = mapped_column(Date, nullable=True)  # 整改期限 (re-check deadline after a rejection)
    responsible_person: Mapped[str | None] = mapped_column(String(100), nullable=True)  # 整改责任人
    # 五落实 of a major hazard: the keys of FIVE_IMPLEMENTATIONS that are set (funds in yuan, deadline ISO)
    five_implementations: Mapped[dict[str, Any]] = mapped_column(JSON)
    # 移交: the department it was referred to, and where the referral stands (pending, accepted, returned)
    referred_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), nullable=True)
    referral_status: Mapped[str | None] = mapped_column(String(10), nullable=True)
    interim_measures: Mapped[str | None] = mapped_column(Text, nullable=True)  # 临时性保障措施, the latest
    extension_deadline: Mapped[date | None] = mapped_column(Date, nullable=True)  # a pending request's new deadline
    # 挂牌督办 of a major hazard: by which level and body, the document, the day; lifted when it closes
    listed_level: Mapped[str | None] = mapped_column(String(10), nullable=True)
    listed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    listed_document: Mapped[str | None] = mapped_column(String(60), nullable=True)
    listed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    listing_lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rectified_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    rectified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # closed by its deadline (the day, in the county; none set: rectified on the spot), decided when it closes
    closed_on_time: Mapped[bool | None] = mapped_column(nullable=True)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __audit_exclude__ = ("version", "lon", "lat")  # the location says it
    __audit_actions__ = (("closed_at", "close"), ("voided_at", "void"))


class HazardDepartment(Base):
    """The departments whose staff see a hazard, as rows (`Hazard.department_ids` is the same list, kept with the
    record for its history)."""

    __tablename__ = "hazard_departments"

    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"), primary_key=True, index=True)


class HazardStep(Base):
    """One signed step of a hazard's life: never changed, never deleted (the ledger's signatures)."""

    __tablename__ = "hazard_steps"
    __table_args__ = (
        Index("ix_hazard_steps_hazard_id_id", "hazard_id", "id"),
        CheckConstraint(f"action IN ({sql_values(Action)})", name="action"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"))
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)  # None: the report
    to_status: Mapped[str] = mapped_column(String(20))
    signer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)  # None: the system
    signer: Mapped[str] = mapped_column(String(100))  # the signer's name at the time
    signer_role: Mapped[str] = mapped_column(String(30))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)  # what the step set: deadline, rectifier, reason...


class DocumentKind(StrEnum):
    """The enforcement documents a department issues (townships have no power of enforcement)."""

    RECTIFICATION_ORDER = "rectification_order"  # 责令限期整改指令书, with a time limit
    SUSPENSION_ORDER = "suspension_order"  # 责令停产停业整顿: the enterprise is suspended
    RESUMPTION_ACCEPTANCE = "resumption_acceptance"  # 复工(复产)验收: back to operating, only with no open major hazard
    CLOSURE = "closure"  # 关闭取缔: the enterprise is closed


class EnforcementDocument(Audited, Base):
    """A numbered document in the ledger, issued by a department to an enterprise, about some of its hazards. Never
    changed, never deleted."""

    __tablename__ = "enforcement_documents"
    __table_args__ = (
        Index("ix_enforcement_documents_issued_on_id", "issued_on", "id"),
        Index("ix_enforcement_documents_enterprise_id_issued_on_id", "enterprise_id", "issued_on", "id"),
        Index("ix_enforcement_documents_township_id_issued_on_id", "township_id", "issued_on", "id"),
        CheckConstraint(f"kind IN ({sql_values(DocumentKind)})", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    number: Mapped[str] = mapped_column(String(60), unique=True)  # 文书编号, e.g. (应急)责改〔2026〕12号
    issued_on: Mapped[date] = mapped_column(Date)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    # the enterprise's place when issued, for scope and counts
    cell_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    village_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    township_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hazard_ids: Mapped[list[int]] = mapped_column(JSON)
    time_limit: Mapped[date | None] = mapped_column(Date, nullable=True)  # a rectification order's
    content: Mapped[str | None] = mapped_column(Text, nullable=True)
    signer: Mapped[str] = mapped_column(String(100))  # who signed it for the department
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DocumentHazard(Base):
    """The hazards a document is about, as rows (an enterprise's hazard history lists its documents through them)."""

    __tablename__ = "document_hazards"

    document_id: Mapped[int] = mapped_column(ForeignKey("enforcement_documents.id"), primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"), primary_key=True, index=True)


class HazardPhoto(Base):
    """A photo of a hazard (its bytes in the file store, by their SHA-256), attached to one of its steps once a step
    names it. Never deleted."""

    __tablename__ = "hazard_photos"
    __table_args__ = (Index("uq_hazard_photos_hazard_id_sha256", "hazard_id", "sha256", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"))
    step_id: Mapped[int | None] = mapped_column(ForeignKey("hazard_steps.id"), nullable=True)
    content_type: Mapped[str] = mapped_column(String(30))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
