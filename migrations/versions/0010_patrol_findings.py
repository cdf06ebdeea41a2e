"""Patrols: travel mode, plausibility flags, the share of the track inside its cells; check-ins' distance from their
enterprise and their place in the record; findings (the hazards a patrol reported) and photos sent after the record.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Columns added in place (SQLite's ALTER TABLE ADD COLUMN: no copy of the spatial table). Records stored before
    # read as walked, without figures or flags; the server defaults only fill them in. The travel mode has no CHECK
    # (SQLite adds none to a table in place): only the upload, whose schema checks it, writes it.
    op.add_column("patrols", sa.Column("travel_mode", sa.String(length=10), nullable=False, server_default="walking"))
    op.add_column("patrols", sa.Column("share_inside", sa.Float(), nullable=True))
    op.add_column("patrols", sa.Column("flags", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("patrols", sa.Column("flag_codes", sa.String(length=200), nullable=False, server_default=" "))
    op.add_column("patrol_check_ins", sa.Column("distance_m", sa.Float(), nullable=True))
    op.add_column("patrol_check_ins", sa.Column("seq", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "patrol_findings",
        sa.Column("hazard_id", sa.Integer(), nullable=False),
        sa.Column("patrol_id", sa.Integer(), nullable=False),
        sa.Column("check_in_id", sa.Integer(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hazard_id", name="pk_patrol_findings"),
        sa.ForeignKeyConstraint(["hazard_id"], ["hazards.id"], name="fk_patrol_findings_hazard_id_hazards"),
        sa.ForeignKeyConstraint(["patrol_id"], ["patrols.id"], name="fk_patrol_findings_patrol_id_patrols"),
        sa.ForeignKeyConstraint(
            ["check_in_id"], ["patrol_check_ins.id"], name="fk_patrol_findings_check_in_id_patrol_check_ins"
        ),
    )
    op.create_index("ix_patrol_findings_patrol_id", "patrol_findings", ["patrol_id"])
    op.create_index("ix_patrol_findings_check_in_id", "patrol_findings", ["check_in_id"])
    op.create_table(
        "patrol_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patrol_id", sa.Integer(), nullable=False),
        sa.Column("check_in_id", sa.Integer(), nullable=True),
        sa.Column("hazard_id", sa.Integer(), nullable=True),
        sa.Column("hazard_photo_id", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=30), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_patrol_photos"),
        sa.ForeignKeyConstraint(["patrol_id"], ["patrols.id"], name="fk_patrol_photos_patrol_id_patrols"),
        sa.ForeignKeyConstraint(
            ["check_in_id"], ["patrol_check_ins.id"], name="fk_patrol_photos_check_in_id_patrol_check_ins"
        ),
        sa.ForeignKeyConstraint(["hazard_id"], ["hazards.id"], name="fk_patrol_photos_hazard_id_hazards"),
        sa.ForeignKeyConstraint(
            ["hazard_photo_id"], ["hazard_photos.id"], name="fk_patrol_photos_hazard_photo_id_hazard_photos"
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_user_id"], ["users.id"], name="fk_patrol_photos_uploaded_by_user_id_users"
        ),
    )
    op.create_index("ix_patrol_photos_patrol_id_sha256", "patrol_photos", ["patrol_id", "sha256"])


def downgrade() -> None:
    op.drop_table("patrol_photos")
    op.drop_table("patrol_findings")
    for column in ("seq", "distance_m"):
        op.drop_column("patrol_check_ins", column)
    for column in ("flag_codes", "flags", "share_inside", "travel_mode"):
        op.drop_column("patrols", column)
