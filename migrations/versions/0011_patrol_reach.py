"""Patrols: the area within 50 m of the track, stored with each record for coverage (WKB; none for the records
stored before: coverage computes theirs when it needs them).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("patrols", sa.Column("reach", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("patrols", "reach")
