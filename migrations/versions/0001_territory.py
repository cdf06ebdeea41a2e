"""Territorial hierarchy: townships, villages, grid cells with their boundaries.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry, alembic_helpers  # noqa: F401  (registers the geospatial operations)

from models.base import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _unit_columns(table: str) -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=15), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("boundary", Geometry("GEOMETRY", srid=4326, spatial_index=True), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("centroid_lon", sa.Float(), nullable=False),
        sa.Column("centroid_lat", sa.Float(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        sa.UniqueConstraint("code", name=f"uq_{table}_code"),
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_geospatial_table("townships", *_unit_columns("townships"))
    op.create_index("ix_townships_name", "townships", ["name"])

    op.create_geospatial_table(
        "villages",
        *_unit_columns("villages"),
        sa.Column("township_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["township_id"], ["townships.id"], name="fk_villages_township_id_townships"),
    )
    op.create_index("ix_villages_name", "villages", ["name"])
    op.create_index("ix_villages_township_id", "villages", ["township_id"])

    op.create_geospatial_table(
        "grid_cells",
        *_unit_columns("grid_cells"),
        sa.Column("village_id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["village_id"], ["villages.id"], name="fk_grid_cells_village_id_villages"),
        sa.ForeignKeyConstraint(["township_id"], ["townships.id"], name="fk_grid_cells_township_id_townships"),
    )
    op.create_index("ix_grid_cells_name", "grid_cells", ["name"])
    op.create_index("ix_grid_cells_village_id", "grid_cells", ["village_id"])
    op.create_index("ix_grid_cells_township_id", "grid_cells", ["township_id"])


def downgrade() -> None:
    for table in ("grid_cells", "villages", "townships"):
        op.drop_geospatial_table(table)
