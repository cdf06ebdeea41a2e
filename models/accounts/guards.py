"""What accounts do when an officer leaves or moves, or a department is retired (registered in lower guards)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import locks
from models.accounts.model import User
from models.accounts.tokens import revoke_sessions
from models.base import utcnow
from models.departments.guards import department_retiring
from models.errors import Conflict
from models.people.guards import officer_leaving, officer_moving
from models.roles import Caller


@officer_leaving.register(locks.accounts)
def deactivate_accounts_of_officer(session: Session, *, caller: Caller, officer_id: int) -> None:
    """The officer has left: their (grid officer) account is deactivated and its sessions ended."""
    for user in session.scalars(select(User).where(User.officer_id == officer_id, User.deactivated_at.is_(None))):
        user.deactivated_at = user.updated_at = utcnow()
        revoke_sessions(session, user_id=user.id, reason="officer-deactivated")


@officer_moving.register(locks.accounts)
def move_accounts_of_officer(session: Session, *, caller: Caller, officer_id: int, township_id: int) -> None:
    """The officer moved to another township: their account's scope follows, and so do the leaders who manage it."""
    for user in session.scalars(select(User).where(User.officer_id == officer_id, User.township_id != township_id)):
        user.township_id, user.updated_at = township_id, utcnow()


@department_retiring.register(locks.accounts)
def refuse_retiring_with_staff(session: Session, *, caller: Caller, department: Any) -> None:
    """A department with active staff accounts is not retired: move or deactivate them first."""
    staff = session.scalar(
        select(func.count()).where(User.department_id == department.id, User.deactivated_at.is_(None))
    )
    if staff:
        raise Conflict(
            f"department {department.code} still has {staff} active staff account(s): deactivate them or move them "
            "to another department first",
            code="department-has-staff",
        )
