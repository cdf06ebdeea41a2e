"""Declarative base, column types shared by all tables, and the write-transaction helper."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from enum import Enum
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.types import TypeDecorator

from models.errors import PreconditionFailed
from models.locks import LockKey

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored in UTC on both backends (SQLite keeps no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give an offset")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        # SQLite hands back the text SQLAlchemy stored ("2026-12-04 14:13:17.247310", UTC): read by the C parser,
        # not SQLAlchemy's regular expression (a tenth of a list's reading), its zone with it (0.2 µs, not 1 µs
        # with a replace() after); a text that already has a zone, as before
        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            try:
                return datetime.fromisoformat(value + "+00:00")
            except ValueError:
                return datetime.fromisoformat(value).replace(tzinfo=UTC)

        return process


def sql_values(values: type[Enum]) -> str:
    """The values of an enum as a SQL list (`'red', 'orange'`), for the CHECK constraint that keeps a column to them."""
    return ", ".join(f"'{v.value}'" for v in values)


UNSET: Any = object()  # a keyword argument left out, where None is a value ("clear the title")


def utcnow() -> datetime:
    return datetime.now(UTC)


@cache
def county_zone() -> ZoneInfo:
    """The county's time zone (COUNTY_TIMEZONE, Asia/Shanghai by default): where days, years and deadlines are
    reckoned. Instants are stored in UTC."""
    return ZoneInfo(os.environ.get("COUNTY_TIMEZONE") or "Asia/Shanghai")


def county_today() -> date:
    """Today's date in the county."""
    return datetime.now(county_zone()).date()


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def write_transaction(session: Session, *lock_keys: LockKey) -> None:
    """Start the transaction of a write that checks before it writes, so the check cannot go stale.

    SQLite: BEGIN IMMEDIATE takes the database's single write lock before the first read.
    PostgreSQL: a transaction-scoped advisory lock per key (see `models.locks`) serialises writers of the same scope
    (e.g. the cells of one village) while other scopes go on in parallel. The keys are taken in the one global
    order; a later call in the same transaction may only add kinds that come after those already held (or keys it
    holds already).
    A read transaction already open (say, the caller's user was loaded) is ended first: its reads were made
    without the lock, so the write re-reads what it checks. Unflushed changes there would be a bug.
    """
    if session.in_transaction() and not session.info.get("write_transaction"):
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("write_transaction() called with unsaved changes in a read transaction")
        session.commit()
    if not session.in_transaction():
        # (PostgreSQL: a request's session reads in autocommit, see api.db; a write is a transaction)
        level = {"isolation_level": "READ COMMITTED"} if dialect_of(session) == "postgresql" else {}
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE", **level})
        session.info["write_transaction"] = True
    if not all(isinstance(key, LockKey) for key in lock_keys):
        raise TypeError("lock keys are built by models.locks")
    held: list[LockKey] = session.info.setdefault("locks_held", [])
    keys = sorted(set(lock_keys) - set(held))  # (a key already held is held: a patrol's findings report one by one)
    if keys and held and keys[0].rank < max(held).rank:
        raise RuntimeError(f"lock {keys[0]} taken after {max(held)}: out of the order in models.locks")
    held.extend(keys)
    if dialect_of(session) == "postgresql":
        for key in keys:
            session.execute(_ADVISORY_LOCK, {"k": key.advisory_id})


_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:k)")


def check_version(record: Any, expected_version: int | None) -> None:
    """Refuse a change made from a version other than the current one (If-Match); None accepts any version."""
    if expected_version is not None and expected_version != record.version:
        raise PreconditionFailed(
            f"the record has changed (it is now at version {record.version}, you sent {expected_version}); "
            "fetch it again and reapply your change",
            current_version=record.version,
        )


def commit_guarded(session: Session) -> None:
    """Commit; a concurrent change of the same version (the UPDATE matched no row) becomes a 412."""
    try:
        session.commit()
    except StaleDataError as exc:
        session.rollback()
        raise PreconditionFailed("the record was changed by someone else at the same time; fetch it again") from exc


@event.listens_for(Session, "before_flush")
def _writes_in_a_transaction(session: Session, _context: Any, _instances: Any) -> None:
    """A flush on an autocommit connection (a request's reads) would commit statement by statement: every write goes
    through `write_transaction`, which starts a real transaction."""
    if session.connection().get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        raise RuntimeError("a write outside write_transaction(): call it before changing anything")


@event.listens_for(Session, "after_transaction_end")
def _forget_write_flag(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop("write_transaction", None)
        session.info.pop("locks_held", None)
