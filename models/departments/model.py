"""Sectors (行业领域) and the county departments that supervise them ("管行业必须管安全").

Sectors are data, not code: the migration seeds the usual list and a county administrator may add more. A department
supervises any number of sectors, and a sector may have several departments (construction sites: the housing bureau
for the works, the market regulator for the cranes). Enterprises take their supervising departments from their
sector (see `models.enterprises`); department staff see the enterprises their department supervises.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.audit import Audited
from models.base import Base, UTCDateTime

# The sectors the county starts with: (code, 中文, English). The migration seeds them; `code` is what the API speaks.
SEEDED_SECTORS = (
    ("hazardous_chemicals", "危险化学品", "hazardous chemicals"),
    ("non_coal_mine", "非煤矿山", "non-coal mine"),
    ("coal_mine", "煤矿", "coal mine"),
    ("fireworks", "烟花爆竹", "fireworks"),
    (
        "industry_trade",
        "工贸",
        "metallurgy, non-ferrous metals, building materials, machinery, light industry, textiles, tobacco, commerce",
    ),
    ("construction", "建筑施工", "construction"),
    ("special_equipment", "特种设备", "special equipment"),
    ("crowded_place", "人员密集场所", "crowded place"),
    ("gas", "燃气", "gas"),
    ("road_transport", "道路运输", "road transport"),
    ("waterway_transport", "水上交通", "waterway transport"),
    ("other", "其他", "other"),
)


def seeded_sector_rows(now: datetime) -> list[dict[str, object]]:
    """The rows of `SEEDED_SECTORS` (for the migration, and for whoever empties the table and needs them back)."""
    return [
        {"code": code, "name": name, "name_en": name_en, "created_at": now} for code, name, name_en in SEEDED_SECTORS
    ]


class Sector(Audited, Base):
    __tablename__ = "sectors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)  # Chinese
    name_en: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Department(Audited, Base):
    """A county department. Never deleted: retired when it is merged away or abolished."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # short code, e.g. YJJ (应急管理局)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    duty_phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # The codes of the sectors it supervises, sorted: a list of a few, kept on the row so that the audit trail shows
    # every change of them like any other field.
    sectors: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __audit_actions__ = (("retired_at", "retire"),)
