"""Writing user accounts: create, change, deactivate, reset a password. Each public function is one transaction.

Account writes are few: they take one lock (`models.locks.accounts`), so that "the username is free", "the officer
has no account" and "another administrator remains" cannot go stale between the check and the write (SQLite's
write lock does the same there).
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import locks
from models.accounts.model import User
from models.accounts.passwords import check_password_policy, hash_password
from models.accounts.tokens import revoke_sessions
from models.base import UNSET, check_version, commit_guarded, utcnow, write_transaction
from models.departments.model import Department
from models.errors import Conflict, Forbidden, NotFound, RuleViolation
from models.people.model import Officer
from models.roles import Caller, Role
from models.scope import existing_id_if_visible, record_in_scope, scope_clauses
from models.territory.model import Township

LEADER_MANAGES = frozenset({Role.GRID_OFFICER, Role.VIEWER})


def _get_user(session: Session, *, caller: Caller, user_id: int | None) -> User:
    return record_in_scope(session, caller=caller, model=User, record_id=user_id, what="user")


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
    if role in (Role.COUNTY_ADMIN, Role.DEPARTMENT_STAFF) and township_id is not None:
        raise RuleViolation(
            f"a {role.label} account covers the whole county: leave township_id out",
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


def _resolve_department(session: Session, role: Role, department_id: int | None) -> int | None:
    """Department staff belong to one active department; no other account has one."""
    if role is not Role.DEPARTMENT_STAFF:
        if department_id is not None:
            raise RuleViolation(
                f"only a department staff account belongs to a department; a {role.label} account does not",
                code="department-not-allowed",
                pointer="/department_id",
            )
        return None
    if department_id is None:
        raise RuleViolation(
            "a department staff account needs the department_id of its department",
            code="department-required",
            pointer="/department_id",
        )
    department = session.get(Department, department_id)
    if department is None:
        raise RuleViolation(
            f"there is no department with id {department_id}", code="department-not-found", pointer="/department_id"
        )
    if department.retired_at is not None:
        raise RuleViolation(
            f"department {department.code} is retired", code="department-retired", pointer="/department_id"
        )
    return department.id


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
    department_id: int | None = None,
) -> User:
    """Create an account. A township leader creates grid officer and viewer accounts of their own township."""
    username = username.strip().lower()
    _check_role_power(caller, role, what="create")
    if caller.role is Role.TOWNSHIP_LEADER and township_id is None and role is not Role.GRID_OFFICER:
        township_id = caller.township_id  # a leader's viewers see the leader's township unless told otherwise
    check_password_policy(password, username)
    password_hash = hash_password(password)
    write_transaction(session, locks.accounts())
    township_id = _resolve_account_scope(session, caller, role, township_id, officer_id)
    department_id = _resolve_department(session, role, department_id)
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
        department_id=department_id,
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


def _refuse_taken_username(session: Session, caller: Caller, username: str) -> None:
    existing = session.scalar(select(User.id).where(User.username == username))
    if existing is not None:
        raise Conflict(
            f"the username {username!r} is taken",
            code="username-taken",
            **existing_id_if_visible(session, caller=caller, model=User, record_id=existing),
        )


def _refuse_second_account(session: Session, caller: Caller, officer_id: int, user_id: int | None) -> None:
    other = session.scalar(
        select(User.id).where(User.officer_id == officer_id, User.deactivated_at.is_(None), User.id != (user_id or 0))
    )
    if other is not None:
        raise Conflict(
            f"officer {officer_id} already has an active account",
            code="officer-has-account",
            **existing_id_if_visible(session, caller=caller, model=User, record_id=other),
        )


def update_user(
    session: Session,
    *,
    caller: Caller,
    user_id: int,
    expected_version: int | None,
    display_name: str | None = None,
    role: Role | None = None,
    township_id: int | None = UNSET,
    officer_id: int | None = UNSET,
    department_id: int | None = UNSET,
) -> User:
    """Change an account's name, role, township, officer link or department; the result must be one the caller may
    make."""
    write_transaction(session, locks.accounts())
    user = _get_user(session, caller=caller, user_id=user_id)
    check_version(user, expected_version)
    if not user.active:
        raise Conflict(f"user {user.username} is deactivated", code="user-inactive")
    _check_manages(caller, Role(user.role), user.township_id, what="change")
    new_role = role or Role(user.role)
    _check_role_power(caller, new_role, what="make")
    new_officer = user.officer_id if officer_id is UNSET else officer_id
    if officer_id is UNSET and new_role is not Role.GRID_OFFICER:
        new_officer = None  # the link belongs to the grid officer role
    new_township = user.township_id if township_id is UNSET else township_id
    if new_role in (Role.COUNTY_ADMIN, Role.DEPARTMENT_STAFF) and township_id is UNSET:
        new_township = None
    if new_role is Role.GRID_OFFICER and township_id is UNSET:
        new_township = None  # follows the officer
    new_township = _resolve_account_scope(session, caller, new_role, new_township, new_officer)
    new_department = user.department_id if department_id is UNSET else department_id
    if department_id is UNSET and new_role is not Role.DEPARTMENT_STAFF:
        new_department = None  # the department belongs to the department staff role
    new_department = _resolve_department(session, new_role, new_department)
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
    user.department_id = new_department
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
    write_transaction(session, locks.accounts())
    user = _get_user(session, caller=caller, user_id=user_id)
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
    """Set another user's password (they forgot theirs): their sessions end; the lock, if any, is lifted.

    Never the caller's own: that needs the current password (`change_own_password`), or a stolen access token
    would be a stolen account.
    """
    if caller.user_id is not None and user_id == caller.user_id:
        _check_role_power(caller, caller.role, what="reset the password of")  # a leader: 403, as for another leader
        raise Conflict(
            "you cannot reset your own password: change it with POST /api/v1/auth/password, which asks for the "
            "current one",
            code="own-password",
        )
    username = session.scalar(select(User.username).where(User.id == user_id, *scope_clauses(caller, User)))
    session.rollback()
    if username is None:
        raise NotFound(f"there is no user with id {user_id}")
    check_password_policy(new_password, username, pointer="/new_password")
    new_hash = hash_password(new_password)
    write_transaction(session, locks.accounts())
    users = User.__table__
    session.execute(update(users).where(users.c.id == user_id).values(failed_logins=0, locked_until=None))
    user = _get_user(session, caller=caller, user_id=user_id)
    check_version(user, expected_version)
    if not user.active:
        raise Conflict(f"user {user.username} is deactivated", code="user-inactive")
    _check_manages(caller, Role(user.role), user.township_id, what="reset the password of")
    user.password_hash, user.password_changed_at, user.updated_at = new_hash, utcnow(), utcnow()
    revoke_sessions(session, user_id=user.id, reason="password-reset")
    commit_guarded(session)
    return user


def reset_password_of(session: Session, *, caller: Caller, username: str, new_password: str) -> User:
    """`reset_password` for the account named `username` (case-insensitive), whatever its version: the command
    line's way in, for an administrator who forgot their own password and can no longer log in."""
    user_id = session.scalar(
        select(User.id).where(User.username == username.strip().lower(), *scope_clauses(caller, User))
    )
    session.rollback()
    if user_id is None:
        raise NotFound(f"there is no user named {username!r}")
    return reset_password(session, caller=caller, user_id=user_id, expected_version=None, new_password=new_password)
