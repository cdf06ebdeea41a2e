"""`models.reads.read_rows`: the same rows as `session.execute`, whatever the statement's shape and values, inside
and outside the session's transaction, after psycopg deallocated its statements, and for the shapes it leaves to
the ordinary path (an IN of a list). Runs on SpatiaLite and on PostGIS (see conftest.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from models.base import utcnow
from models.reads import read_rows
from models.territory.model import Township, Village


def _expected(session, stmt) -> list[dict]:
    return [dict(row) for row in session.execute(stmt).mappings()]


def test_read_rows_answers_what_execute_answers(world, session):
    now = utcnow()
    statements = [
        select(Township.id, Township.code, Township.name, Township.created_at).order_by(Township.code),
        select(Village.id, Village.name).where(Village.code.like("430199101%")).order_by(Village.id),
        select(Village.id).where(Village.created_at < now + timedelta(days=1), Village.retired_at.is_(None)),
        select(Village.id, func.lower(Village.name).label("lowered")).where(Village.id > 0).limit(1),
        select(Township.id).where(Township.name == "no such town"),
    ]
    for stmt in statements:
        expected = _expected(session, stmt)
        session.rollback()
        assert read_rows(session, stmt) == expected  # outside a transaction: a pooled connection
        assert read_rows(session, stmt) == expected  # again: the shape compiled (and on PostgreSQL prepared)
    # the same shape with other values answers for those values
    one = select(Village.id).where(Village.code == "430199101201")
    other = select(Village.id).where(Village.code == "430199102201")
    assert read_rows(session, one) == [{"id": world["vA1"]}]
    assert read_rows(session, other) == [{"id": world["vB1"]}]


def test_read_rows_in_a_transaction_sees_its_changes_and_outlives_a_rollback(world, session):
    stmt = select(Township.name).where(Township.id == world["tA"])
    assert read_rows(session, stmt) == [{"name": "青山镇"}]
    session.execute(update(Township).where(Township.id == world["tA"]).values(name="改名镇"))
    assert read_rows(session, stmt) == [{"name": "改名镇"}]  # inside the transaction: its own change
    session.rollback()  # psycopg deallocates every prepared statement of the connection after a ROLLBACK
    assert read_rows(session, stmt) == [{"name": "青山镇"}]
    session.execute(select(1))  # a transaction again
    assert read_rows(session, stmt) == [{"name": "青山镇"}]
    fresh = select(Township.code).where(Township.id == world["tB"], Township.name != "x")  # a shape never run
    assert read_rows(session, fresh) == [{"code": "430199102"}]  # in a transaction: the ordinary path first
    session.rollback()


def test_an_in_of_a_list_takes_the_ordinary_path(world, session):
    stmt = select(Village.id).where(Village.id.in_([world["vA1"], world["vB1"]])).order_by(Village.id)
    assert read_rows(session, stmt) == [{"id": i} for i in sorted([world["vA1"], world["vB1"]])]
