"""Enterprises (生产经营单位): where each stands (属地: township, village, grid cell, derived from its location) and who
supervises its sector (行业: departments, derived from its sector unless set by hand).

The place is derived when the enterprise is written and again whenever a boundary around it is drawn, redrawn or
retired, in that same transaction (see `models.enterprises.places`): lists filter by it without any geometry. An
enterprise outside every active cell is kept, and flagged unassigned, for the township leader to sort out.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from geo import SRID
from models.audit import Audited
from models.base import Base, UTCDateTime, sql_values
from models.search import searchable


class RiskLevel(StrEnum):
    RED = "red"  # 重大风险
    ORANGE = "orange"  # 较大风险
    YELLOW = "yellow"  # 一般风险
    BLUE = "blue"  # 低风险


class KeyLevel(StrEnum):
    """Designated a key enterprise (重点企业) by which level of government."""

    NONE = "none"
    TOWNSHIP = "township"
    COUNTY = "county"
    CITY = "city"
    PROVINCE = "province"


class Scale(StrEnum):
    ABOVE_DESIGNATED = "above_designated"  # 规模以上 (规上)
    SMALL_MEDIUM = "small_medium"  # 中小
    MICRO = "micro"  # 小微


class Status(StrEnum):
    OPERATING = "operating"  # 正常生产经营
    SUSPENDED = "suspended"  # 停产整顿 (suspended for rectification)
    SEASONAL_STOP = "seasonal_stop"  # 季节性停产
    CLOSED = "closed"  # 关闭: set by closing the record, never by a plain change


@searchable("enterprise", sort_key="name")  # by name then id, as the list (see models.search)
class Enterprise(Audited, Base):
    __tablename__ = "enterprises"
    __table_args__ = (
        # One live record per credit code: a closed one keeps its code, and the code may come back as a new record.
        Index(
            "uq_enterprises_credit_code_live",
            "credit_code",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index("ix_enterprises_township_id_name_id", "township_id", "name", "id"),
        Index("ix_enterprises_cell_id_name_id", "cell_id", "name", "id"),
        Index("ix_enterprises_village_id_name_id", "village_id", "name", "id"),
        Index("ix_enterprises_name_id", "name", "id"),
        CheckConstraint(f"risk_level IN ({sql_values(RiskLevel)})", name="risk_level"),
        CheckConstraint(f"key_level IN ({sql_values(KeyLevel)})", name="key_level"),
        CheckConstraint(f"scale IS NULL OR scale IN ({sql_values(Scale)})", name="scale"),
        CheckConstraint(f"status IN ({sql_values(Status)})", name="status"),
        CheckConstraint("major_hazard_grade IS NULL OR major_hazard_grade BETWEEN 1 AND 4", name="major_hazard"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the SQLite rowid, which the R*Tree refers to
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18))
    sector: Mapped[str] = mapped_column(ForeignKey("sectors.code"), index=True)
    # Supervising departments (ids, sorted): derived from the sector unless `departments_set` (set by hand).
    department_ids: Mapped[list[int]] = mapped_column(JSON)
    departments_set: Mapped[bool] = mapped_column(default=False)
    risk_level: Mapped[str] = mapped_column(String(10), index=True)
    major_hazard_grade: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 重大危险源 1-4, None: none
    key_level: Mapped[str] = mapped_column(String(10))
    scale: Mapped[str | None] = mapped_column(String(20), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    licence_number: Mapped[str | None] = mapped_column(String(50), nullable=True)
    licence_expires_on: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    legal_representative: Mapped[str | None] = mapped_column(String(50), nullable=True)
    safety_manager: Mapped[str | None] = mapped_column(String(50), nullable=True)
    duty_phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    address: Mapped[str | None] = mapped_column(String(200), nullable=True)
    location: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)
    lon: Mapped[float] = mapped_column(Float)  # WGS-84, as stored in `location`
    lat: Mapped[float] = mapped_column(Float)
    # The place, derived from the location (see the module's note).
    cell_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id"), nullable=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"), nullable=True)
    township_id: Mapped[int | None] = mapped_column(ForeignKey("townships.id"), nullable=True)
    # 包联: for a key enterprise, the county leader and/or the department that looks after it.
    liaison_leader: Mapped[str | None] = mapped_column(String(100), nullable=True)
    liaison_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    close_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __audit_exclude__ = ("version", "lon", "lat")  # the location says it
    __audit_actions__ = (("closed_at", "close"),)

    @property
    def unassigned(self) -> bool:
        return self.cell_id is None


class EnterpriseDepartment(Base):
    """Who supervises whom, as rows: what department staff's scope reads through (`Enterprise.department_ids` is
    the same list, kept with the record for its history)."""

    __tablename__ = "enterprise_departments"

    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), primary_key=True, index=True)
