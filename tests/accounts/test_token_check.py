"""The token check every request makes (`models.base.PreparedRead`): the right caller, nothing for a revoked token,
and on PostgreSQL a statement prepared on the connection that survives psycopg deallocating everything after a
ROLLBACK. Runs on SpatiaLite and on PostGIS (see conftest.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.db import db
from geo.engine import make_engine
from models.accounts.tokens import _CALLER_OF_TOKEN, caller_for_token, token_digest
from models.base import utcnow
from models.roles import Role
from tests import factories as f
from tests.factories import API


def _token(app, client) -> str:
    f.add_user(app, Role.VIEWER, username="vera")
    answer = client.post(f"{API}/auth/token", json={"username": "vera", "password": f.PASSWORD})
    return answer.get_json()["access_token"]


def test_the_check_answers_the_caller_and_nothing_once_the_token_is_revoked(app, client):
    token = _token(app, client)
    with db.new_session(app) as session:
        caller = caller_for_token(session, access_token=token)
        assert (caller.username, caller.role) == ("vera", Role.VIEWER)
        assert caller_for_token(session, access_token=token + "x") is None
    assert client.post(f"{API}/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code == 204
    with db.new_session(app) as session:
        assert caller_for_token(session, access_token=token) is None


def test_the_check_prepares_its_statement_again_when_the_connection_lost_it(app, client, backend):
    token = _token(app, client)
    engine = make_engine(db.engine(app).url.render_as_string(hide_password=False), pool_size=1, max_overflow=0)
    try:
        with Session(engine) as session:
            first = _CALLER_OF_TOKEN.first(session, digest=token_digest(token), now=utcnow())
            if backend == "postgis":  # what psycopg does after a ROLLBACK, on the one connection of this pool
                pooled = engine.raw_connection()
                pooled.dbapi_connection.execute("DEALLOCATE ALL")
                pooled.close()
            again = _CALLER_OF_TOKEN.first(session, digest=token_digest(token), now=utcnow())
            assert first is not None and again == first
            if backend == "postgis":
                pooled = engine.raw_connection()
                prepared = pooled.dbapi_connection.execute(
                    "SELECT count(*) FROM pg_prepared_statements WHERE name = %s", (_CALLER_OF_TOKEN._name.decode(),)
                ).fetchone()
                pooled.close()
                assert prepared == (1,)
    finally:
        engine.dispose()
