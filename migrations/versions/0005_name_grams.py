"""Name search: the one- and two-character grams of every searchable name (see models/search.py), filled from the
records already there.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# kind, table, sort key: the searchable records when this migration was written
SEARCHABLE = (
    ("township", "townships", "code"),
    ("village", "villages", "code"),
    ("grid_cell", "grid_cells", "code"),
    ("officer", "officers", "name"),
)
BATCH = 20_000


def grams_of(name: str) -> set[str]:
    """As models.search.grams_of (frozen here, as a migration must be): the distinct 1- and 2-character
    substrings of the lowered name."""
    text = name.lower()
    return {text[i : i + n] for n in (1, 2) for i in range(len(text) - n + 1)}


def upgrade() -> None:
    grams = op.create_table(
        "name_grams",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("gram", sa.String(length=2), nullable=False),
        sa.Column("sort_key", sa.String(length=200), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "gram", "sort_key", "entity_id", name="pk_name_grams"),
        sqlite_with_rowid=False,
    )
    # Filled in Python, with the same lowering as every later write (the hook in models.search), on both backends.
    connection = op.get_bind()
    for kind, table, sort_key in SEARCHABLE:
        records = connection.execute(sa.text(f"SELECT id, name, {sort_key} FROM {table} ORDER BY id")).all()
        rows: list[dict] = []
        for entity_id, name, key in records:
            rows += [{"kind": kind, "gram": g, "sort_key": key, "entity_id": entity_id} for g in grams_of(name)]
            if len(rows) >= BATCH:
                connection.execute(grams.insert(), rows)
                rows = []
        if rows:
            connection.execute(grams.insert(), rows)
    # How rare each gram is: the planners choose between a gram's postings and another filter's index by it.
    op.execute("ANALYZE name_grams")


def downgrade() -> None:
    op.drop_table("name_grams")
