"""The hazard ledger: hazards, the departments that see them, their signed steps.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry, alembic_helpers  # noqa: F401  (registers the geospatial operations)

from models.base import UTCDateTime
from models.hazards.model import Action, DocumentKind, Kind, Severity, Source, Status

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
        sa.Column("referred_department_id", sa.Integer(), nullable=True),
        sa.Column("referral_status", sa.String(length=10), nullable=True),
        sa.Column("interim_measures", sa.Text(), nullable=True),
        sa.Column("extension_deadline", sa.Date(), nullable=True),
        sa.Column("listed_level", sa.String(length=10), nullable=True),
        sa.Column("listed_by", sa.String(length=100), nullable=True),
        sa.Column("listed_document", sa.String(length=60), nullable=True),
        sa.Column("listed_on", sa.Date(), nullable=True),
        sa.Column("listing_lifted_at", UTCDateTime(), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["referred_department_id"], ["departments.id"], name="fk_hazards_referred_department_id_departments"
        ),
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
    op.create_table(
        "enforcement_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("cell_id", sa.Integer(), nullable=True),
        sa.Column("village_id", sa.Integer(), nullable=True),
        sa.Column("township_id", sa.Integer(), nullable=True),
        sa.Column("hazard_ids", sa.JSON(), nullable=False),
        sa.Column("time_limit", sa.Date(), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("signer", sa.String(length=100), nullable=False),
        sa.Column("recorded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_enforcement_documents"),
        sa.UniqueConstraint("number", name="uq_enforcement_documents_number"),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name="fk_enforcement_documents_department_id_departments"
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name="fk_enforcement_documents_enterprise_id_enterprises"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_user_id"], ["users.id"], name="fk_enforcement_documents_recorded_by_user_id_users"
        ),
        sa.CheckConstraint(f"kind IN ({_in(DocumentKind)})", name="ck_enforcement_documents_kind"),
    )
    for name, columns in (
        ("ix_enforcement_documents_issued_on_id", ["issued_on", "id"]),
        ("ix_enforcement_documents_enterprise_id_issued_on_id", ["enterprise_id", "issued_on", "id"]),
        ("ix_enforcement_documents_township_id_issued_on_id", ["township_id", "issued_on", "id"]),
        ("ix_enforcement_documents_department_id", ["department_id"]),
    ):
        op.create_index(name, "enforcement_documents", columns)
    op.create_table(
        "document_hazards",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("hazard_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("document_id", "hazard_id", name="pk_document_hazards"),
        sa.ForeignKeyConstraint(
            ["document_id"], ["enforcement_documents.id"], name="fk_document_hazards_document_id_enforcement_documents"
        ),
        sa.ForeignKeyConstraint(["hazard_id"], ["hazards.id"], name="fk_document_hazards_hazard_id_hazards"),
    )
    op.create_index("ix_document_hazards_hazard_id", "document_hazards", ["hazard_id"])

    op.create_table(
        "hazard_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hazard_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=30), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hazard_photos"),
        sa.ForeignKeyConstraint(["hazard_id"], ["hazards.id"], name="fk_hazard_photos_hazard_id_hazards"),
        sa.ForeignKeyConstraint(["step_id"], ["hazard_steps.id"], name="fk_hazard_photos_step_id_hazard_steps"),
        sa.ForeignKeyConstraint(
            ["uploaded_by_user_id"], ["users.id"], name="fk_hazard_photos_uploaded_by_user_id_users"
        ),
    )
    op.create_index("uq_hazard_photos_hazard_id_sha256", "hazard_photos", ["hazard_id", "sha256"], unique=True)


def downgrade() -> None:
    op.drop_table("hazard_photos")
    op.drop_table("document_hazards")
    op.drop_table("enforcement_documents")
    op.drop_table("hazard_steps")
    op.drop_table("hazard_departments")
    op.drop_geospatial_table("hazards")
