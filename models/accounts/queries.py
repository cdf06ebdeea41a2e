"""Reading user accounts, within the caller's scope; never the secrets. Never commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.accounts.model import User
from models.listing import Listing
from models.roles import Caller, Role
from models.scope import row_in_scope, scope_clauses

SECRET_USER_COLUMNS = frozenset({"password_hash", "failed_logins"})  # never in an answer
USER_SELECT = select(*[c for c in User.__table__.columns if c.key not in SECRET_USER_COLUMNS])


def user_listing(
    *,
    caller: Caller,
    role: Role | None = None,
    township_id: int | None = None,
    name: str | None = None,
    include_inactive: bool = False,
) -> Listing:
    """Accounts in the caller's scope by username."""
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
    return Listing(USER_SELECT, tuple(clauses), (User.username,))


def user_row(session: Session, *, caller: Caller, user_id: int) -> dict[str, Any]:
    return row_in_scope(session, caller=caller, stmt=USER_SELECT, model=User, record_id=user_id, what="user")
