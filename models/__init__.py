"""Mapped classes and the rules that belong to them. `models` never imports `api`."""

from models.accounts import AuthSession, AuthToken, User
from models.audit import AuditEvent
from models.base import Base
from models.people import GridAssignment, Officer
from models.territory import GridCell, Township, Village

__all__ = [
    "AuditEvent",
    "AuthSession",
    "AuthToken",
    "Base",
    "GridAssignment",
    "GridCell",
    "Officer",
    "Township",
    "User",
    "Village",
]
