"""Logging in, tokens and sessions.

Tokens are 256-bit random strings, shown to the client once and stored as their SHA-256. An access token lives
minutes; a refresh token lives weeks and is rotated on every use: a used refresh token presented again means it was
copied, and ends the whole session, except within a short grace window after its first use, for a phone that lost
the answer on a flaky network and simply retries.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from models import locks
from models.accounts.callers import callers_of
from models.accounts.model import AuthSession, AuthToken, User
from models.accounts.passwords import (
    check_password_policy,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from models.base import commit_guarded, utcnow, write_transaction
from models.errors import NotFound, RuleViolation, TooManyRequests, Unauthenticated
from models.reads import PreparedRead
from models.roles import Caller, Role
from models.scope import record_in_scope

ACCESS_PREFIX, REFRESH_PREFIX = "gpa_", "gpr_"  # recognisable by secret scanners and in support requests


@dataclass(frozen=True)
class TokenPolicy:
    access_ttl: timedelta = timedelta(minutes=15)
    refresh_ttl: timedelta = timedelta(days=30)
    reuse_grace: timedelta = timedelta(seconds=60)
    max_failed_logins: int = 10
    lockout: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime
    user: User
    session_id: int


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue_pair(
    session: Session, *, user: User, auth_session_id: int, parent_id: int | None, policy: TokenPolicy
) -> TokenPair:
    now = utcnow()
    access, refresh = ACCESS_PREFIX + secrets.token_urlsafe(32), REFRESH_PREFIX + secrets.token_urlsafe(32)
    access_expires, refresh_expires = now + policy.access_ttl, now + policy.refresh_ttl
    for token, kind, expires in ((access, "access", access_expires), (refresh, "refresh", refresh_expires)):
        session.add(
            AuthToken(
                token_hash=token_digest(token),
                session_id=auth_session_id,
                kind=kind,
                issued_at=now,
                expires_at=expires,
                parent_id=parent_id,
            )
        )
    return TokenPair(access, refresh, access_expires, refresh_expires, user, auth_session_id)


def _start_session(session: Session, user: User, client: str | None, policy: TokenPolicy) -> TokenPair:
    auth_session = AuthSession(user_id=user.id, created_at=utcnow(), client=(client or "")[:200] or None)
    session.add(auth_session)
    session.flush()
    return _issue_pair(session, user=user, auth_session_id=auth_session.id, parent_id=None, policy=policy)


def _credentials(session: Session, user_id_or_name: int | str) -> Any:
    """What a password check needs, read without keeping a transaction open for the slow hash."""
    key = User.id if isinstance(user_id_or_name, int) else User.username
    row = session.execute(
        select(
            User.id, User.username, User.password_hash, User.deactivated_at, User.failed_logins, User.locked_until
        ).where(key == user_id_or_name)
    ).first()
    session.rollback()
    return row


def _locked(until: datetime) -> TooManyRequests:
    seconds = max(1, int((until - utcnow()).total_seconds()) + 1)
    return TooManyRequests(
        f"too many wrong passwords in a row: this account is locked for {seconds} more seconds",
        code="login-locked",
        headers={"Retry-After": str(seconds)},
    )


def _count_attempt(session: Session, user_id: int, policy: TokenPolicy) -> int:
    """Count a password attempt *before* checking it, atomically, so that parallel guesses cannot get past the lock:
    refuse it (429) while the account is locked, or when it is one attempt too many. Commits; answers its number."""
    users = User.__table__
    now = utcnow()
    write_transaction(session)
    row = session.execute(
        update(users)
        .where(users.c.id == user_id, or_(users.c.locked_until.is_(None), users.c.locked_until <= now))
        .values(failed_logins=users.c.failed_logins + 1)
        .returning(users.c.failed_logins)
    ).first()
    if row is None:  # locked
        until = session.scalar(select(users.c.locked_until).where(users.c.id == user_id)) or now
        session.commit()
        raise _locked(until)
    if row.failed_logins > policy.max_failed_logins:
        until = now + policy.lockout
        session.execute(update(users).where(users.c.id == user_id).values(failed_logins=0, locked_until=until))
        session.commit()
        raise _locked(until)
    session.commit()
    return row.failed_logins


def _password_matches(session: Session, credentials: Any, password: str, policy: TokenPolicy) -> bool:
    """Check a password against the account read in `credentials` (see `_credentials`), as one counted attempt.

    The slow hash check holds no lock. On True, a write transaction is left open in which the account was re-read
    and its hash is still the one checked (a reset or a deactivation meanwhile makes it False), and the count of
    failures is back to zero. On False, the failure is committed, locking the account at the limit.
    Plain UPDATEs: neither the account's version nor the audit trail moves.
    """
    users = User.__table__
    attempt = _count_attempt(session, credentials.id, policy)
    ok = verify_password(credentials.password_hash, password)
    write_transaction(session)
    current = session.scalar(
        select(users.c.password_hash).where(users.c.id == credentials.id, users.c.deactivated_at.is_(None))
    )
    if ok and current == credentials.password_hash:
        session.execute(update(users).where(users.c.id == credentials.id).values(failed_logins=0, locked_until=None))
        return True
    if attempt >= policy.max_failed_logins:
        session.execute(
            update(users)
            .where(users.c.id == credentials.id)
            .values(failed_logins=0, locked_until=utcnow() + policy.lockout)
        )
    session.commit()
    return False


def login(session: Session, *, username: str, password: str, client: str | None, policy: TokenPolicy) -> TokenPair:
    """Check a username and password; start a session and answer its first token pair."""
    credentials = _credentials(session, username.strip().lower())
    failed = Unauthenticated("wrong username or password", code="login-failed")
    if credentials is None or credentials.deactivated_at is not None:
        verify_password(dummy_hash(), password)
        raise failed
    if not _password_matches(session, credentials, password, policy):
        raise failed
    if needs_rehash(credentials.password_hash):  # parameters were raised since: upgrade quietly
        users = User.__table__
        session.execute(
            update(users)
            .where(users.c.id == credentials.id, users.c.password_hash == credentials.password_hash)
            .values(password_hash=hash_password(password))
        )
    user = session.get(User, credentials.id)
    if user is None or not user.active:
        raise failed
    pair = _start_session(session, user, client, policy)
    session.commit()
    return pair


def refresh(session: Session, *, refresh_token: str, policy: TokenPolicy) -> TokenPair:
    """A new token pair for a refresh token, which is used up (see the module notes on reuse)."""
    invalid = Unauthenticated(
        "the refresh token is not valid (expired, revoked or unknown): log in again", code="invalid-token"
    )
    digest = token_digest(refresh_token)
    write_transaction(session, locks.refresh_token(digest))  # two uses of one token at once: one after the other
    now = utcnow()
    token = session.scalar(select(AuthToken).where(AuthToken.token_hash == digest, AuthToken.kind == "refresh"))
    if token is None or token.expires_at <= now:
        raise invalid
    write_transaction(session, locks.auth_session(token.session_id))
    auth_session = session.get(AuthSession, token.session_id)
    user = session.get(User, auth_session.user_id) if auth_session else None
    if auth_session is None or auth_session.revoked_at is not None or user is None or not user.active:
        raise invalid
    if token.revoked_at is not None:
        # Revoked by a grace retry: whoever sends it now had the first answer, which someone else replaced.
        auth_session.revoked_at, auth_session.revoke_reason = now, "refresh-token-reused"
        session.commit()
        raise invalid
    if token.used_at is not None:
        children = session.scalars(select(AuthToken).where(AuthToken.parent_id == token.id)).all()
        retry = now - token.used_at <= policy.reuse_grace and all(c.used_at is None for c in children)
        if not retry:
            auth_session.revoked_at, auth_session.revoke_reason = now, "refresh-token-reused"
            session.commit()
            raise Unauthenticated(
                "this refresh token was already used, so it may have been copied: the session is ended; log in again",
                code="invalid-token",
            )
        for child in children:  # the answer to the first use never arrived: replace it
            child.revoked_at = now
    else:
        token.used_at = now
    _purge(session, auth_session.id, now)
    pair = _issue_pair(session, user=user, auth_session_id=auth_session.id, parent_id=token.id, policy=policy)
    session.commit()
    return pair


def _purge(session: Session, auth_session_id: int, now: datetime) -> None:
    """Expired tokens of a session are of no use to anyone: drop them so a session's rows stay few."""
    expired = session.scalars(
        select(AuthToken).where(AuthToken.session_id == auth_session_id, AuthToken.expires_at < now)
    ).all()
    for token in expired:
        session.delete(token)


def purge_expired_tokens(session: Session) -> int:
    """Delete every expired token (a maintenance command); answers how many."""
    write_transaction(session)
    expired = session.scalars(select(AuthToken).where(AuthToken.expires_at < utcnow())).all()
    for token in expired:
        session.delete(token)
    session.commit()
    return len(expired)


# Every request asks this (unless its caller is remembered, see models.accounts.callers): one indexed lookup (the
# token's unique digest), built and compiled once.
_CALLER_OF_TOKEN = PreparedRead(
    select(
        User.id,
        User.username,
        User.role,
        User.township_id,
        User.officer_id,
        AuthSession.id,
        User.department_id,
        AuthToken.expires_at,
    )
    .select_from(AuthToken)
    .join(AuthSession, AuthSession.id == AuthToken.session_id)
    .join(User, User.id == AuthSession.user_id)
    .where(
        AuthToken.token_hash == bindparam("digest", type_=AuthToken.token_hash.type),
        AuthToken.kind == "access",
        AuthToken.expires_at > bindparam("now", type_=AuthToken.expires_at.type),
        AuthToken.revoked_at.is_(None),
        AuthSession.revoked_at.is_(None),
        User.deactivated_at.is_(None),
    )
)


def caller_for_token(session: Session, *, access_token: str) -> Caller | None:
    """The caller an access token stands for, or None when it is unknown, expired or revoked.

    A logout, a password change or a deactivation takes effect on the very next request: the answer is remembered
    only until any account changes (models.accounts.callers); otherwise the database is asked, see `PreparedRead`
    for why that costs little."""
    digest, now = token_digest(access_token), utcnow()
    callers = callers_of(session.get_bind())
    if callers is not None:
        remembered = callers.get(digest, now)
        if remembered is not None:
            return remembered
        epoch = callers.epoch()  # read before asking: a change committed meanwhile makes the answer stale at once
    row = _CALLER_OF_TOKEN.first(session, digest=digest, now=now)
    if row is None:
        return None
    user_id, username, role, township_id, officer_id, session_id, department_id, expires_at = row
    caller = Caller(user_id, username, Role(role), township_id, officer_id, session_id, department_id)
    if callers is not None:
        callers.remember(digest, caller, expires_at, epoch)
    return caller


def revoke_sessions(session: Session, *, user_id: int, reason: str) -> None:
    """End every open session of a user (their tokens stop working at once)."""
    stmt = update(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    session.execute(stmt.values(revoked_at=utcnow(), revoke_reason=reason))


def logout(session: Session, *, caller: Caller) -> None:
    """End the caller's session: its access and refresh tokens stop working."""
    write_transaction(session)
    session.execute(
        update(AuthSession)
        .where(AuthSession.id == caller.session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoke_reason="logout")
    )
    session.commit()


def change_own_password(
    session: Session,
    *,
    caller: Caller,
    current_password: str,
    new_password: str,
    client: str | None,
    policy: TokenPolicy,
) -> TokenPair:
    """Change the caller's own password: every session of theirs ends; this device gets a new token pair."""
    credentials = _credentials(session, caller.user_id)
    if credentials is None:
        raise NotFound(f"there is no user with id {caller.user_id}")
    check_password_policy(new_password, credentials.username, pointer="/new_password")
    if new_password == current_password:
        raise RuleViolation("the new password is the current one", code="password-unchanged", pointer="/new_password")
    new_hash = hash_password(new_password)
    if not _password_matches(session, credentials, current_password, policy):
        raise RuleViolation("the current password is wrong", code="wrong-password", pointer="/current_password")
    live = session.scalar(
        select(AuthSession.id).where(AuthSession.id == caller.session_id, AuthSession.revoked_at.is_(None))
    )
    if live is None:  # logged out, or every session ended by a reset, while the password was being checked
        raise Unauthenticated("this session has ended: log in again", code="invalid-token")
    user = record_in_scope(session, caller=caller, model=User, record_id=caller.user_id, what="user")
    user.password_hash, user.password_changed_at = new_hash, utcnow()
    revoke_sessions(session, user_id=user.id, reason="password-changed")
    session.flush()
    pair = _start_session(session, user, client, policy)
    commit_guarded(session)
    return pair
