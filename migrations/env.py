"""Alembic environment: runs on the engine handed over in `config.attributes` (see models/schema.py)."""

from alembic import context
from geoalchemy2 import alembic_helpers

from models import Base
from models.schema import include_object

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration copies a table (SQLite changes a constraint no other way): the rows pointing at it must
        # not be checked while it is dropped and renamed. Checked as a whole after the migration instead.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # outside any transaction
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        render_as_batch=sqlite,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:10]}")
    if sqlite:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys = ON")
