"""Idempotency keys: a retried write answers what the first one did, and never does the work twice.

A client that may retry a write (a phone on a flaky network) sends an `Idempotency-Key` header (IETF httpapi
draft "The Idempotency-Key HTTP Header Field"). The first request with a key *claims* it (a row, unique per account
and key) and, once its work has succeeded, stores its answer there; a request with the same key and the same
fingerprint (method, path and body) answers the stored answer; one with another fingerprint is refused; one that
arrives while the first is still at work waits for it. A claim whose work failed is released: the failed request
changed nothing, so its retry runs again.

Keys are kept for a configurable time (24 h by default), then purged (`flask auth purge-tokens`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, UTCDateTime, dialect_of, utcnow
from models.roles import Caller

IN_FLIGHT, DONE = "in-flight", "done"


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("uq_idempotency_keys_user_id_key", "user_id", "key", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of method, path and body
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(10))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_headers: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    response_body: Mapped[str | None] = mapped_column(Text, nullable=True)


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming a key: `mine` (go ahead and do the work), or the row another request holds."""

    id: int
    mine: bool
    fingerprint: str
    state: str
    claimed_at: datetime
    response_status: int | None = None
    response_headers: dict[str, str] | None = None
    response_body: str | None = None


def _held(row: Any) -> Claim:
    """A claim another request holds (or held: `state` says whether its answer is stored)."""
    return Claim(
        id=row.id,
        mine=False,
        fingerprint=row.fingerprint,
        state=row.state,
        claimed_at=row.claimed_at,
        response_status=row.response_status,
        response_headers=row.response_headers,
        response_body=row.response_body,
    )


def _insert(session: Session) -> Any:
    return (postgresql if dialect_of(session) == "postgresql" else sqlite).insert(IdempotencyKey)


def claim(
    session: Session,
    *,
    caller: Caller,
    key: str,
    fingerprint: str,
    method: str,
    path: str,
    ttl: timedelta,
    lease: timedelta,
) -> Claim:
    """Claim `key` for the caller's account, or answer the claim that holds it. Commits.

    An expired key is forgotten first; a claim still in flight after `lease` is taken to be abandoned (its request
    died) and is taken over."""
    now = utcnow()
    table = IdempotencyKey.__table__
    mine = table.c.user_id == caller.user_id, table.c.key == key
    session.execute(delete(table).where(*mine, table.c.expires_at <= now))
    values = {
        "user_id": caller.user_id,
        "key": key,
        "fingerprint": fingerprint,
        "method": method,
        "path": path[:500],
        "state": IN_FLIGHT,
        "claimed_at": now,
        "expires_at": now + ttl,
    }
    stmt = _insert(session).values(**values).on_conflict_do_nothing().returning(table.c.id)
    new_id = session.scalar(stmt)
    if new_id is not None:
        session.commit()
        return Claim(id=new_id, mine=True, fingerprint=fingerprint, state=IN_FLIGHT, claimed_at=now)
    row = session.execute(select(table).where(*mine)).one()
    if row.state == IN_FLIGHT and row.fingerprint == fingerprint and row.claimed_at <= now - lease:
        taken = session.execute(
            update(table)
            .where(table.c.id == row.id, table.c.claimed_at == row.claimed_at, table.c.state == IN_FLIGHT)
            .values(claimed_at=now)
        )
        if taken.rowcount == 1:
            session.commit()
            return Claim(id=row.id, mine=True, fingerprint=fingerprint, state=IN_FLIGHT, claimed_at=now)
    session.commit()
    return _held(row)


def stored_answer(session: Session, *, caller: Caller, claim_id: int) -> Claim | None:
    """The claim as it stands now (to see whether the request holding it has finished), or None if released."""
    row = session.execute(
        select(IdempotencyKey.__table__).where(IdempotencyKey.id == claim_id, IdempotencyKey.user_id == caller.user_id)
    ).first()
    session.commit()
    if row is None:
        return None
    return _held(row)


def complete(
    session: Session, *, caller: Caller, claim_id: int, status: int, headers: dict[str, str], body: str
) -> None:
    """Store the answer of the claim's successful work. Commits."""
    session.execute(
        update(IdempotencyKey.__table__)
        .where(IdempotencyKey.id == claim_id, IdempotencyKey.user_id == caller.user_id)
        .values(state=DONE, response_status=status, response_headers=headers, response_body=body)
    )
    session.commit()


def release(session: Session, *, caller: Caller, claim_id: int) -> None:
    """Forget a claim whose work failed (and changed nothing), so that a retry runs again. Commits."""
    session.execute(
        delete(IdempotencyKey.__table__).where(
            IdempotencyKey.id == claim_id, IdempotencyKey.user_id == caller.user_id, IdempotencyKey.state == IN_FLIGHT
        )
    )
    session.commit()


def purge_expired_keys(session: Session) -> int:
    """Delete every expired key (a maintenance command); answers how many."""
    result = session.execute(delete(IdempotencyKey.__table__).where(IdempotencyKey.expires_at < utcnow()))
    session.commit()
    return result.rowcount
