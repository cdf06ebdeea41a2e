"""The schema comes from the migrations, matches the models, and migrates down and up again on both backends."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from api.db import db
from models import Base
from models.roles import Role
from models.schema import downgrade, include_object, upgrade
from tests import factories as f
from tests.factories import API

TABLES = {
    "townships",
    "villages",
    "grid_cells",
    "officers",
    "grid_assignments",
    "users",
    "auth_sessions",
    "auth_tokens",
    "audit_events",
    "idempotency_keys",
    "name_grams",
    "sectors",
    "departments",
    "enterprises",
    "enterprise_departments",
}


def test_the_migrated_schema_matches_the_models(app):
    with db.engine(app).connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object, "compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_migrations_go_down_to_nothing_and_up_again(app, client):
    engine = db.engine(app)
    downgrade(engine, "base")
    with engine.connect() as connection:
        assert TABLES.isdisjoint(inspect(connection).get_table_names())
    upgrade(engine)
    engine.dispose()  # SpatiaLite caches geometry metadata per connection
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) >= TABLES
    # and the rebuilt schema works, spatial index included (the accounts went down with it: log in anew)
    client = f.login_as(app, Role.COUNTY_ADMIN, username="again")

    township = f.township(client)
    lon, lat = f.at(10, 10)
    village = f.village(client, township["id"])
    f.cell(client, village["id"])
    answer = client.get(f"{API}/grid-cells/locate?lon={lon}&lat={lat}")
    assert answer.status_code == 200, answer.get_json()
