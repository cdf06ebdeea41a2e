"""Who an access token stands for, remembered between requests and forgotten the moment any account changes.

Every request checks its token. Asking the database each time costs a round trip (on PostgreSQL about half of what a
cheap request costs in all); remembering the answer for a while would let a logout, a password change or a
deactivation take effect only later. This does neither:

- each process remembers, per database, the caller of each token it has checked, with the token's expiry;
- every write that changes an account, a login session or a token (UPDATE or DELETE on `users`, `auth_sessions`,
  `auth_tokens`: logout, revocation, refresh, password change, role change, deactivation...) replaces the
  database's **epoch**, eight random bytes in a small file mapped into the memory of every process on this host
  that serves the same database: once when the change is flushed, and again once it is committed;
- a remembered caller is used only while the epoch is the one read *before* the database was asked, the token has
  not expired, and at most `CALLER_CACHE_SECONDS` (default 30) have passed.

So the request after a logout's answer is refused in every process at once: the epoch changed before the answer
left. What this does not see: changes made to the tables by hand (SQL outside the app) or by a process on another
host. A deployment with app processes on several hosts sets `CALLER_CACHE_SECONDS=0`, which asks the database on
every request; so does anyone who edits accounts with SQL. Rows added (a login) need no new epoch: nobody can
remember a token before it exists.
"""

from __future__ import annotations

import hashlib
import logging
import mmap
import os
import time
import weakref
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import ORMExecuteState, Session

from models.accounts.model import AuthSession, AuthToken, User
from models.roles import Caller

_WATCHED = (User, AuthSession, AuthToken)
MAX_REMEMBERED = 20_000  # callers per process and database; past it, all are forgotten at once


class _Epoch:
    """Eight bytes in a file, mapped into memory: read and replaced without a system call."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(descriptor).st_size < 8:
                os.ftruncate(descriptor, 8)
            self._map = mmap.mmap(descriptor, 8)
        finally:
            os.close(descriptor)  # the mapping keeps the file

    def read(self) -> bytes:
        return self._map[:8]

    def replace(self) -> None:
        self._map[:8] = os.urandom(8)  # any other value: a half-written one is just as new


@dataclass(frozen=True)
class _Remembered:
    caller: Caller
    expires_at: datetime  # the token's
    until: float  # time.monotonic() past which it is asked again
    epoch: bytes


class Callers:
    """The remembered callers of one database in this process."""

    def __init__(self, epoch_file: Path, seconds: float) -> None:
        self.seconds = seconds
        self._epoch = _Epoch(epoch_file)
        self._entries: dict[str, _Remembered] = {}

    def epoch(self) -> bytes:
        return self._epoch.read()

    def get(self, digest: str, now: datetime) -> Caller | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry.epoch != self._epoch.read() or now >= entry.expires_at or time.monotonic() >= entry.until:
            self._entries.pop(digest, None)
            return None
        return entry.caller

    def remember(self, digest: str, caller: Caller, expires_at: datetime, epoch: bytes) -> None:
        """Remember a caller read from the database; `epoch` is the one read before asking it."""
        if len(self._entries) >= MAX_REMEMBERED:
            self._entries.clear()
        self._entries[digest] = _Remembered(caller, expires_at, time.monotonic() + self.seconds, epoch)

    def forget_all(self) -> None:
        """A new epoch: every process forgets every caller of this database."""
        self._epoch.replace()
        self._entries.clear()


# By the engine's dialect: an engine, its execution-option copies and their connections share one, and it outlives
# Engine.dispose() (which replaces the pool: keyed by the pool, a disposed engine stopped remembering)
_BY_DIALECT: weakref.WeakKeyDictionary[Any, Callers] = weakref.WeakKeyDictionary()


def remember_callers(engine: Engine, *, directory: Path, seconds: float) -> None:
    """Turn remembering on for `engine` (the app does, at start-up); `seconds` 0 leaves it off."""
    if seconds <= 0:
        _BY_DIALECT.pop(engine.dialect, None)
        return
    name = hashlib.sha256(engine.url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    try:
        _BY_DIALECT[engine.dialect] = Callers(directory / f"callers-epoch-{name}", seconds)
    except OSError as exc:  # a read-only instance directory: every request asks the database, as with 0
        logging.getLogger(__name__).warning("callers not remembered: no epoch file in %s (%s)", directory, exc)
        _BY_DIALECT.pop(engine.dialect, None)


def callers_of(bind: Any) -> Callers | None:
    """The remembered callers of the database `bind` (an engine or connection) serves, or None when off."""
    return _BY_DIALECT.get(bind.dialect) if _BY_DIALECT else None


def forget_callers(bind: Any) -> None:
    """Make every process forget the callers of this database (after changing accounts outside the ORM)."""
    callers = callers_of(bind)
    if callers is not None:
        callers.forget_all()


def _changed(session: Session) -> None:
    session.info["callers_changed"] = True
    forget_callers(session.get_bind())  # before the commit too: no process remembers across it


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    if _BY_DIALECT and any(isinstance(o, _WATCHED) for o in (*session.dirty, *session.deleted)):
        _changed(session)


@event.listens_for(Session, "do_orm_execute")
def _bulk_change(state: ORMExecuteState) -> None:
    if _BY_DIALECT and (state.is_update or state.is_delete):
        mapper = state.bind_mapper
        if mapper is not None and issubclass(mapper.class_, _WATCHED):
            _changed(state.session)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("callers_changed", None):
        forget_callers(session.get_bind())


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _transaction: Any) -> None:
    session.info.pop("callers_changed", None)  # nothing changed; the epoch replaced at the flush did no harm
