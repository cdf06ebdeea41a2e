"""The official holiday calendar: the years a county administrator entered from the State Council's notice, and
their days (a holiday's days off, the weekend days worked in exchange); duty periods and the units that submit a
roster for each.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_HOLIDAYS = (
    "new_years_day", "spring_festival", "tomb_sweeping_day", "labour_day", "dragon_boat_festival", "national_day",
    "mid_autumn_festival", "anti_fascist_70th_day",
)  # fmt: skip


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    op.create_table(
        "holiday_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("notice", sa.Text(), nullable=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("replaces_package", sa.Boolean(), nullable=False),
        sa.Column("entered_by_user_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name="pk_holiday_years"),
        sa.ForeignKeyConstraint(["entered_by_user_id"], ["users.id"], name="fk_holiday_years_entered_by_user_id_users"),
    )
    op.create_table(
        "holiday_days",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("holiday", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("year", "day", name="pk_holiday_days"),
        sa.ForeignKeyConstraint(["year"], ["holiday_years.year"], name="fk_holiday_days_year_holiday_years"),
        sa.CheckConstraint("kind IN ('day_off', 'working_day')", name="ck_holiday_days_kind"),
        sa.CheckConstraint(f"holiday IN ({_in(_HOLIDAYS)})", name="ck_holiday_days_holiday"),
    )

    op.create_table(
        "duty_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=False),
        sa.Column("shift_start", sa.String(length=5), nullable=False),
        sa.Column("split_at", sa.String(length=5), nullable=True),
        sa.Column("leader_required", sa.Boolean(), nullable=False),
        sa.Column("holiday", sa.String(length=30), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_duty_periods"),
        sa.ForeignKeyConstraint(["created_by_user_id"], ["users.id"], name="fk_duty_periods_created_by_user_id_users"),
        sa.CheckConstraint("ends_at > starts_at", name="ck_duty_periods_ends_after_start"),
    )
    op.create_index("ix_duty_periods_starts_at", "duty_periods", ["starts_at"])
    op.create_index(
        "uq_duty_periods_name_live",
        "duty_periods",
        ["name"],
        unique=True,
        sqlite_where=sa.text("cancelled_at IS NULL"),
        postgresql_where=sa.text("cancelled_at IS NULL"),
    )
    op.create_table(
        "duty_period_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_duty_period_units"),
        sa.ForeignKeyConstraint(["period_id"], ["duty_periods.id"], name="fk_duty_period_units_period_id_duty_periods"),
        sa.ForeignKeyConstraint(["township_id"], ["townships.id"], name="fk_duty_period_units_township_id_townships"),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name="fk_duty_period_units_department_id_departments"
        ),
        sa.CheckConstraint("(township_id IS NULL) <> (department_id IS NULL)", name="ck_duty_period_units_one_unit"),
    )
    op.create_index("ix_duty_period_units_period_id", "duty_period_units", ["period_id"])


def downgrade() -> None:
    op.drop_table("duty_period_units")
    op.drop_table("duty_periods")
    op.drop_table("holiday_days")
    op.drop_table("holiday_years")
