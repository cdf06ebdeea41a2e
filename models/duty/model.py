"""The official holiday calendar as entered by the county (the State Council's yearly notice): a year the
`chinese-calendar` package lacks is typed in once; a year it has is answered from it, unless a county administrator
replaced it on purpose (`replaces_package`). Entered years are kept with who entered them and when, audited.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from models.audit import Audited
from models.base import Base, UTCDateTime, sql_values


class Holiday(StrEnum):
    """The statutory holidays (全体公民放假的节日), by the `chinese-calendar` package's names."""

    NEW_YEARS_DAY = "new_years_day"  # 元旦
    SPRING_FESTIVAL = "spring_festival"  # 春节
    TOMB_SWEEPING_DAY = "tomb_sweeping_day"  # 清明节
    LABOUR_DAY = "labour_day"  # 劳动节
    DRAGON_BOAT_FESTIVAL = "dragon_boat_festival"  # 端午节
    NATIONAL_DAY = "national_day"  # 国庆节
    MID_AUTUMN_FESTIVAL = "mid_autumn_festival"  # 中秋节
    ANTI_FASCIST_70TH_DAY = "anti_fascist_70th_day"  # 中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日 (2015)


HOLIDAY_NAMES = {
    Holiday.NEW_YEARS_DAY: "元旦",
    Holiday.SPRING_FESTIVAL: "春节",
    Holiday.TOMB_SWEEPING_DAY: "清明节",
    Holiday.LABOUR_DAY: "劳动节",
    Holiday.DRAGON_BOAT_FESTIVAL: "端午节",
    Holiday.NATIONAL_DAY: "国庆节",
    Holiday.MID_AUTUMN_FESTIVAL: "中秋节",
    Holiday.ANTI_FASCIST_70TH_DAY: "抗战胜利70周年纪念日",
}


class DayKind(StrEnum):
    DAY_OFF = "day_off"  # 放假: a holiday's day off (weekends inside it included)
    WORKING_DAY = "working_day"  # 调休上班: a weekend day worked in exchange


class HolidayYear(Audited, Base):
    """A year of the calendar entered by a county administrator (from the State Council's notice)."""

    __tablename__ = "holiday_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    notice: Mapped[str] = mapped_column(Text)  # the notice it was typed from: title and document number
    # as typed: [{"holiday", "from", "to", "working_days": [...]}, ...] (the days below are derived from it)
    holidays: Mapped[list[dict]] = mapped_column(JSON)
    replaces_package: Mapped[bool] = mapped_column(Boolean)  # the package has this year: replaced on purpose
    entered_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)

    @property
    def id(self) -> int:  # (the audit trail names an entity by its id)
        return self.year


class HolidayDay(Base):
    """A day of an entered year: a holiday's day off, or a weekend day worked in exchange (调休)."""

    __tablename__ = "holiday_days"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_values(DayKind)})", name="kind"),
        CheckConstraint(f"holiday IN ({sql_values(Holiday)})", name="holiday"),
    )

    year: Mapped[int] = mapped_column(ForeignKey("holiday_years.year"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # (元旦 may start in the December before its year)
    kind: Mapped[str] = mapped_column(String(20))
    holiday: Mapped[str] = mapped_column(String(30))


class DutyPeriod(Audited, Base):
    """A period of 24-hour duty announced by the county safety office: from `starts_at` to `ends_at`, rosters due by
    `deadline` from the units named (`DutyPeriodUnit`). Shifts start at `shift_start` (local time, "08:30"); with
    `split_at` a unit may split each 24 h into day duty and overnight duty (值班/值宿). Never deleted: cancelled."""

    __tablename__ = "duty_periods"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        # One period of a name among those not cancelled ("2027年春节" announced twice by mistake is refused).
        Index(
            "uq_duty_periods_name_live",
            "name",
            unique=True,
            sqlite_where=text("cancelled_at IS NULL"),
            postgresql_where=text("cancelled_at IS NULL"),
        ),
    )
    __audit_actions__ = (("cancelled_at", "cancel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    shift_start: Mapped[str] = mapped_column(String(5))  # "08:30", in the county's zone
    split_at: Mapped[str | None] = mapped_column(String(5), nullable=True)  # "17:30": day duty until then
    leader_required: Mapped[bool] = mapped_column(Boolean)  # a leader on duty on every shift (带班领导)
    holiday: Mapped[str | None] = mapped_column(String(30), nullable=True)  # proposed from this holiday
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    # the county office's duty desk (安委办值班室): its phone, and the department whose roster staffs it
    desk_phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    desk_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), nullable=True)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer)


class DutyPeriodUnit(Base):
    """A unit that must submit a roster for the period: a township or a department."""

    __tablename__ = "duty_period_units"
    __table_args__ = (CheckConstraint("(township_id IS NULL) <> (department_id IS NULL)", name="one_unit"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("duty_periods.id"), index=True)
    township_id: Mapped[int | None] = mapped_column(ForeignKey("townships.id"), nullable=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), nullable=True)


class RosterStatus(StrEnum):
    DRAFT = "draft"  # being written by the unit; never submitted
    SUBMITTED = "submitted"  # submitted (or changed after submission): awaiting the county office
    APPROVED = "approved"  # approved by the county office
    RETURNED = "returned"  # returned by the county office, with its reason


class ShiftRole(StrEnum):
    LEADER = "leader"  # 带班领导
    OFFICER = "officer"  # 值班员


class DutyRoster(Audited, Base):
    """A unit's roster for a period (one per unit and period): its current shifts are `DutyShift` rows; each
    submission, and each change after the first, is kept whole as a `DutyRosterRevision`."""

    __tablename__ = "duty_rosters"
    __table_args__ = (
        CheckConstraint("(township_id IS NULL) <> (department_id IS NULL)", name="one_unit"),
        CheckConstraint(f"status IN ({sql_values(RosterStatus)})", name="status"),
        Index("uq_duty_rosters_period_township", "period_id", "township_id", unique=True),
        Index("uq_duty_rosters_period_department", "period_id", "department_id", unique=True),
        Index("ix_duty_rosters_township_id", "township_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("duty_periods.id"))
    township_id: Mapped[int | None] = mapped_column(ForeignKey("townships.id"), nullable=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    revision: Mapped[int] = mapped_column(Integer)  # its latest revision's number (0: never submitted)
    first_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # its latest revision's
    late: Mapped[bool] = mapped_column(Boolean)  # first submitted after the period's deadline
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    return_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)

    # (a submission clears the last decision: checked first, it is named a submission)
    __audit_actions__ = (("submitted_at", "submit"), ("decided_at", "decide"))


class DutyRosterRevision(Base):
    """A roster as submitted (revision 1) or changed after submission (2, 3, ...), whole: never changed but for
    the county office's decision on it."""

    __tablename__ = "duty_roster_revisions"
    __table_args__ = (Index("uq_duty_roster_revisions_roster_number", "roster_id", "number", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    roster_id: Mapped[int] = mapped_column(ForeignKey("duty_rosters.id"))
    number: Mapped[int] = mapped_column(Integer)
    township_id: Mapped[int | None] = mapped_column(ForeignKey("townships.id"), nullable=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), nullable=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    late: Mapped[bool] = mapped_column(Boolean)  # submitted after the deadline
    shifts: Mapped[list[dict]] = mapped_column(JSON)  # as the roster answers them, names and phones included
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    decision: Mapped[str | None] = mapped_column(String(20), nullable=True)  # approved / returned
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class DutyShift(Base):
    """A shift of a roster as it stands (replaced whole when the roster changes; its past is in the revisions)."""

    __tablename__ = "duty_shifts"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_duty_shifts_roster_id_starts_at", "roster_id", "starts_at"),
        Index("ix_duty_shifts_period_id", "period_id"),
        Index("ix_duty_shifts_township_id_starts_at", "township_id", "starts_at"),
        Index("ix_duty_shifts_department_id_starts_at", "department_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    roster_id: Mapped[int] = mapped_column(ForeignKey("duty_rosters.id"))
    period_id: Mapped[int] = mapped_column(ForeignKey("duty_periods.id"))
    township_id: Mapped[int | None] = mapped_column(ForeignKey("townships.id"), nullable=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), nullable=True)
    position: Mapped[int] = mapped_column(Integer)  # its place in the roster as given
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)  # the duty line during the shift
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)


class DutyShiftPerson(Base):
    """A person on a shift: its leader on duty or one of its duty officers. A person is an officer (by
    `officer_id`; an account linked to an officer is that officer) or an account without one (`user_id`)."""

    __tablename__ = "duty_shift_people"
    __table_args__ = (
        CheckConstraint("(officer_id IS NULL) <> (user_id IS NULL)", name="one_person"),
        CheckConstraint(f"role IN ({sql_values(ShiftRole)})", name="role"),
        Index("ix_duty_shift_people_shift_id", "shift_id"),
        Index("ix_duty_shift_people_roster_id", "roster_id"),
        Index("ix_duty_shift_people_period_id", "period_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("duty_shifts.id"))
    roster_id: Mapped[int] = mapped_column(ForeignKey("duty_rosters.id"))
    period_id: Mapped[int] = mapped_column(ForeignKey("duty_periods.id"))
    role: Mapped[str] = mapped_column(String(10))
    position: Mapped[int] = mapped_column(Integer)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"), nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)  # given for the shift (else the officer's)
