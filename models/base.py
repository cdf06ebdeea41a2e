"""Declarative base, column types shared by all tables, and the write-transaction helper."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg import OperationalError as DriverError
from psycopg import pq
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


UNSET: Any = object()  # a keyword argument left out, where None is a value ("clear the title")


def utcnow() -> datetime:
    return datetime.now(UTC)


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def write_transaction(session: Session, *lock_keys: LockKey) -> None:
    """Start the transaction of a write that checks before it writes, so the check cannot go stale.

    SQLite: BEGIN IMMEDIATE takes the database's single write lock before the first read.
    PostgreSQL: a transaction-scoped advisory lock per key (see `models.locks`) serialises writers of the same scope
    (e.g. the cells of one village) while other scopes go on in parallel. The keys are taken in the one global
    order; a later call in the same transaction may only add kinds that come after those already held.
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
    keys = sorted(lock_keys)
    held: list[LockKey] = session.info.setdefault("locks_held", [])
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


class PreparedRead:
    """A read on a hot path (the token check of every request, locate), run straight on a pooled DBAPI connection.

    The statement is built once and compiled once per dialect; each call binds its parameters and converts the row
    through the column types as SQLAlchemy would (the driver's values, then each type's result processor), and
    answers the first row only. What a session would add per call (a transaction, an execution context, statement
    cache keys, result objects) stays out.

    On PostgreSQL it goes one step further: the statement is prepared on each connection under its own name and run
    with libpq's `PQexecPrepared` on the connection psycopg wraps, parameters and results as text (read back with
    psycopg's own loaders for the connection): one round trip, outside any transaction block (no BEGIN, no
    ROLLBACK, no autocommit switch), with the GIL released while it waits and none of the driver's per-query
    bookkeeping; the connection stays idle for the next user. Measured: see docs/benchmark.md.
    """

    def __init__(self, stmt: Any) -> None:
        self.stmt = stmt
        self.keys = tuple(column.key for column in stmt.selected_columns)
        self._compiled: dict[str, _Compiled] = {}
        self._name = f"gridpatrol_read_{id(self):x}".encode()

    def _processors(self, dialect: Dialect, coltypes: list[Any]) -> list[Any]:
        return [
            column.type.dialect_impl(dialect).result_processor(dialect, coltype)
            for column, coltype in zip(self.stmt.selected_columns, coltypes, strict=True)
        ]

    def _compile(self, dialect: Dialect) -> _Compiled:
        if dialect.name == "postgresql":  # $1, $2... for libpq
            from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

            dialect = PGDialect_psycopg(paramstyle="numeric_dollar")
        compiled = self.stmt.compile(dialect=dialect)
        binders = {}
        for name, bind in compiled.binds.items():
            binder = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if binder is not None:
                binders[name] = binder
        return _Compiled(compiled, compiled.positiontup, binders, [])

    def first(self, session: Session, **params: Any) -> tuple[Any, ...] | None:
        """The first row as a tuple, or None."""
        engine = session.get_bind()
        entry = self._compiled.get(engine.dialect.name)
        if entry is None:
            entry = self._compiled[engine.dialect.name] = self._compile(engine.dialect)
        values = entry.compiled.construct_params(params)
        for name, binder in entry.binders.items():
            values[name] = binder(values[name])
        pooled = engine.raw_connection()
        try:
            if engine.dialect.name == "postgresql":
                row, coltypes = self._first_libpq(
                    pooled, entry.compiled.string, [values[name] for name in entry.positions]
                )
            else:
                cursor = pooled.dbapi_connection.cursor()
                positional = tuple(values[name] for name in entry.positions) if entry.positions else values
                cursor.execute(entry.compiled.string, positional)
                row, coltypes = cursor.fetchone(), [column[1] for column in cursor.description]
                cursor.close()
        finally:
            pooled.close()
        if row is None:
            return None
        if not entry.processors:  # the types' result processors, given the driver's column types, once
            entry.processors[:] = self._processors(engine.dialect, coltypes)
        return tuple(value if p is None else p(value) for value, p in zip(row, entry.processors, strict=True))

    def first_mapping(self, session: Session, **params: Any) -> dict[str, Any] | None:
        """The first row as a dict by column key (labels included), or None."""
        row = self.first(session, **params)
        return None if row is None else dict(zip(self.keys, row, strict=True))

    def _first_libpq(self, pooled: Any, sql: str, values: list[Any]) -> tuple[tuple[Any, ...] | None, list[int]]:
        pgconn = pooled.dbapi_connection.pgconn
        if pgconn.transaction_status != pq.TransactionStatus.IDLE:
            raise RuntimeError("a prepared read on a connection inside a transaction")
        params = [None if v is None else _as_text(v).encode() for v in values]
        result = pgconn.exec_prepared(self._name, params)
        if result.status == pq.ExecStatus.FATAL_ERROR and result.error_field(pq.DiagnosticField.SQLSTATE) == b"26000":
            # Not prepared on this connection yet, or gone: psycopg deallocates every prepared statement after a
            # ROLLBACK. Prepare it and run it again.
            self._check(pgconn, pgconn.prepare(self._name, sql.encode()), pooled)
            result = pgconn.exec_prepared(self._name, params)
        self._check(pgconn, result, pooled)
        if result.ntuples == 0:
            return None, []
        loaders = pooled.info.get(self._name)  # per connection: a time's loader knows the connection's time zone
        if loaders is None:
            loaders = pooled.info[self._name] = _text_loaders(pooled.dbapi_connection, result)
        row = tuple(None if (raw := result.get_value(0, i)) is None else load(raw) for i, load in enumerate(loaders))
        return row, [result.ftype(i) for i in range(result.nfields)]

    @staticmethod
    def _check(pgconn: Any, result: Any, pooled: Any) -> None:
        if result.status not in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK):
            pooled.invalidate()  # a connection in an unknown state is not given to anyone else
            message = (result.error_message or pgconn.error_message).decode(errors="replace")
            raise DriverError(f"prepared read failed: {message}")


@dataclass(frozen=True)
class _Compiled:
    compiled: Any
    positions: Any
    binders: dict[str, Any]  # parameter name -> the type's bind processor
    processors: list[Any]  # per column: the type's result processor, or None (filled on the first row)


def _text_loaders(connection: Any, result: Any) -> list[Any]:
    """psycopg's text loader of each column of `result`, as the driver itself would read them."""
    adapters = connection.adapters
    loaders = []
    for i in range(result.nfields):
        oid = result.ftype(i)
        loader = adapters.get_loader(oid, pq.Format.TEXT) or adapters.get_loader(0, pq.Format.TEXT)
        loaders.append(loader(oid, connection).load)
    return loaders


def _as_text(value: Any) -> str:
    """A parameter in PostgreSQL's text format; times must carry their zone (the column types make them UTC)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a naive time as a parameter: give it a zone")
        return value.isoformat()
    return str(value)


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
