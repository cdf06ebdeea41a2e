"""Reads on hot paths, run without the ORM's and the driver's per-statement work.

A SELECT through `session.execute` pays, every time, for the ORM's execution state, SQLAlchemy's execution context
and result objects, and the driver's cursor (on PostgreSQL psycopg's generator-driven protocol handling): measured,
~0.3 ms of Python for a five-row page, several times the query itself. Two ways around it, same answers:

- `PreparedRead`: a statement built once with bound parameters, whose `first()` runs on a pooled connection of its
  own, outside any transaction (the token check of every request, locate);
- `read_rows(session, stmt)`: any SELECT, on the session's own connection (so it sees the session's transaction),
  cached by SQLAlchemy's own cache key: the statement's shape, its literal values taken out as parameters. A list
  built anew for each request (its filters, its cursor, its page size) is compiled once per shape.

Each statement is compiled once per dialect; each call binds its parameters through the column types' bind
processors, and converts the rows as SQLAlchemy would: the driver's own loaders, then each type's result processor.
On PostgreSQL it goes one step further: the statement is prepared on each connection under its own name and run with
libpq's `PQexecPrepared` on the connection psycopg wraps, parameters and results as text (read by psycopg's
Transformer, in C, with its loaders for that connection): one round trip, the GIL released while it waits. It is
prepared again when psycopg has deallocated it (psycopg runs DEALLOCATE ALL after a ROLLBACK). On SQLite the
compiled string runs on the DB-API cursor.

A statement whose parameters are only known at execution (an `IN` of a Python list: SQLAlchemy expands it per
call), or one PostgreSQL cannot prepare with parameters of unknown type, takes the ordinary path: same answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import count
from typing import Any
from weakref import WeakKeyDictionary

from psycopg import OperationalError as DriverError
from psycopg import pq
from psycopg.adapt import Transformer
from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

MAX_SHAPES = 2_000  # statements kept compiled per process; past it, all are compiled anew
_names = count(1)
_SLOW = object()  # a shape that takes the ordinary path
_UNTYPED = b"42P18"  # PostgreSQL: could not determine the data type of a parameter


@dataclass
class _Shape:
    """One statement compiled for one dialect, and what running it needs."""

    compiled: Any
    sql: str
    positions: tuple[str, ...]
    binders: dict[str, Any]  # parameter name -> the type's bind processor
    columns: list[Any]  # the selected columns (their types convert the results)
    keys: tuple[str, ...]
    name: bytes = field(default_factory=lambda: f"gridpatrol_read_{next(_names)}".encode())
    processors: list[tuple[int, Any]] | None = None  # (column, its result processor), known after the first rows
    proven: bool = False  # PostgreSQL has prepared and run it once

    def values(self, params: dict[str, Any]) -> list[Any]:
        for name, binder in self.binders.items():
            params[name] = binder(params[name])
        return [params[name] for name in self.positions]

    def convert(self, rows: list[Any], dialect: Dialect, coltypes: list[Any]) -> list[Any]:
        if self.processors is None:
            processors = [
                column.type.dialect_impl(dialect).result_processor(dialect, coltype)
                for column, coltype in zip(self.columns, coltypes, strict=True)
            ]
            self.processors = [(i, p) for i, p in enumerate(processors) if p is not None]
        if not self.processors:
            return rows
        converted = []
        for row in rows:
            values = list(row)
            for i, process in self.processors:
                values[i] = process(values[i])
            converted.append(values)
        return converted


def _compile(stmt: Any, dialect: Dialect, cache_key: Any = None) -> _Shape | object:
    if dialect.name == "postgresql":  # $1, $2... for libpq
        from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

        dialect = PGDialect_psycopg(paramstyle="numeric_dollar")
    # with its cache key: another statement of the same shape then hands over its own values (construct_params)
    compiled = (
        stmt.compile(dialect=dialect, cache_key=cache_key) if cache_key is not None else stmt.compile(dialect=dialect)
    )
    if compiled.literal_execute_params or compiled.post_compile_params:
        return _SLOW  # an IN of a list, expanded per call
    binders = {}
    for bind, name in compiled.bind_names.items():  # by the name the parameters are given under
        binder = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if binder is not None:
            binders[name] = binder
    columns = list(stmt.selected_columns)
    return _Shape(compiled, compiled.string, tuple(compiled.positiontup or ()), binders, columns,
                  tuple(c.key for c in columns))  # fmt: skip


class _Untyped(Exception):
    """PostgreSQL could not prepare the statement with parameters of unknown type."""


class _NotYet(Exception):
    """A shape inside a transaction block before it has run once: the ordinary path, this time."""


def _run(fairy: Any, dialect: Dialect, shape: _Shape, values: list[Any]) -> list[tuple[Any, ...]]:
    """The rows of `shape` on the pooled connection `fairy`, converted."""
    if dialect.name == "postgresql":
        rows, coltypes = _run_libpq(fairy, shape, values)
    else:
        cursor = fairy.dbapi_connection.cursor()
        try:
            cursor.execute(shape.sql, tuple(values))
            rows, coltypes = cursor.fetchall(), [column[1] for column in cursor.description]
        finally:
            cursor.close()
    return shape.convert(rows, dialect, coltypes) if rows else rows


def _run_libpq(fairy: Any, shape: _Shape, values: list[Any]) -> tuple[list[tuple[Any, ...]], list[int]]:
    pgconn = fairy.dbapi_connection.pgconn
    params = [None if v is None else _as_text(v).encode() for v in values]
    if pgconn.transaction_status != pq.TransactionStatus.IDLE:
        # Inside a transaction block a failed statement aborts the transaction: no trying a name that may not be
        # prepared here. The unnamed statement (parsed and planned each time, still one round trip), and only for a
        # shape that has run before: a first run that PostgreSQL refused would abort the caller's transaction.
        if not shape.proven:
            raise _NotYet
        result = pgconn.exec_params(shape.sql.encode(), params)
        _check(pgconn, result, fairy)
        return _loaded(fairy, result)
    result = pgconn.exec_prepared(shape.name, params)
    if result.status == pq.ExecStatus.FATAL_ERROR and result.error_field(pq.DiagnosticField.SQLSTATE) == b"26000":
        # Not prepared on this connection yet, or deallocated (psycopg does after a ROLLBACK): prepare, run again.
        prepared = pgconn.prepare(shape.name, shape.sql.encode())
        if prepared.status == pq.ExecStatus.FATAL_ERROR:
            if prepared.error_field(pq.DiagnosticField.SQLSTATE) == _UNTYPED:
                raise _Untyped
            _check(pgconn, prepared, fairy)
        result = pgconn.exec_prepared(shape.name, params)
    _check(pgconn, result, fairy)
    shape.proven = True
    return _loaded(fairy, result)


def _loaded(fairy: Any, result: Any) -> tuple[list[tuple[Any, ...]], list[int]]:
    if result.ntuples == 0:
        return [], []
    # psycopg's own loaders for the connection (a time's loader knows its time zone), run in C over the whole result
    transformer = Transformer(fairy.dbapi_connection)
    transformer.set_pgresult(result)
    return transformer.load_rows(0, result.ntuples, tuple), [result.ftype(i) for i in range(result.nfields)]


def _check(pgconn: Any, result: Any, fairy: Any) -> None:
    if result.status not in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK):
        if pgconn.transaction_status == pq.TransactionStatus.UNKNOWN:
            fairy.invalidate()  # a broken connection is not given to anyone else
        message = (result.error_message or pgconn.error_message).decode(errors="replace")
        raise DriverError(f"read failed: {message}")


def _as_text(value: Any) -> str:
    """A parameter in PostgreSQL's text format; times must carry their zone (the column types make them UTC)."""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a naive time as a parameter: give it a zone")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    return str(value)


# ---- any SELECT, on the session's connection ----------------------------------------------------------------------

_SHAPES: dict[tuple[Any, ...], _Shape | object] = {}
_BY_STATEMENT: WeakKeyDictionary[Any, tuple[str, Any, Any]] = WeakKeyDictionary()  # statement -> (dialect, shape, key)


def read_rows(session: Session, stmt: Select, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The rows of `stmt` as dicts by column key (labels included); `params`: values of its named bound parameters
    (a statement built once and run with other values each time: no cache key computed again). Inside the session's
    transaction when it has one (pending changes are flushed first, as the ORM's autoflush would); otherwise, like a
    request's reads, on a pooled connection outside any transaction, without setting up the session's own."""
    if session.autoflush and (session.new or session.deleted or session.dirty):
        session.flush()
    bind = session.get_bind()
    dialect = bind.dialect
    known = _BY_STATEMENT.get(stmt)  # a statement built once: no cache key to hash again
    if known is not None and known[0] == dialect.name:
        _, shape, cache_key = known
    else:
        cache_key = stmt._generate_cache_key()
        shape = None if cache_key is None else _SHAPES.get((dialect.name, cache_key.key))
        if shape is None and cache_key is not None:
            if len(_SHAPES) >= MAX_SHAPES:
                _SHAPES.clear()
            shape = _SHAPES[(dialect.name, cache_key.key)] = _compile(stmt, dialect, cache_key)
        _BY_STATEMENT[stmt] = (dialect.name, shape, cache_key)
    if isinstance(shape, _Shape):
        values = shape.values(shape.compiled.construct_params(params, extracted_parameters=cache_key.bindparams))
        try:
            if session.in_transaction():
                rows = _run(session.connection().connection, dialect, shape, values)
            else:
                pooled = bind.raw_connection()
                try:
                    rows = _run(pooled, dialect, shape, values)
                finally:
                    pooled.close()
            keys = shape.keys
            return [dict(zip(keys, row, strict=True)) for row in rows]
        except _Untyped:
            _SHAPES[(dialect.name, cache_key.key)] = _SLOW
            _BY_STATEMENT.pop(stmt, None)
        except _NotYet:
            pass
    return [dict(row) for row in session.connection().execute(stmt, params).mappings()]


# ---- one statement built once, on a pooled connection of its own --------------------------------------------------


class PreparedRead:
    """A read on a hot path (the token check of every request, locate): built once with bound parameters, run on a
    pooled connection of its own, outside any transaction (no BEGIN, no ROLLBACK, no autocommit switch); the
    connection stays idle for the next user. Answers the first row only. Measured: see docs/benchmark.md."""

    def __init__(self, stmt: Any) -> None:
        self.stmt = stmt
        self.keys = tuple(column.key for column in stmt.selected_columns)
        self._shapes: dict[str, _Shape] = {}

    def first(self, session: Session, **params: Any) -> tuple[Any, ...] | None:
        """The first row as a tuple, or None."""
        engine = session.get_bind()
        shape = self._shapes.get(engine.dialect.name)
        if shape is None:
            compiled = _compile(self.stmt, engine.dialect)
            if not isinstance(compiled, _Shape):
                raise TypeError("a PreparedRead takes no IN of a list: bind its values one by one")
            shape = self._shapes[engine.dialect.name] = compiled
        values = shape.values(shape.compiled.construct_params(params))
        pooled = engine.raw_connection()
        try:
            if engine.dialect.name == "postgresql" and (
                pooled.dbapi_connection.pgconn.transaction_status != pq.TransactionStatus.IDLE
            ):
                raise RuntimeError("a prepared read on a connection inside a transaction")
            rows = _run(pooled, engine.dialect, shape, values)
        finally:
            pooled.close()
        return rows[0] if rows else None

    def first_mapping(self, session: Session, **params: Any) -> dict[str, Any] | None:
        """The first row as a dict by column key (labels included), or None."""
        row = self.first(session, **params)
        return None if row is None else dict(zip(self.keys, row, strict=True))

    @property
    def name(self) -> bytes:
        """The name of its prepared statement on PostgreSQL."""
        return self._shapes["postgresql"].name
