"""Enterprises, their supervising departments, their derived place.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry, alembic_helpers  # noqa: F401  (registers the geospatial operations)

from models.base import UTCDateTime
from models.enterprises.model import KeyLevel, RiskLevel, Scale, Status

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _in(values: type) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


def upgrade() -> None:
    op.create_geospatial_table(
        "enterprises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("sector", sa.String(length=40), nullable=False),
        sa.Column("department_ids", sa.JSON(), nullable=False),
        sa.Column("departments_set", sa.Boolean(), nullable=False),
        sa.Column("risk_level", sa.String(length=10), nullable=False),
        sa.Column("major_hazard_grade", sa.Integer(), nullable=True),
        sa.Column("key_level", sa.String(length=10), nullable=False),
        sa.Column("scale", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("licence_number", sa.String(length=50), nullable=True),
        sa.Column("licence_expires_on", sa.Date(), nullable=True),
        sa.Column("legal_representative", sa.String(length=50), nullable=True),
        sa.Column("safety_manager", sa.String(length=50), nullable=True),
        sa.Column("duty_phone", sa.String(length=20), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("location", Geometry("POINT", srid=4326, spatial_index=True), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("cell_id", sa.Integer(), nullable=True),
        sa.Column("village_id", sa.Integer(), nullable=True),
        sa.Column("township_id", sa.Integer(), nullable=True),
        sa.Column("liaison_leader", sa.String(length=100), nullable=True),
        sa.Column("liaison_department_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("close_reason", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_enterprises"),
        sa.ForeignKeyConstraint(["sector"], ["sectors.code"], name="fk_enterprises_sector_sectors"),
        sa.ForeignKeyConstraint(["cell_id"], ["grid_cells.id"], name="fk_enterprises_cell_id_grid_cells"),
        sa.ForeignKeyConstraint(["village_id"], ["villages.id"], name="fk_enterprises_village_id_villages"),
        sa.ForeignKeyConstraint(["township_id"], ["townships.id"], name="fk_enterprises_township_id_townships"),
        sa.ForeignKeyConstraint(
            ["liaison_department_id"], ["departments.id"], name="fk_enterprises_liaison_department_id_departments"
        ),
        sa.CheckConstraint(f"risk_level IN ({_in(RiskLevel)})", name="ck_enterprises_risk_level"),
        sa.CheckConstraint(f"key_level IN ({_in(KeyLevel)})", name="ck_enterprises_key_level"),
        sa.CheckConstraint(f"scale IS NULL OR scale IN ({_in(Scale)})", name="ck_enterprises_scale"),
        sa.CheckConstraint(f"status IN ({_in(Status)})", name="ck_enterprises_status"),
        sa.CheckConstraint(
            "major_hazard_grade IS NULL OR major_hazard_grade BETWEEN 1 AND 4", name="ck_enterprises_major_hazard"
        ),
    )
    op.create_index(
        "uq_enterprises_credit_code_live",
        "enterprises",
        ["credit_code"],
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    for name, columns in (
        ("ix_enterprises_township_id_name_id", ["township_id", "name", "id"]),
        ("ix_enterprises_cell_id_name_id", ["cell_id", "name", "id"]),
        ("ix_enterprises_village_id_name_id", ["village_id", "name", "id"]),
        ("ix_enterprises_name_id", ["name", "id"]),
        ("ix_enterprises_sector", ["sector"]),
        ("ix_enterprises_risk_level", ["risk_level"]),
        ("ix_enterprises_licence_expires_on", ["licence_expires_on"]),
    ):
        op.create_index(name, "enterprises", columns)
    op.create_table(
        "enterprise_departments",
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("department_id", "enterprise_id", name="pk_enterprise_departments"),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name="fk_enterprise_departments_department_id_departments"
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name="fk_enterprise_departments_enterprise_id_enterprises"
        ),
    )
    op.create_index("ix_enterprise_departments_enterprise_id", "enterprise_departments", ["enterprise_id"])


def downgrade() -> None:
    op.drop_table("enterprise_departments")
    op.drop_geospatial_table("enterprises")
