"""User accounts, passwords and tokens: plain functions, keyword-only.

Passwords are hashed with Argon2id (RFC 9106). Tokens are 256-bit random strings, shown to the client once and
stored as their SHA-256. An access token lives minutes; a refresh token lives weeks and is rotated on every use: a
used refresh token presented again means it was copied, and ends the whole session, except within a short grace
window after its first use, for a phone that lost the answer on a flaky network and simply retries.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.access import Caller, Role, record_in_scope, row_in_scope, scope_clauses
from models.accounts import AuthSession, AuthToken, User
from models.base import check_version, commit_guarded, utcnow, write_transaction
from models.errors import Conflict, Forbidden, NotFound, RuleViolation, TooManyRequests, Unauthenticated
from models.people import Officer
from models.territory import Township

PASSWORD_MIN, PASSWORD_MAX = 10, 128
ACCESS_PREFIX, REFRESH_PREFIX = "gpa_", "gpr_"  # recognisable by secret scanners and in support requests
LEADER_MANAGES = frozenset({Role.GRID_OFFICER, Role.VIEWER})
# Account writes are few: they take one lock, so that "the username is free", "the officer has no account" and
# "another administrator remains" cannot go stale between the check and the write (SQLite's write lock does
# the same there).
ACCOUNTS_LOCK = "accounts"

_hasher = PasswordHasher()  # argon2id, RFC 9106 "second recommended" parameters: 64 MiB, 3 passes


_dummy: str | None = None


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Set the hasher (the app factory does, from its settings; tests use a cheap one)."""
    global _hasher, _dummy
    _hasher, _dummy = hasher, None
    _dummy_hash()  # made now, so that the first unknown username takes no longer than the others


def _dummy_hash() -> str:
    """A hash to verify against when the username is unknown, so that both answers take the same time (one
    Argon2 check each): made once per hasher."""
    global _dummy
    if _dummy is None:
        _dummy = _hasher.hash("no such user: constant-time answer")
    return _dummy


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


# ---- passwords --------------------------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_policy(password: str, username: str, *, pointer: str = "/password") -> None:
    """At least 10 characters, at most 128, and not the username in disguise."""
    if len(password) < PASSWORD_MIN:
        raise RuleViolation(
            f"a password has at least {PASSWORD_MIN} characters", code="password-too-short", pointer=pointer
        )
    if len(password) > PASSWORD_MAX:
        raise RuleViolation(
            f"a password has at most {PASSWORD_MAX} characters", code="password-too-long", pointer=pointer
        )
    if username.lower() in password.lower():
        raise RuleViolation(
            "a password may not contain the username", code="password-contains-username", pointer=pointer
        )


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# ---- tokens -----------------------------------------------------------------------------------------------------


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
    ok = _verify(credentials.password_hash, password)
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
        _verify(_dummy_hash(), password)
        raise failed
    if not _password_matches(session, credentials, password, policy):
        raise failed
    if _hasher.check_needs_rehash(credentials.password_hash):  # parameters were raised since: upgrade quietly
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
    write_transaction(session, f"refresh:{digest}")  # two uses of one token at once: one after the other
    now = utcnow()
    token = session.scalar(select(AuthToken).where(AuthToken.token_hash == digest, AuthToken.kind == "refresh"))
    if token is None or token.expires_at <= now:
        raise invalid
    write_transaction(session, f"auth-session:{token.session_id}")
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


def caller_for_token(session: Session, access_token: str) -> Caller | None:
    """The caller an access token stands for, or None when it is unknown, expired or revoked."""
    row = session.execute(
        select(User.id, User.username, User.role, User.township_id, User.officer_id, AuthSession.id.label("sid"))
        .select_from(AuthToken)
        .join(AuthSession, AuthSession.id == AuthToken.session_id)
        .join(User, User.id == AuthSession.user_id)
        .where(
            AuthToken.token_hash == token_digest(access_token),
            AuthToken.kind == "access",
            AuthToken.expires_at > utcnow(),
            AuthToken.revoked_at.is_(None),
            AuthSession.revoked_at.is_(None),
            User.deactivated_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    return Caller(
        user_id=row.id,
        username=row.username,
        role=Role(row.role),
        township_id=row.township_id,
        officer_id=row.officer_id,
        session_id=row.sid,
    )


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
    user = _get_user(session, caller, caller.user_id)
    user.password_hash, user.password_changed_at = new_hash, utcnow()
    revoke_sessions(session, user_id=user.id, reason="password-changed")
    session.flush()
    pair = _start_session(session, user, client, policy)
    commit_guarded(session)
    return pair


# ---- accounts ---------------------------------------------------------------------------------------------------


SECRET_USER_COLUMNS = frozenset({"password_hash", "failed_logins"})  # never in an answer


def user_select() -> Select:
    """Every column of a user but the secrets."""
    return select(*[c for c in User.__table__.columns if c.key not in SECRET_USER_COLUMNS])


def user_filters(
    caller: Caller,
    *,
    role: Role | None = None,
    township_id: int | None = None,
    name: str | None = None,
    include_inactive: bool = False,
) -> list[Any]:
    clauses: list[Any] = scope_clauses(caller, User)
    if role is not None:
        clauses.append(User.role == role.value)
    if township_id is not None:
        clauses.append(User.township_id == township_id)
    if name:
        needle = name.lower()
        clauses.append(
            func.lower(User.username).contains(needle, autoescape=True)
            | func.lower(User.display_name).contains(needle, autoescape=True)
        )
    if not include_inactive:
        clauses.append(User.deactivated_at.is_(None))
    return clauses


def user_row(session: Session, caller: Caller, user_id: int) -> dict[str, Any]:
    return row_in_scope(session, caller, user_select(), User, user_id, "user")


def _get_user(session: Session, caller: Caller, user_id: int | None) -> User:
    return record_in_scope(session, caller, User, user_id, "user")


def _check_role_power(caller: Caller, role: Role, *, what: str) -> None:
    """Refuse at once an account role the caller may never handle (before anything about its township)."""
    if caller.role is Role.TOWNSHIP_LEADER and role not in LEADER_MANAGES:
        raise Forbidden(f"a {caller.role.label} may not {what} a {role.label} account")


def _check_manages(caller: Caller, role: Role, township_id: int | None, *, what: str) -> None:
    """What a caller may make of an account: administrators anything, leaders officers and viewers of their own."""
    if caller.role is Role.COUNTY_ADMIN:
        return
    if caller.role is Role.TOWNSHIP_LEADER and role in LEADER_MANAGES and township_id == caller.township_id:
        return
    raise Forbidden(
        f"a {caller.role.label} may not {what} a {role.label} account"
        + (" outside their township" if role in LEADER_MANAGES else ""),
    )


def _resolve_account_scope(
    session: Session, caller: Caller, role: Role, township_id: int | None, officer_id: int | None
) -> int | None:
    """Check that role, township and officer fit together; answer the account's township.

    Only a grid officer's account is linked to an officer: the link gives its scope (the officer's cells), and
    deactivating the officer deactivates it. Any other role linked to an officer would be ended, unchecked, with the
    officer; so no other role has one.
    """
    officer = None
    if officer_id is not None and role is not Role.GRID_OFFICER:
        raise RuleViolation(
            f"only a grid officer account is linked to an officer; a {role.label} account is not",
            code="officer-not-allowed",
            pointer="/officer_id",
        )
    if officer_id is not None:
        officer = session.scalar(select(Officer).where(Officer.id == officer_id, *scope_clauses(caller, Officer)))
        if officer is None:
            raise RuleViolation(
                f"there is no officer with id {officer_id}", code="officer-not-found", pointer="/officer_id"
            )
        if not officer.active:
            raise RuleViolation(f"officer {officer_id} is deactivated", code="officer-inactive", pointer="/officer_id")
    if role is Role.GRID_OFFICER:
        if officer is None:
            raise RuleViolation(
                "a grid officer account is linked to its officer: give officer_id",
                code="officer-required",
                pointer="/officer_id",
            )
        if township_id is not None and township_id != officer.township_id:
            raise RuleViolation(
                f"officer {officer.id} belongs to township {officer.township_id}, not {township_id}",
                code="township-mismatch",
                pointer="/township_id",
            )
        township_id = officer.township_id
    if role is Role.COUNTY_ADMIN and township_id is not None:
        raise RuleViolation(
            "a county administrator covers the whole county: leave township_id out",
            code="township-not-allowed",
            pointer="/township_id",
        )
    if role is Role.TOWNSHIP_LEADER and township_id is None:
        raise RuleViolation("a township leader needs a township_id", code="township-required", pointer="/township_id")
    if township_id is not None:
        township = session.scalar(select(Township).where(Township.id == township_id, *scope_clauses(caller, Township)))
        if township is None:
            raise RuleViolation(
                f"there is no township with id {township_id}", code="township-not-found", pointer="/township_id"
            )
        if township.retired_at is not None:
            raise RuleViolation(f"township {township.code} is retired", code="township-retired", pointer="/township_id")
    if officer is not None and township_id is not None and officer.township_id != township_id:
        raise RuleViolation(
            f"officer {officer.id} belongs to township {officer.township_id}, not {township_id}",
            code="township-mismatch",
            pointer="/officer_id",
        )
    return township_id


def create_user(
    session: Session,
    *,
    caller: Caller,
    username: str,
    display_name: str,
    password: str,
    role: Role,
    township_id: int | None = None,
    officer_id: int | None = None,
) -> User:
    """Create an account. A township leader creates grid officer and viewer accounts of their own township."""
    username = username.strip().lower()
    _check_role_power(caller, role, what="create")
    if caller.role is Role.TOWNSHIP_LEADER and township_id is None and role is not Role.GRID_OFFICER:
        township_id = caller.township_id  # a leader's viewers see the leader's township unless told otherwise
    check_password_policy(password, username)
    password_hash = hash_password(password)
    write_transaction(session, ACCOUNTS_LOCK)
    township_id = _resolve_account_scope(session, caller, role, township_id, officer_id)
    _check_manages(caller, role, township_id, what="create")
    _refuse_taken_username(session, caller, username)
    if officer_id is not None:
        _refuse_second_account(session, caller, officer_id, None)
    now = utcnow()
    user = User(
        username=username,
        display_name=display_name,
        password_hash=password_hash,
        role=role.value,
        township_id=township_id,
        officer_id=officer_id,
        created_at=now,
        updated_at=now,
        password_changed_at=now,
        failed_logins=0,
    )
    session.add(user)
    try:
        session.commit()
    except IntegrityError as exc:  # a write outside this code (the lock covers ours) took the name or the officer
        session.rollback()
        _refuse_taken_username(session, caller, username)
        if officer_id is not None:
            _refuse_second_account(session, caller, officer_id, None)
        raise exc
    return user


def _visible_id(session: Session, caller: Caller, user_id: int) -> dict[str, int]:
    """`existing_id` for a conflict, only when the caller may see that account (else it would tell them it exists)."""
    visible = session.scalar(select(User.id).where(User.id == user_id, *scope_clauses(caller, User)))
    return {"existing_id": user_id} if visible is not None else {}


def _refuse_taken_username(session: Session, caller: Caller, username: str) -> None:
    existing = session.scalar(select(User.id).where(User.username == username))
    if existing is not None:
        raise Conflict(
            f"the username {username!r} is taken", code="username-taken", **_visible_id(session, caller, existing)
        )


def _refuse_second_account(session: Session, caller: Caller, officer_id: int, user_id: int | None) -> None:
    other = session.scalar(
        select(User.id).where(User.officer_id == officer_id, User.deactivated_at.is_(None), User.id != (user_id or 0))
    )
    if other is not None:
        raise Conflict(
            f"officer {officer_id} already has an active account",
            code="officer-has-account",
            **_visible_id(session, caller, other),
        )


_UNSET: Any = object()


def update_user(
    session: Session,
    *,
    caller: Caller,
    user_id: int,
    expected_version: int | None,
    display_name: str | None = None,
    role: Role | None = None,
    township_id: int | None = _UNSET,
    officer_id: int | None = _UNSET,
) -> User:
    """Change an account's name, role, township or officer link; the result must be one the caller may make."""
    write_transaction(session, ACCOUNTS_LOCK)
    user = _get_user(session, caller, user_id)
    check_version(user, expected_version)
    if not user.active:
        raise Conflict(f"user {user.username} is deactivated", code="user-inactive")
    _check_manages(caller, Role(user.role), user.township_id, what="change")
    new_role = role or Role(user.role)
    _check_role_power(caller, new_role, what="make")
    new_officer = user.officer_id if officer_id is _UNSET else officer_id
    if officer_id is _UNSET and new_role is not Role.GRID_OFFICER:
        new_officer = None  # the link belongs to the grid officer role
    new_township = user.township_id if township_id is _UNSET else township_id
    if new_role is Role.COUNTY_ADMIN and township_id is _UNSET:
        new_township = None
    if new_role is Role.GRID_OFFICER and township_id is _UNSET:
        new_township = None  # follows the officer
    new_township = _resolve_account_scope(session, caller, new_role, new_township, new_officer)
    _check_manages(caller, new_role, new_township, what="make")
    if user.id == caller.user_id and new_role is not Role(user.role):
        raise Conflict("you cannot change your own role", code="own-role")
    if new_officer is not None and new_officer != user.officer_id:
        _refuse_second_account(session, caller, new_officer, user.id)
    if Role(user.role) is Role.COUNTY_ADMIN and new_role is not Role.COUNTY_ADMIN:
        _refuse_last_admin(session, user)
    if display_name is not None:
        user.display_name = display_name
    user.role, user.township_id, user.officer_id = new_role.value, new_township, new_officer
    if session.is_modified(user):
        user.updated_at = utcnow()
    commit_guarded(session)
    return user


def _refuse_last_admin(session: Session, user: User) -> None:
    others = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.COUNTY_ADMIN.value, User.deactivated_at.is_(None), User.id != user.id)
    )
    if not others:
        raise Conflict("this is the last active county administrator", code="last-admin")


def deactivate_user(session: Session, *, caller: Caller, user_id: int, expected_version: int | None) -> User:
    """Deactivate an account: it can no longer log in and its tokens stop working at once. Nothing is deleted."""
    write_transaction(session, ACCOUNTS_LOCK)
    user = _get_user(session, caller, user_id)
    if not user.active:
        return user  # deactivating twice is deactivating once
    check_version(user, expected_version)
    _check_manages(caller, Role(user.role), user.township_id, what="deactivate")
    if user.id == caller.user_id:
        raise Conflict("you cannot deactivate your own account", code="own-account")
    if user.role == Role.COUNTY_ADMIN.value:
        _refuse_last_admin(session, user)
    user.deactivated_at = user.updated_at = utcnow()
    revoke_sessions(session, user_id=user.id, reason="user-deactivated")
    commit_guarded(session)
    return user


def reset_password(
    session: Session, *, caller: Caller, user_id: int, expected_version: int | None, new_password: str
) -> User:
    """Set another user's password (they forgot theirs): their sessions end; the lock, if any, is lifted."""
    username = session.scalar(select(User.username).where(User.id == user_id, *scope_clauses(caller, User)))
    session.rollback()
    if username is None:
        raise NotFound(f"there is no user with id {user_id}")
    check_password_policy(new_password, username, pointer="/new_password")
    new_hash = hash_password(new_password)
    write_transaction(session, ACCOUNTS_LOCK)
    users = User.__table__
    session.execute(update(users).where(users.c.id == user_id).values(failed_logins=0, locked_until=None))
    user = _get_user(session, caller, user_id)
    check_version(user, expected_version)
    if not user.active:
        raise Conflict(f"user {user.username} is deactivated", code="user-inactive")
    _check_manages(caller, Role(user.role), user.township_id, what="reset the password of")
    user.password_hash, user.password_changed_at, user.updated_at = new_hash, utcnow(), utcnow()
    revoke_sessions(session, user_id=user.id, reason="password-reset")
    commit_guarded(session)
    return user


def deactivate_accounts_of_officer(session: Session, officer_id: int) -> None:
    """The officer has left: their (grid officer) account is deactivated and its sessions ended. Runs inside the
    caller's write, which holds ACCOUNTS_LOCK."""
    for user in session.scalars(select(User).where(User.officer_id == officer_id, User.deactivated_at.is_(None))):
        user.deactivated_at = user.updated_at = utcnow()
        revoke_sessions(session, user_id=user.id, reason="officer-deactivated")


def move_accounts_of_officer(session: Session, officer_id: int, township_id: int) -> None:
    """The officer moved to another township: their account's scope follows (inside the caller's write, which holds
    ACCOUNTS_LOCK), and so do the leaders who manage it."""
    for user in session.scalars(select(User).where(User.officer_id == officer_id, User.township_id != township_id)):
        user.township_id, user.updated_at = township_id, utcnow()
