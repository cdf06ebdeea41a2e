"""The hazard ledger: hazards, the departments that see them, their signed steps.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry, alembic_helpers  # noqa: F401  (registers the geospatial operations)

from models.base import UTCDateTime
from models.hazards.model import Action, Kind, Severity, Source, Status

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _in(values: type) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


def upgrade() -> None:
    op.create_geospatial_table(
        "hazards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=30), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("place_description", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("sector", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("found_by_user_id", sa.Integer(), nullable=True),
        sa.Column("found_by", sa.String(length=100), nullable=False),
        sa.Column("found_at", UTCDateTime(), nullable=False),
        sa.Column("location", Geometry("POINT", srid=4326, spatial_index=True), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("cell_id", sa.Integer(), nullable=True),
        sa.Column("village_id", sa.Integer(), nullable=True),
        sa.Column("township_id", sa.Integer(), nullable=True),
        sa.Column("department_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("responsible_person", sa.String(length=100), nullable=True),
        sa.Column("five_implementations", sa.JSON(), nullable=False),
        sa.Column("rectified_by_user_id", sa.Integer(), nullable=True),
        sa.Column("rectified_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_on_time", sa.Boolean(), nullable=True),
        sa.Column("voided_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hazards"),
        sa.UniqueConstraint("number", name="uq_hazards_number"),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"], name="fk_hazards_enterprise_id_enterprises"),
        sa.ForeignKeyConstraint(["sector"], ["sectors.code"], name="fk_hazards_sector_sectors"),
        sa.ForeignKeyConstraint(["found_by_user_id"], ["users.id"], name="fk_hazards_found_by_user_id_users"),
        sa.ForeignKeyConstraint(["rectified_by_user_id"], ["users.id"], name="fk_hazards_rectified_by_user_id_users"),
        sa.ForeignKeyConstraint(["cell_id"], ["grid_cells.id"], name="fk_hazards_cell_id_grid_cells"),
        sa.ForeignKeyConstraint(["village_id"], ["villages.id"], name="fk_hazards_village_id_villages"),
        sa.ForeignKeyConstraint(["township_id"], ["townships.id"], name="fk_hazards_township_id_townships"),
        sa.CheckConstraint(f"kind IN ({_in(Kind)})", name="ck_hazards_kind"),
        sa.CheckConstraint(f"severity IN ({_in(Severity)})", name="ck_hazards_severity"),
        sa.CheckConstraint(f"source IN ({_in(Source)})", name="ck_hazards_source"),
        sa.CheckConstraint(f"status IN ({_in(Status)})", name="ck_hazards_status"),
        sa.CheckConstraint("enterprise_id IS NOT NULL OR place_description IS NOT NULL", name="ck_hazards_where"),
    )
    for name, columns in (
        ("ix_hazards_found_at_id", ["found_at", "id"]),
        ("ix_hazards_township_id_found_at_id", ["township_id", "found_at", "id"]),
        ("ix_hazards_cell_id_found_at_id", ["cell_id", "found_at", "id"]),
        ("ix_hazards_enterprise_id_found_at_id", ["enterprise_id", "found_at", "id"]),
        ("ix_hazards_status_deadline", ["status", "deadline"]),
        ("ix_hazards_sector", ["sector"]),
    ):
        op.create_index(name, "hazards", columns)
    op.create_table(
        "hazard_departments",
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("hazard_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("department_id", "hazard_id", name="pk_hazard_departments"),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name="fk_hazard_departments_department_id_departments"
        ),
        sa.ForeignKeyConstraint(["hazard_id"], ["hazards.id"], name="fk_hazard_departments_hazard_id_hazards"),
    )
    op.create_index("ix_hazard_departments_hazard_id", "hazard_departments", ["hazard_id"])
    op.create_table(
        "hazard_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hazard_id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("signer_user_id", sa.Integer(), nullable=True),
        sa.Column("signer", sa.String(length=100), nullable=False),
        sa.Column("signer_role", sa.String(length=30), nullable=False),
        sa.Column("signed_at", UTCDateTime(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hazard_steps"),
        sa.ForeignKeyConstraint(["hazard_id"], ["hazards.id"], name="fk_hazard_steps_hazard_id_hazards"),
        sa.ForeignKeyConstraint(["signer_user_id"], ["users.id"], name="fk_hazard_steps_signer_user_id_users"),
        sa.CheckConstraint(f"action IN ({_in(Action)})", name="ck_hazard_steps_action"),
    )
    op.create_index("ix_hazard_steps_hazard_id_id", "hazard_steps", ["hazard_id", "id"])


def downgrade() -> None:
    op.drop_table("hazard_steps")
    op.drop_table("hazard_departments")
    op.drop_geospatial_table("hazards")
