"""Patrols and inspections (巡查/检查) as recorded by phones: one record per patrol, identified by the UUID the app gave
it offline (as ODK's instanceID), with its track (the raw timestamped fixes, and a line) and its check-ins at
enterprises. A record is stored once: the same UUID with the same content answers the stored record, with other
content a conflict (see `models.patrols.service`). Never deleted.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from geo import SRID
from models.base import Base, UTCDateTime, sql_values


class PatrolKind(StrEnum):
    GRID_PATROL = "grid_patrol"  # 网格巡查
    UNANNOUNCED = "unannounced_inspection"  # 四不两直
    JOINT_ENFORCEMENT = "joint_enforcement"  # 联合执法
    LEADER_LED = "leader_led"  # 领导带队
    EXPERT = "expert_inspection"  # 专家检查
    SPECIAL_CAMPAIGN = "special_campaign"  # 专项整治


class CheckInResult(StrEnum):
    NORMAL = "normal"  # 正常
    HAZARDS_FOUND = "hazards_found"  # 发现隐患
    ENTRY_REFUSED = "entry_refused"  # 拒绝检查
    CLOSED_DOWN = "closed_down"  # 已关停
    SUSPENDED_BUT_PRODUCING = "suspended_but_producing"  # 擅自复产


class TravelMode(StrEnum):
    WALKING = "walking"  # 步行
    CYCLING = "cycling"  # 骑行 (bicycle, e-bike, motorbike)
    DRIVING = "driving"  # 驾车


class Patrol(Base):
    __tablename__ = "patrols"
    __table_args__ = (
        Index("ix_patrols_started_at_id", "started_at", "id"),
        Index("ix_patrols_township_id_started_at_id", "township_id", "started_at", "id"),
        CheckConstraint(f"kind IN ({sql_values(PatrolKind)})", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)  # the app's, lower-case
    content_sha256: Mapped[str] = mapped_column(String(64))  # of the record as sent (canonical JSON)
    kind: Mapped[str] = mapped_column(String(30))
    officer_ids: Mapped[list[int]] = mapped_column(JSON)  # participants who are grid officers
    user_ids: Mapped[list[int]] = mapped_column(JSON)  # participants with accounts (department staff, leaders)
    person_visits: Mapped[int] = mapped_column(Integer)  # 人次: one per participant
    cell_ids: Mapped[list[int]] = mapped_column(JSON)
    township_id: Mapped[int | None] = mapped_column(ForeignKey("townships.id"), nullable=True)  # its first cell's
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # the fixes as kept: [[ISO time, lon, lat, accuracy m], ...], sorted by time, duplicates dropped, WGS-84
    points: Mapped[list[Any]] = mapped_column(JSON)
    track: Mapped[WKBElement | None] = mapped_column(
        Geometry("LINESTRING", srid=SRID, spatial_index=True), nullable=True
    )  # the fixes as a line (none with fewer than two)
    distance_m: Mapped[float] = mapped_column(Float)  # geodesic length of the track
    # the area within 50 m of the track (`models.patrols.coverage.reach`, WGS-84 WKB), stored for coverage, which
    # unites them; none without a track (nor for records stored before 0011: computed when needed)
    reach: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    travel_mode: Mapped[str] = mapped_column(String(10))  # a TravelMode: the speed it is judged by (no CHECK, 0010)
    # the share of the track's length inside the patrol's cells (none without a track)
    share_inside: Mapped[float | None] = mapped_column(Float, nullable=True)
    # plausibility (`models.patrols.plausibility`): [{"code", "detail", "figures": {...}}], and their codes as
    # " implausible-speed track-gap " (lists filter by a code with LIKE on both backends)
    flags: Mapped[list[Any]] = mapped_column(JSON)
    flag_codes: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PatrolCell(Base):
    """The cells a patrol covered, as rows (lists filter by them)."""

    __tablename__ = "patrol_cells"

    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id"), primary_key=True)
    cell_id: Mapped[int] = mapped_column(ForeignKey("grid_cells.id"), primary_key=True, index=True)


class PatrolOfficer(Base):
    """The officers who took part in a patrol, as rows (an officer's history, and their scope, read through them)."""

    __tablename__ = "patrol_officers"

    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id"), primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), primary_key=True, index=True)


class PatrolCheckIn(Base):
    """A stop at an enterprise during a patrol: when, where, and what was found."""

    __tablename__ = "patrol_check_ins"
    __table_args__ = (
        Index("ix_patrol_check_ins_enterprise_id_at", "enterprise_id", "at"),
        CheckConstraint(f"result IN ({sql_values(CheckInResult)})", name="result"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    result: Mapped[str] = mapped_column(String(30))
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    distance_m: Mapped[float | None] = mapped_column(Float, nullable=True)  # from its enterprise (with a position)
    seq: Mapped[int] = mapped_column(Integer)  # its place in the record's check-ins, from 0 (photos name it)


class PatrolFinding(Base):
    """A hazard found on a patrol: reported to the ledger with the patrol, at a check-in or away from any."""

    __tablename__ = "patrol_findings"

    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"), primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id"), index=True)
    check_in_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_check_ins.id"), nullable=True, index=True)
    seq: Mapped[int] = mapped_column(Integer)  # its place among its check-in's findings (or the record's), from 0


class PatrolPhoto(Base):
    """A photo sent after its record, by the record's UUID: of the patrol, of a check-in, or of a finding (then
    it is also the hazard's photo, `hazard_photo_id`). The same image sent again to the same place is one photo."""

    __tablename__ = "patrol_photos"
    __table_args__ = (Index("ix_patrol_photos_patrol_id_sha256", "patrol_id", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id"))
    check_in_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_check_ins.id"), nullable=True)
    hazard_id: Mapped[int | None] = mapped_column(ForeignKey("hazards.id"), nullable=True)
    hazard_photo_id: Mapped[int | None] = mapped_column(ForeignKey("hazard_photos.id"), nullable=True)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(30))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
