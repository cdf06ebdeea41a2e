"""Departments and sectors; department staff accounts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime
from models.departments.model import seeded_sector_rows

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_OLD_ROLES = "'county_admin', 'township_leader', 'grid_officer', 'viewer'"
_NEW_ROLES = _OLD_ROLES + ", 'department_staff'"
# Migration 0002 named it twice over (the naming convention prefixed a name that had its prefix already): kept as it
# was, so that down and up again meet the same name.
_OLD_CHECK = "ck_users_ck_users_role"


def upgrade() -> None:
    sectors = op.create_table(
        "sectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sectors"),
        sa.UniqueConstraint("code", name="uq_sectors_code"),
        sa.UniqueConstraint("name", name="uq_sectors_name"),
    )
    now = datetime.now(UTC)
    op.bulk_insert(sectors, seeded_sector_rows(now))
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("duty_phone", sa.String(length=20), nullable=True),
        sa.Column("sectors", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_departments"),
        sa.UniqueConstraint("code", name="uq_departments_code"),
        sa.UniqueConstraint("name", name="uq_departments_name"),
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("department_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_users_department_id_departments", "departments", ["department_id"], ["id"])
        batch.create_index("ix_users_department_id", ["department_id"])
        batch.drop_constraint(op.f(_OLD_CHECK), type_="check")
        batch.create_check_constraint("role", f"role IN ({_NEW_ROLES})")


def downgrade() -> None:
    # The old roles have no department staff: their accounts become deactivated viewers (a viewer without a township
    # would see the whole county; deactivated, it sees nothing and keeps its history).
    op.execute(
        sa.text(
            "UPDATE users SET role = 'viewer', deactivated_at = COALESCE(deactivated_at, CURRENT_TIMESTAMP) "
            "WHERE role = 'department_staff'"
        )
    )
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_role"), type_="check")
        batch.create_check_constraint(op.f(_OLD_CHECK), f"role IN ({_OLD_ROLES})")
        batch.drop_index("ix_users_department_id")
        batch.drop_constraint("fk_users_department_id_departments", type_="foreignkey")
        batch.drop_column("department_id")
    op.drop_table("departments")
    op.drop_table("sectors")
