"""The token check every request makes (`models.reads.PreparedRead`): the right caller, nothing for a revoked token,
and on PostgreSQL a statement prepared on the connection that survives psycopg deallocating everything after a
ROLLBACK. The caller remembered between requests (`models.accounts.callers`) until any account changes. Runs on
SpatiaLite and on PostGIS (see conftest.py)."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session

from api.db import db
from geo.engine import make_engine
from models.accounts import AuthToken
from models.accounts.callers import Callers, callers_of, remember_callers
from models.accounts.tokens import _CALLER_OF_TOKEN, caller_for_token, token_digest
from models.base import utcnow
from models.roles import Caller, Role
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
                    "SELECT count(*) FROM pg_prepared_statements WHERE name = %s", (_CALLER_OF_TOKEN.name.decode(),)
                ).fetchone()
                pooled.close()
                assert prepared == (1,)
    finally:
        engine.dispose()


# ---- the remembered caller (models.accounts.callers) -----------------------------------------------------------------


def _asks(monkeypatch) -> list[int]:
    """Count the token checks that reach the database."""
    asked: list[int] = []
    first = _CALLER_OF_TOKEN.first
    monkeypatch.setattr(_CALLER_OF_TOKEN, "first", lambda *a, **k: asked.append(1) or first(*a, **k))
    return asked


def test_a_checked_token_is_remembered_until_an_account_changes(app, client, monkeypatch):
    token = _token(app, client)
    vera = f.bearer(app, token)
    asked = _asks(monkeypatch)
    for _ in range(3):
        assert vera.get(f"{API}/auth/me").status_code == 200
    assert len(asked) == 1  # asked once, then remembered
    client.post(f"{API}/users", json={"username": "other", "display_name": "O", "password": f.PASSWORD,
                                      "role": "viewer"})  # fmt: skip
    assert vera.get(f"{API}/auth/me").status_code == 200
    assert len(asked) == 2  # an account changed (the admin's own session is untouched, but rows were written)


def test_a_disposed_engine_keeps_remembering(app, client, monkeypatch):
    # Engine.dispose() replaces the pool (the CLI's load does, and tests): the remembered callers stay the engine's
    token = _token(app, client)
    vera = f.bearer(app, token)
    db.engine(app).dispose()
    asked = _asks(monkeypatch)
    for _ in range(3):
        assert vera.get(f"{API}/auth/me").status_code == 200
    assert len(asked) == 1


def _vera_id(client) -> int:
    return next(
        u["id"] for u in client.get(f"{API}/users?page_size=500").get_json()["items"] if u["username"] == "vera"
    )


def test_every_change_of_an_account_reaches_a_remembered_caller_on_the_next_request(app, client):
    token = _token(app, client)
    vera = f.bearer(app, token)
    assert vera.get(f"{API}/auth/me").get_json()["role"] == "viewer"
    assert vera.get(f"{API}/users?page_size=500").status_code == 403  # remembered as a viewer
    vera_id = _vera_id(client)
    etag = client.get(f"{API}/users/{vera_id}").headers["ETag"]
    f.ok(client.patch(f"{API}/users/{vera_id}", json={"role": "county_admin"}, headers={"If-Match": etag}))
    assert vera.get(f"{API}/users?page_size=500").status_code == 200  # the new role, on the very next request
    etag = client.get(f"{API}/users/{vera_id}").headers["ETag"]
    f.ok(client.post(f"{API}/users/{vera_id}/deactivate", headers={"If-Match": etag}))
    assert vera.get(f"{API}/auth/me").status_code == 401


def test_logout_ends_a_remembered_token_at_once(app, client):
    token = _token(app, client)
    vera = f.bearer(app, token)
    assert vera.get(f"{API}/auth/me").status_code == 200
    assert vera.post(f"{API}/auth/logout").status_code == 204
    assert vera.get(f"{API}/auth/me").status_code == 401


def test_a_change_made_in_the_database_by_the_orm_forgets_too(app, client, session):
    token = _token(app, client)
    vera = f.bearer(app, token)
    assert vera.get(f"{API}/auth/me").status_code == 200
    session.execute(update(AuthToken).where(AuthToken.token_hash == token_digest(token)).values(revoked_at=utcnow()))
    session.commit()
    assert vera.get(f"{API}/auth/me").status_code == 401


def test_processes_share_the_epoch_and_a_remembered_caller_never_outlives_its_token(tmp_path):
    here, there = Callers(tmp_path / "epoch", 30), Callers(tmp_path / "epoch", 30)  # two processes' mappings
    vera, now = Caller(7, "vera", Role.VIEWER), utcnow()
    here.remember("d", vera, now + timedelta(minutes=15), here.epoch())
    assert here.get("d", now) == vera
    there.forget_all()  # another process committed a change of accounts
    assert here.get("d", now) is None
    here.remember("d", vera, now + timedelta(minutes=15), here.epoch())
    assert here.get("d", now + timedelta(minutes=15)) is None  # expired
    stale = here.epoch()
    there.forget_all()
    here.remember("d", vera, now + timedelta(minutes=15), stale)  # read before a change committed meanwhile
    assert here.get("d", now) is None
    short = Callers(tmp_path / "epoch", 0.001)
    short.remember("d", vera, now + timedelta(minutes=15), short.epoch())
    time.sleep(0.01)
    assert short.get("d", now) is None  # CALLER_CACHE_SECONDS passed


def test_with_remembering_off_every_request_asks(app, client, monkeypatch):
    token = _token(app, client)
    vera = f.bearer(app, token)
    engine = db.engine(app)
    asked = _asks(monkeypatch)
    remember_callers(engine, directory=Path(app.config["CALLER_CACHE_DIR"]), seconds=0)
    try:
        for _ in range(3):
            assert vera.get(f"{API}/auth/me").status_code == 200
        assert len(asked) == 3
    finally:
        remember_callers(engine, directory=Path(app.config["CALLER_CACHE_DIR"]), seconds=30)


def test_a_directory_that_cannot_hold_the_epoch_turns_remembering_off(app, tmp_path):
    engine = db.engine(app)
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    try:
        remember_callers(engine, directory=blocked / "sub", seconds=30)  # a file where the directory should be
        assert callers_of(engine) is None
    finally:
        remember_callers(engine, directory=Path(app.config["CALLER_CACHE_DIR"]), seconds=30)
    assert callers_of(engine) is not None
