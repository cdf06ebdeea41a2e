"""Duty rosters: one per unit and period, their shifts as they stand and the people on them, and every revision
submitted, whole; a period's county duty desk (its phone, the department whose roster staffs it).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.{'year' if target == 'holiday_years' else 'id'}"],
                                   name=f"fk_{table}_{column}_{target}")  # fmt: skip


def _unit_columns() -> list[sa.Column]:
    return [
        sa.Column("township_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("duty_periods") as batch:
        batch.add_column(sa.Column("desk_phone", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("desk_department_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_duty_periods_desk_department_id_departments", "departments", ["desk_department_id"], ["id"]
        )
    op.create_table(
        "duty_rosters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        *_unit_columns(),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("first_submitted_at", UTCDateTime(), nullable=True),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by_user_id", sa.Integer(), nullable=True),
        sa.Column("return_reason", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_duty_rosters"),
        _fk("duty_rosters", "period_id", "duty_periods"),
        _fk("duty_rosters", "township_id", "townships"),
        _fk("duty_rosters", "department_id", "departments"),
        _fk("duty_rosters", "decided_by_user_id", "users"),
        _fk("duty_rosters", "created_by_user_id", "users"),
        sa.CheckConstraint("(township_id IS NULL) <> (department_id IS NULL)", name="ck_duty_rosters_one_unit"),
        sa.CheckConstraint("status IN ('draft', 'submitted', 'approved', 'returned')", name="ck_duty_rosters_status"),
    )
    op.create_index("uq_duty_rosters_period_township", "duty_rosters", ["period_id", "township_id"], unique=True)
    op.create_index("uq_duty_rosters_period_department", "duty_rosters", ["period_id", "department_id"], unique=True)
    op.create_index("ix_duty_rosters_township_id", "duty_rosters", ["township_id"])
    op.create_table(
        "duty_roster_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("roster_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        *_unit_columns(),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("submitted_by_user_id", sa.Integer(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("shifts", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by_user_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_duty_roster_revisions"),
        _fk("duty_roster_revisions", "roster_id", "duty_rosters"),
        _fk("duty_roster_revisions", "township_id", "townships"),
        _fk("duty_roster_revisions", "department_id", "departments"),
        _fk("duty_roster_revisions", "submitted_by_user_id", "users"),
        _fk("duty_roster_revisions", "decided_by_user_id", "users"),
    )
    op.create_index("uq_duty_roster_revisions_roster_number", "duty_roster_revisions", ["roster_id", "number"],
                    unique=True)  # fmt: skip
    op.create_table(
        "duty_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("roster_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        *_unit_columns(),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_duty_shifts"),
        _fk("duty_shifts", "roster_id", "duty_rosters"),
        _fk("duty_shifts", "period_id", "duty_periods"),
        _fk("duty_shifts", "township_id", "townships"),
        _fk("duty_shifts", "department_id", "departments"),
        sa.CheckConstraint("ends_at > starts_at", name="ck_duty_shifts_ends_after_start"),
    )
    op.create_index("ix_duty_shifts_roster_id_starts_at", "duty_shifts", ["roster_id", "starts_at"])
    op.create_index("ix_duty_shifts_period_id", "duty_shifts", ["period_id"])
    op.create_index("ix_duty_shifts_township_id_starts_at", "duty_shifts", ["township_id", "starts_at"])
    op.create_index("ix_duty_shifts_department_id_starts_at", "duty_shifts", ["department_id", "starts_at"])
    op.create_table(
        "duty_shift_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("roster_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_duty_shift_people"),
        _fk("duty_shift_people", "shift_id", "duty_shifts"),
        _fk("duty_shift_people", "roster_id", "duty_rosters"),
        _fk("duty_shift_people", "period_id", "duty_periods"),
        _fk("duty_shift_people", "officer_id", "officers"),
        _fk("duty_shift_people", "user_id", "users"),
        sa.CheckConstraint("(officer_id IS NULL) <> (user_id IS NULL)", name="ck_duty_shift_people_one_person"),
        sa.CheckConstraint("role IN ('leader', 'officer')", name="ck_duty_shift_people_role"),
    )
    op.create_index("ix_duty_shift_people_shift_id", "duty_shift_people", ["shift_id"])
    op.create_index("ix_duty_shift_people_roster_id", "duty_shift_people", ["roster_id"])
    op.create_index("ix_duty_shift_people_period_id", "duty_shift_people", ["period_id"])


def downgrade() -> None:
    op.drop_table("duty_shift_people")
    op.drop_table("duty_shifts")
    op.drop_table("duty_roster_revisions")
    op.drop_table("duty_rosters")
    with op.batch_alter_table("duty_periods") as batch:
        batch.drop_constraint("fk_duty_periods_desk_department_id_departments", type_="foreignkey")
        batch.drop_column("desk_department_id")
        batch.drop_column("desk_phone")
