"""Patrol records from mobile apps: patrols, their cells, officers and check-ins.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry, alembic_helpers  # noqa: F401  (registers the geospatial operations)

from models.base import UTCDateTime
from models.patrols.model import CheckInResult, PatrolKind

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _in(values: type) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


def upgrade() -> None:
    op.create_geospatial_table(
        "patrols",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("officer_ids", sa.JSON(), nullable=False),
        sa.Column("user_ids", sa.JSON(), nullable=False),
        sa.Column("person_visits", sa.Integer(), nullable=False),
        sa.Column("cell_ids", sa.JSON(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=False),
        sa.Column("points", sa.JSON(), nullable=False),
        sa.Column("track", Geometry("LINESTRING", srid=4326, spatial_index=True), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_patrols"),
        sa.UniqueConstraint("uuid", name="uq_patrols_uuid"),
        sa.ForeignKeyConstraint(["township_id"], ["townships.id"], name="fk_patrols_township_id_townships"),
        sa.ForeignKeyConstraint(["recorded_by_user_id"], ["users.id"], name="fk_patrols_recorded_by_user_id_users"),
        sa.CheckConstraint(f"kind IN ({_in(PatrolKind)})", name="ck_patrols_kind"),
    )
    op.create_index("ix_patrols_started_at_id", "patrols", ["started_at", "id"])
    op.create_index("ix_patrols_township_id_started_at_id", "patrols", ["township_id", "started_at", "id"])
    for table, column, referred in (
        ("patrol_cells", "cell_id", "grid_cells"),
        ("patrol_officers", "officer_id", "officers"),
    ):
        op.create_table(
            table,
            sa.Column("patrol_id", sa.Integer(), nullable=False),
            sa.Column(column, sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("patrol_id", column, name=f"pk_{table}"),
            sa.ForeignKeyConstraint(["patrol_id"], ["patrols.id"], name=f"fk_{table}_patrol_id_patrols"),
            sa.ForeignKeyConstraint([column], [f"{referred}.id"], name=f"fk_{table}_{column}_{referred}"),
        )
        op.create_index(f"ix_{table}_{column}", table, [column])
    op.create_table(
        "patrol_check_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patrol_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("result", sa.String(length=30), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_patrol_check_ins"),
        sa.ForeignKeyConstraint(["patrol_id"], ["patrols.id"], name="fk_patrol_check_ins_patrol_id_patrols"),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name="fk_patrol_check_ins_enterprise_id_enterprises"
        ),
        sa.CheckConstraint(f"result IN ({_in(CheckInResult)})", name="ck_patrol_check_ins_result"),
    )
    op.create_index("ix_patrol_check_ins_patrol_id", "patrol_check_ins", ["patrol_id"])
    op.create_index("ix_patrol_check_ins_enterprise_id_at", "patrol_check_ins", ["enterprise_id", "at"])


def downgrade() -> None:
    op.drop_table("patrol_check_ins")
    op.drop_table("patrol_officers")
    op.drop_table("patrol_cells")
    op.drop_geospatial_table("patrols")
