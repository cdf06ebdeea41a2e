"""The official holiday calendar: the years a county administrator entered from the State Council's notice, and
their days (a holiday's days off, the weekend days worked in exchange).

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


def downgrade() -> None:
    op.drop_table("holiday_days")
    op.drop_table("holiday_years")
