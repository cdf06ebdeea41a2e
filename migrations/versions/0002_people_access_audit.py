"""People and access: officers, grid assignments with their history, users, login sessions, the audit trail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from models.base import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _partial_unique(name: str, table: str, columns: list[str], where: str) -> None:
    """A unique index over the rows matching `where` (both backends support partial indexes)."""
    op.create_index(name, table, columns, unique=True, sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def upgrade() -> None:
    op.create_table(
        "officers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("mobile", sa.String(length=11), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=50), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("deactivated_at", UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["township_id"], ["townships.id"], name="fk_officers_township_id_townships"),
        sa.PrimaryKeyConstraint("id", name="pk_officers"),
    )
    op.create_index("ix_officers_name", "officers", ["name"])
    op.create_index("ix_officers_township_id", "officers", ["township_id"])
    _partial_unique("uq_officers_mobile_active", "officers", ["mobile"], "deactivated_at IS NULL")

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=50), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=True),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("password_changed_at", UTCDateTime(), nullable=False),
        sa.Column("deactivated_at", UTCDateTime(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "role IN ('county_admin', 'township_leader', 'grid_officer', 'viewer')", name="ck_users_role"
        ),
        sa.ForeignKeyConstraint(["officer_id"], ["officers.id"], name="fk_users_officer_id_officers"),
        sa.ForeignKeyConstraint(["township_id"], ["townships.id"], name="fk_users_township_id_townships"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_index("ix_users_township_id", "users", ["township_id"])
    _partial_unique(
        "uq_users_officer_id_active", "users", ["officer_id"], "deactivated_at IS NULL AND officer_id IS NOT NULL"
    )

    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("client", sa.String(length=200), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoke_reason", sa.String(length=50), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_auth_sessions_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_auth_sessions"),
    )
    op.create_index("ix_auth_sessions_user_id", "auth_sessions", ["user_id"])

    op.create_table(
        "auth_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('access', 'refresh')", name="ck_auth_tokens_kind"),
        sa.ForeignKeyConstraint(["session_id"], ["auth_sessions.id"], name="fk_auth_tokens_session_id_auth_sessions"),
        sa.PrimaryKeyConstraint("id", name="pk_auth_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_auth_tokens_token_hash"),
    )
    op.create_index("ix_auth_tokens_parent_id", "auth_tokens", ["parent_id"])
    op.create_index("ix_auth_tokens_session_id", "auth_tokens", ["session_id"])

    op.create_table(
        "grid_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cell_id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_to", UTCDateTime(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("assigned_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.Column("end_reason", sa.String(length=500), nullable=True),
        sa.Column("correction_reason", sa.String(length=500), nullable=True),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("superseded_at", UTCDateTime(), nullable=True),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("role IN ('owner', 'member')", name="ck_grid_assignments_role"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="ck_grid_assignments_interval"),
        sa.ForeignKeyConstraint(["cell_id"], ["grid_cells.id"], name="fk_grid_assignments_cell_id_grid_cells"),
        sa.ForeignKeyConstraint(["officer_id"], ["officers.id"], name="fk_grid_assignments_officer_id_officers"),
        sa.ForeignKeyConstraint(["township_id"], ["townships.id"], name="fk_grid_assignments_township_id_townships"),
        sa.ForeignKeyConstraint(["assigned_by_id"], ["users.id"], name="fk_grid_assignments_assigned_by_id_users"),
        sa.ForeignKeyConstraint(["ended_by_id"], ["users.id"], name="fk_grid_assignments_ended_by_id_users"),
        sa.ForeignKeyConstraint(["superseded_by_id"], ["users.id"], name="fk_grid_assignments_superseded_by_id_users"),
        sa.ForeignKeyConstraint(
            ["corrects_id"], ["grid_assignments.id"], name="fk_grid_assignments_corrects_id_grid_assignments"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_grid_assignments"),
    )
    op.create_index("ix_grid_assignments_cell_id_valid_from", "grid_assignments", ["cell_id", "valid_from"])
    op.create_index("ix_grid_assignments_officer_id", "grid_assignments", ["officer_id"])
    op.create_index("ix_grid_assignments_township_id", "grid_assignments", ["township_id"])
    op.create_index("ix_grid_assignments_corrects_id", "grid_assignments", ["corrects_id"])
    # The database holds at most one current owner per cell, and one current assignment per officer and cell.
    _partial_unique(
        "uq_grid_assignments_current_owner",
        "grid_assignments",
        ["cell_id"],
        "role = 'owner' AND valid_to IS NULL AND superseded_at IS NULL",
    )
    _partial_unique(
        "uq_grid_assignments_current_officer",
        "grid_assignments",
        ["cell_id", "officer_id"],
        "valid_to IS NULL AND superseded_at IS NULL",
    )

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=50), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("entity_type", sa.String(length=30), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=True),
        sa.Column("before", JSON, nullable=True),
        sa.Column("after", JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_occurred_at", "audit_events", ["occurred_at"])
    op.create_index("ix_audit_events_actor_user_id", "audit_events", ["actor_user_id"])
    op.create_index("ix_audit_events_township_id", "audit_events", ["township_id"])
    op.create_index("ix_audit_events_entity_type_entity_id", "audit_events", ["entity_type", "entity_id"])


def downgrade() -> None:
    for table in ("audit_events", "grid_assignments", "auth_tokens", "auth_sessions", "users", "officers"):
        op.drop_table(table)
