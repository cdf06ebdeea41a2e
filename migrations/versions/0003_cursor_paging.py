"""Cursor paging: an index behind the order of every list that grows without bound, with its filters.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_grid_assignments_valid_from_id", "grid_assignments", ["valid_from", "id"])
    op.drop_index("ix_officers_name", table_name="officers")
    op.create_index("ix_officers_name_id", "officers", ["name", "id"])
    op.drop_index("ix_audit_events_actor_user_id", table_name="audit_events")
    op.create_index("ix_audit_events_actor_user_id_id", "audit_events", ["actor_user_id", "id"])
    op.drop_index("ix_audit_events_township_id", table_name="audit_events")
    op.create_index("ix_audit_events_township_id_id", "audit_events", ["township_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_township_id_id", table_name="audit_events")
    op.create_index("ix_audit_events_township_id", "audit_events", ["township_id"])
    op.drop_index("ix_audit_events_actor_user_id_id", table_name="audit_events")
    op.create_index("ix_audit_events_actor_user_id", "audit_events", ["actor_user_id"])
    op.drop_index("ix_officers_name_id", table_name="officers")
    op.create_index("ix_officers_name", "officers", ["name"])
    op.drop_index("ix_grid_assignments_valid_from_id", table_name="grid_assignments")
