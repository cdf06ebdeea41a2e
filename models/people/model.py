"""Officers (网格长/网格员) and their assignments to grid cells, with the full history of who was responsible when."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from models.audit import Audited
from models.base import Base, UTCDateTime
from models.search import searchable


@searchable("officer", sort_key="name")  # by name then id, as the list (see models.search)
class Officer(Audited, Base):
    """A person who can be put in charge of grid cells. Never deleted: deactivated when they leave."""

    __tablename__ = "officers"
    __table_args__ = (
        Index("ix_officers_name_id", "name", "id"),  # the list's order, and name lookups
        # One active officer per mobile number: a retried create cannot make the same person twice.
        Index(
            "uq_officers_mobile_active",
            "mobile",
            unique=True,
            sqlite_where=text("deactivated_at IS NULL"),
            postgresql_where=text("deactivated_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    mobile: Mapped[str] = mapped_column(String(11))
    township_id: Mapped[int] = mapped_column(ForeignKey("townships.id"), index=True)
    title: Mapped[str | None] = mapped_column(String(50), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __audit_actions__ = (("deactivated_at", "deactivate"),)

    @property
    def active(self) -> bool:
        return self.deactivated_at is None


class AssignmentRole(StrEnum):
    OWNER = "owner"  # 网格长: exactly one at a time per cell
    MEMBER = "member"  # 网格员: any number


class GridAssignment(Audited, Base):
    """An officer in charge of a cell over [valid_from, valid_to): valid_to is None while it lasts.

    Rows are never deleted. Ending one sets valid_to; a correction supersedes it (superseded_at, and the
    correcting row's `corrects_id`), so the original entry is kept as it was.
    """

    __tablename__ = "grid_assignments"
    __table_args__ = (
        CheckConstraint("role IN ('owner', 'member')", name="role"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="interval"),
        # The database itself holds at most one current owner per cell, whatever the code above it does.
        Index(
            "uq_grid_assignments_current_owner",
            "cell_id",
            unique=True,
            sqlite_where=text("role = 'owner' AND valid_to IS NULL AND superseded_at IS NULL"),
            postgresql_where=text("role = 'owner' AND valid_to IS NULL AND superseded_at IS NULL"),
        ),
        # ... and at most one current assignment of an officer to a cell.
        Index(
            "uq_grid_assignments_current_officer",
            "cell_id",
            "officer_id",
            unique=True,
            sqlite_where=text("valid_to IS NULL AND superseded_at IS NULL"),
            postgresql_where=text("valid_to IS NULL AND superseded_at IS NULL"),
        ),
        Index("ix_grid_assignments_cell_id_valid_from", "cell_id", "valid_from"),
        Index("ix_grid_assignments_valid_from_id", "valid_from", "id"),  # the history's order
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cell_id: Mapped[int] = mapped_column(ForeignKey("grid_cells.id"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    # Denormalised from the cell, so that every fact can be filtered (and later distributed) by township.
    township_id: Mapped[int] = mapped_column(ForeignKey("townships.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reason: Mapped[str] = mapped_column(String(500))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)  # None: the system
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # when the end was recorded
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    correction_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("grid_assignments.id"), nullable=True, index=True)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __audit_actions__ = (("superseded_at", "supersede"), ("valid_to", "end"))

    @property
    def current(self) -> bool:
        return self.valid_to is None and self.superseded_at is None
