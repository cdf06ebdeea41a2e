"""The territorial hierarchy: townships (乡镇/街道) split into villages (村/社区) split into grid cells (网格)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from geo import SRID
from models.audit import Audited
from models.base import Base, UTCDateTime
from models.search import searchable


class TerritorialUnit(Audited):
    """Columns shared by the three levels. Area and centroid are derived from the boundary on every write."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the SQLite rowid, which the R*Tree refers to
    code: Mapped[str] = mapped_column(String(15), unique=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    boundary: Mapped[WKBElement] = mapped_column(Geometry("GEOMETRY", srid=SRID, spatial_index=True), nullable=False)
    area_m2: Mapped[float] = mapped_column(Float)
    centroid_lon: Mapped[float] = mapped_column(Float)
    centroid_lat: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Optimistic locking: every UPDATE checks and bumps it; it is also the ETag.
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __audit_actions__ = (("retired_at", "retire"),)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:  # noqa: N805
        return {"version_id_col": cls.__table__.c.version}


# Searchable by name in code order (see models.search); the kinds are the levels' keys.
@searchable("township", sort_key="code")
class Township(TerritorialUnit, Base):
    __tablename__ = "townships"


@searchable("village", sort_key="code")
class Village(TerritorialUnit, Base):
    __tablename__ = "villages"

    township_id: Mapped[int] = mapped_column(ForeignKey("townships.id"), index=True)


@searchable("grid_cell", sort_key="code")
class GridCell(TerritorialUnit, Base):
    __tablename__ = "grid_cells"

    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    # Denormalised so that every fact about a cell can be filtered (and later distributed) by township.
    township_id: Mapped[int] = mapped_column(ForeignKey("townships.id"), index=True)


@dataclass(frozen=True)
class Level:
    """One level of the hierarchy and how it hangs off its parent."""

    key: str
    model: type[Township] | type[Village] | type[GridCell]
    label: str  # human label, English and Chinese
    code_digits: int
    parent: Level | None = None
    parent_fk: str | None = None  # column on this level pointing at the parent

    @property
    def parent_id_column(self):  # noqa: ANN201
        return getattr(self.model, self.parent_fk) if self.parent_fk else None


TOWNSHIP = Level("township", Township, "township (乡镇/街道)", 9)
VILLAGE = Level("village", Village, "village (村/社区)", 12, TOWNSHIP, "township_id")
GRID_CELL = Level("grid_cell", GridCell, "grid cell (网格)", 15, VILLAGE, "village_id")
LEVELS = (TOWNSHIP, VILLAGE, GRID_CELL)


def child_level(level: Level) -> Level | None:
    return next((candidate for candidate in LEVELS if candidate.parent is level), None)
