"""The schema is built by Alembic migrations (`migrations/`), on SpatiaLite and PostGIS alike."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# Tables and views that SpatiaLite and PostGIS create for themselves: never ours to drop or compare.
EXTENSION_TABLE_PREFIXES = (
    "geometry_columns",
    "spatial_ref_sys",
    "spatialite_history",
    "sqlite_",
    "views_geometry_columns",
    "virts_geometry_columns",
    "idx_",
    "elementarygeometries",
    "spatialindex",
    "knn",
    "data_licenses",
    "sql_statements_log",
    "se_",
    "rl2map_configurations",
    "wms_",
    "topologies",
    "networks",
    "raster_coverages",
    "vector_coverages",
    "stored_",
    "iso_metadata",
    "layer_",
)


def include_object(obj: object, name: str | None, obj_type: str, reflected: bool, compare_to: object) -> bool:
    """Alembic autogenerate filter: leave the spatial extensions' own objects alone."""
    if obj_type == "table" and reflected and compare_to is None and name:
        return not name.lower().startswith(EXTENSION_TABLE_PREFIXES)
    return True


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)
