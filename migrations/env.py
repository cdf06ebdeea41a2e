"""Alembic environment: runs on the engine handed over in `config.attributes` (see models/schema.py)."""

from alembic import context
from geoalchemy2 import alembic_helpers

from models import Base
from models.schema import include_object

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()
